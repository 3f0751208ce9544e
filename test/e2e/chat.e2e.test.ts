/**
 * The Chat panel in a real Chromium against `emergent serve`, with the real engine on models
 * this test builds: the reply on screen is checked against the bigram oracle, and every step
 * (stop, regenerate, branch, edit, reload, search, delete and undo, export, hostile markdown,
 * a full context) is checked on screen and, where it matters, in the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigramGreedyChain } from '../../electron/core/models/bigram-model.js';
import { launchChromium, serve, watchPage, type Served } from '../helpers/browser.js';
import { writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat. a hat is on the cat and the dog has a bone.\nwhat a day it is!\n';
const LOOPING_CORPUS = 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc';
const MAX_TOKENS = 40;

let dataDir: string;
let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
const remoteRequests: string[] = [];
let modelPath: string;
let loopingPath: string;
let tinyPath: string;

beforeAll(async () => {
  dataDir = tempDir('emergent-chat-e2e-');
  modelPath = await writeBigramModel(CORPUS, 'animals');
  loopingPath = await writeBigramModel(LOOPING_CORPUS, 'looping', 4096);
  tinyPath = await writeBigramModel(CORPUS, 'tiny-context', 96);
  served = await serve(dataDir);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  problems = watchPage(page);
  const origin = new URL(served.address).origin;
  page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) remoteRequests.push(request.url());
  });
  await page.goto(served.address);
  await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  if (served) expect(await served.stop()).toBe(0);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const composer = () => page.getByRole('textbox', { name: 'Message', exact: true });
const messages = () => page.locator('article.message');
const lastMessage = () => messages().last();
const messageText = (message: Locator) => message.locator('.content, .plain').first().innerText();

/** Adds a model file through the picker and chooses it for the conversation on screen. */
async function chooseModel(file: string, name: string): Promise<void> {
  await page.locator('button.picker').click();
  const menu = page.getByRole('dialog', { name: 'Models' });
  await menu.waitFor();
  const existing = menu.getByRole('button', { name: new RegExp(`^${name}\\b`) });
  if ((await existing.count()) === 0) {
    // Adding a file also chooses it.
    await menu.getByLabel('Add a model file (path to a .gguf)').fill(file);
    await menu.getByRole('button', { name: 'Add', exact: true }).click();
  } else {
    await existing.first().click();
  }
  await page.locator('button.picker', { hasText: name }).waitFor();
}

/** Opens the settings drawer and sets greedy decoding and a reply length. */
async function greedySettings(maxTokens: number, overflow?: 'shift' | 'stop'): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Settings', exact: true }).last();
  if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click();
  const drawer = page.locator('#chat-settings');
  await drawer.getByLabel('Temperature', { exact: true }).fill('0');
  await drawer.getByLabel('Temperature', { exact: true }).press('Tab');
  await drawer.getByLabel('Repeat penalty').fill('1');
  await drawer.getByLabel('Repeat penalty').press('Tab');
  await drawer.getByLabel('Max tokens').fill(String(maxTokens));
  await drawer.getByLabel('Max tokens').press('Tab');
  if (overflow) await drawer.getByRole('radio', { name: overflow === 'shift' ? /Shift/ : /Stop/ }).check();
  await drawer.getByRole('button', { name: 'Close the settings' }).click();
}

async function newChat(): Promise<void> {
  await page.getByRole('button', { name: /New chat/ }).click();
  await expect.poll(() => composer().evaluate((element) => element === document.activeElement)).toBe(true);
}

/**
 * Waits until the last reply is written: a message shows its actions only once it is saved
 * (not while it is being sent, started or streamed).
 */
async function replyFinished(): Promise<void> {
  await page.getByRole('button', { name: 'Send', exact: true }).waitFor({ timeout: 60_000 });
  await lastMessage().getByRole('button', { name: /^(Regenerate|Retry)$/ }).waitFor({ timeout: 60_000 });
  await expect.poll(() => lastMessage().getAttribute('aria-busy')).not.toBe('true');
}

describe('the Chat panel', () => {
  it('sends with Enter and streams the model’s greedy reply, then shows its details', async () => {
    await newChat();
    await chooseModel(modelPath, 'animals');
    await greedySettings(MAX_TOKENS);
    await composer().fill('the cat');
    await composer().press('Enter');
    await replyFinished();
    expect(await messages().count()).toBe(2);
    expect(await messageText(messages().first())).toBe('the cat');
    // The template ends "assistant: ": a bigram model's greedy reply follows from that space.
    const expected = bigramGreedyChain(CORPUS, ' ', MAX_TOKENS);
    expect((await messageText(lastMessage())).replace(/\s+/gu, ' ').trim()).toBe(expected.replace(/\s+/gu, ' ').trim());
    // Tokens per second and the stop reason are on the reply.
    expect(await lastMessage().innerText()).toMatch(/tok\/s/);
    // The conversation took its title from the first message.
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('the cat', { exact: true }).waitFor();
  });

  it('regenerates into a sibling and moves between the versions with ‹ ›', async () => {
    await lastMessage().getByRole('button', { name: 'Regenerate' }).click();
    await replyFinished();
    const versions = lastMessage().getByRole('group', { name: 'Versions of this message' });
    await expect.poll(() => versions.innerText()).toMatch(/2\s*\/\s*2/);
    await versions.getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => lastMessage().getByRole('group', { name: 'Versions of this message' }).innerText()).toMatch(/1\s*\/\s*2/);
  });

  it('edits the person’s message into a branch with its own reply, and Up edits the last message', async () => {
    await composer().click();
    await composer().press('ArrowUp');
    const editor = messages().first().getByRole('textbox', { name: 'Edit the message' });
    await editor.waitFor();
    await editor.fill('what a day');
    await messages().first().getByRole('button', { name: /^Save/ }).click();
    await expect.poll(() => messageText(messages().first())).toBe('what a day');
    await replyFinished();
    await expect.poll(() => messages().first().getByRole('group', { name: 'Versions of this message' }).innerText()).toMatch(/2\s*\/\s*2/);
  });

  it('keeps the conversation, its branches and the version on screen across a reload', async () => {
    const before = await messages().allInnerTexts();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await expect.poll(() => messages().count()).toBe(before.length);
    expect(await messages().allInnerTexts()).toEqual(before);
  });

  it('stops a reply with Esc and keeps what was written', async () => {
    await newChat();
    await chooseModel(loopingPath, 'looping');
    await greedySettings(100_000);
    await composer().fill('ab');
    await composer().press('Enter');
    await page.getByRole('button', { name: 'Stop', exact: true }).waitFor();
    await expect.poll(async () => (await lastMessage().innerText()).length, { timeout: 30_000 }).toBeGreaterThan(40);
    await composer().press('Escape');
    await replyFinished();
    const kept = await messageText(lastMessage());
    expect(kept).toMatch(/^(ab ?)+/);
    // The same text after a reload: it is in the store, not only on screen.
    await page.reload();
    await expect.poll(() => messageText(lastMessage())).toBe(kept);
  });

  it('finds a message with Ctrl+K and opens its conversation', async () => {
    await page.keyboard.press('ControlOrMeta+k');
    const dialog = page.getByRole('dialog', { name: 'Search conversations' });
    await dialog.getByRole('searchbox', { name: 'Search all messages' }).fill('what');
    const hit = dialog.locator('button.hit').first();
    await hit.waitFor();
    expect(await hit.locator('mark').first().innerText()).toBe('what');
    await hit.click();
    await expect.poll(() => messageText(messages().first())).toBe('what a day');
  });

  it('deletes a conversation to the trash and brings it back with Undo', async () => {
    const list = page.getByRole('navigation', { name: 'Conversations' });
    // The conversation kept the title its first message gave it.
    await list.getByText('the cat', { exact: true }).hover();
    await list.getByRole('button', { name: 'Delete “the cat”' }).click();
    await expect.poll(() => list.getByText('the cat', { exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await list.getByText('the cat', { exact: true }).waitFor();
  });

  it('exports the conversation as Markdown', async () => {
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('the cat', { exact: true }).click();
    await expect.poll(() => messageText(messages().first())).toBe('what a day');
    await page.getByRole('button', { name: 'Export' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Markdown (.md)' }).click()]);
    const file = path.join(dataDir, 'export.md');
    await download.saveAs(file);
    const markdown = fs.readFileSync(file, 'utf8');
    expect(markdown).toMatch(/^# the cat$/m);
    expect(markdown).toContain('## User');
    expect(markdown).toContain('what a day');
  });

  it('renders hostile model output inertly: no script, no dialog, no remote request', async () => {
    const hostile = [
      '<img src=x onerror="alert(1)"> <script>alert(2)</script>',
      '![pixel](https://evil.example/pixel.png) [click](javascript:alert(3))',
      '<iframe src="https://evil.example/"></iframe><svg onload="alert(4)"></svg>',
      '```js\nalert(5)\n```',
    ].join('\n\n');
    const reply = lastMessage();
    await reply.getByRole('button', { name: 'Edit' }).click();
    await reply.getByRole('textbox', { name: 'Edit the message' }).fill(hostile);
    await reply.getByRole('button', { name: /^Save/ }).click();
    await lastMessage().locator('pre code').waitFor();
    const content = lastMessage().locator('.content');
    expect(await content.locator('script, iframe, [onerror], [onload]').count()).toBe(0);
    expect(await content.locator('img[src^="http"], a[href^="javascript:"]').count()).toBe(0);
    expect(await content.innerText()).toContain('alert(5)');
    await page.waitForTimeout(300);
    expect(remoteRequests).toEqual([]);
    expect(problems.filter((problem) => problem.startsWith('dialog'))).toEqual([]);
  });

  it('says clearly when the conversation fills the context, and the app goes on', async () => {
    await newChat();
    await chooseModel(tinyPath, 'tiny-context');
    await greedySettings(16, 'stop');
    await composer().fill('the cat sat on the mat and the ');
    await composer().press('Enter');
    await replyFinished();
    await composer().fill('the cat sat on the mat and the ');
    await composer().press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/CONTEXT_FULL|context/i);
    // The draft is kept, and nothing was added.
    expect(await composer().inputValue()).toBe('the cat sat on the mat and the ');
    expect(await messages().count()).toBe(2);
  });

  it('saves a system prompt and sampling as a preset, and a new chat takes them from it', async () => {
    await newChat();
    const toggle = page.getByRole('button', { name: 'Settings', exact: true }).last();
    if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click();
    const drawer = page.locator('#chat-settings');
    await drawer.getByLabel('System prompt', { exact: true }).fill('Answer in one short line.');
    await drawer.getByLabel('System prompt', { exact: true }).press('Tab');
    await drawer.getByLabel('Temperature', { exact: true }).fill('0.3');
    await drawer.getByLabel('Temperature', { exact: true }).press('Tab');
    await drawer.getByRole('button', { name: 'Save as preset…' }).click();
    await drawer.getByLabel('Name of the new preset').fill('Terse');
    await drawer.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => drawer.getByRole('combobox', { name: 'Preset' }).locator('option:checked').innerText()).toBe('Terse');

    // Reset, then choose the preset: both come back.
    await drawer.getByRole('button', { name: 'Reset to defaults' }).click();
    await expect.poll(() => drawer.getByLabel('Temperature', { exact: true }).inputValue()).toBe('0.8');
    await drawer.getByRole('combobox', { name: 'Preset' }).selectOption({ label: 'Terse' });
    await expect.poll(() => drawer.getByLabel('Temperature', { exact: true }).inputValue()).toBe('0.3');
    expect(await drawer.getByLabel('System prompt', { exact: true }).inputValue()).toBe('Answer in one short line.');
    // Saved in the store: still there after a reload.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    if ((await page.getByRole('button', { name: 'Settings', exact: true }).last().getAttribute('aria-pressed')) !== 'true') {
      await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
    }
    await page.locator('#chat-settings').getByRole('combobox', { name: 'Preset' }).locator('option', { hasText: 'Terse' }).waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Close the settings' }).click();
  });

  it('starts a new chat with Ctrl+N and has no console errors throughout', async () => {
    await page.keyboard.press('ControlOrMeta+n');
    await expect.poll(() => messages().count()).toBe(0);
    expect(problems.filter((problem) => !problem.startsWith('dialog'))).toEqual([]);
  });
});
