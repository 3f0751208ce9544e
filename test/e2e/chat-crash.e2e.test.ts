/**
 * A reply being written when the app is killed: after a restart the Chat panel shows it as
 * interrupted, with the text that was saved, and Retry writes a new one beside it.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serve, watchPage, type Served } from '../helpers/browser.js';
import { writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

let dataDir: string;
let served: Served | null = null;
let browser: Browser;
let page: Page;
let problems: string[];
let loopingPath: string;

beforeAll(async () => {
  dataDir = tempDir('emergent-chat-crash-');
  loopingPath = await writeBigramModel('ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc', 'looping', 4096);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  problems = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const lastMessage = () => page.locator('article.message').last();

describe('a reply cut off by a crash', () => {
  it('shows as interrupted with its saved text after a restart, and Retry writes a new one', async () => {
    served = await serve(dataDir);
    await page.goto(served.address);
    await page.getByRole('button', { name: /New chat/ }).click();
    await page.locator('button.picker').click();
    await page.getByLabel('Add a model file (path to a .gguf)').fill(loopingPath);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('button.picker', { hasText: 'looping' }).waitFor();
    await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
    await page.getByLabel('Temperature').fill('0');
    await page.getByLabel('Max tokens').fill('100000');
    await page.getByLabel('Max tokens').press('Tab');
    await page.getByRole('button', { name: 'Close the settings' }).click();
    const composer = page.getByRole('textbox', { name: 'Message', exact: true });
    await composer.fill('ab');
    await composer.press('Enter');
    await expect.poll(async () => (await lastMessage().locator('.content').innerText()).length, { timeout: 30_000 }).toBeGreaterThan(200);
    // More than one 250 ms write batch has reached the store.
    await page.waitForTimeout(600);
    await served.kill();
    served = null;

    served = await serve(dataDir);
    await page.goto(served.address);
    await page.getByRole('navigation', { name: 'Conversations' }).getByText('ab', { exact: true }).click();
    const reply = lastMessage();
    await reply.getByText('Interrupted', { exact: true }).waitFor();
    const saved = await reply.locator('.content').innerText();
    expect(saved).toMatch(/^(ab ?)+$/);
    expect(saved.length).toBeGreaterThan(50);

    // Retry: a new reply beside the interrupted one, which is kept.
    await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
    await page.getByLabel('Max tokens').fill('20');
    await page.getByLabel('Max tokens').press('Tab');
    await page.getByRole('button', { name: 'Close the settings' }).click();
    await reply.getByRole('button', { name: 'Retry' }).click();
    await lastMessage().getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => lastMessage().getByRole('group', { name: 'Versions of this message' }).innerText()).toMatch(/2\s*\/\s*2/);
    await lastMessage().getByRole('button', { name: 'Previous version' }).click();
    await lastMessage().getByText('Interrupted', { exact: true }).waitFor();
    expect(await lastMessage().locator('.content').innerText()).toBe(saved);
    expect(problems.filter((problem) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(problem))).toEqual([]);
  });
});
