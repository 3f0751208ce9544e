/**
 * `emergent chat` as a person uses it, in a real child process on a real model: lines in,
 * streamed replies out, Ctrl+C (SIGINT) stopping a reply, and the conversation in the store.
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../electron/core/store/store.js';
import { BIN } from '../helpers/cli.js';
import { writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat.\n';
const LOOPING_CORPUS = 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc';

let modelPath: string;
let loopingPath: string;

beforeAll(async () => {
  modelPath = await writeBigramModel(CORPUS, 'cats');
  loopingPath = await writeBigramModel(LOOPING_CORPUS, 'looping', 4096);
});

function startChat(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'chat', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const waitFor = async (what: () => boolean, label: string) => {
    const deadline = Date.now() + 60_000;
    while (!what()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, exited, waitFor, stdout: () => stdout, stderr: () => stderr };
}

async function conversationsIn(dataDir: string) {
  const store = await Store.open(dataDir);
  try {
    const { periods } = store.conversations.list();
    return periods.flatMap((period) => period.conversations).map((summary) => ({
      conversation: store.conversations.get(summary.id),
      path: store.conversations.activePath(summary.id),
    }));
  } finally {
    store.close();
  }
}

describe('emergent chat', () => {
  it('streams replies to piped lines and saves the conversation with its system prompt', async () => {
    const dataDir = tempDir();
    const chat = startChat(['--model', modelPath, '--system', 'be brief.', '--temperature', '0', '--max-tokens', '12', '--data-dir', dataDir]);
    chat.child.stdin.end('the cat\n/regen\nand the dog\n');
    expect(await chat.exited).toBe(0);
    expect(chat.stderr()).toMatch(/cats: [\d,]+ tokens of context/);
    expect(chat.stderr()).toMatch(/Saved as conversation /);

    const [saved, ...others] = await conversationsIn(dataDir);
    expect(others).toEqual([]);
    expect(saved?.conversation).toMatchObject({ systemPrompt: 'be brief.', title: 'the cat', sampling: { temperature: 0, maxTokens: 12 } });
    const path = saved?.path ?? [];
    expect(path.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(path[0]?.content).toBe('the cat');
    // /regen made a second reply to the first message; the shown one is the newer.
    expect(path[1]).toMatchObject({ siblingIndex: 1, siblingCount: 2 });
    // Every reply printed is the one saved.
    const replies = path.filter((message) => message.role === 'assistant').map((message) => message.content);
    for (const reply of replies) expect(chat.stdout()).toContain(reply);
  });

  it('Ctrl+C stops the reply and keeps its text; Ctrl+C at the prompt leaves', async () => {
    const dataDir = tempDir();
    const chat = startChat(['--model', loopingPath, '--temperature', '0', '--max-tokens', '100000', '--data-dir', dataDir]);
    await chat.waitFor(() => chat.stderr().includes('/help for commands'), 'the model to load');
    chat.child.stdin.write('ab\n');
    await chat.waitFor(() => chat.stdout().length > 40, 'the reply to stream');
    chat.child.kill('SIGINT');
    await chat.waitFor(() => /stopped\]/.test(chat.stderr()), 'the reply to stop');
    // Still running: the second Ctrl+C, at the prompt, ends it.
    expect(chat.child.exitCode).toBeNull();
    chat.child.kill('SIGINT');
    expect(await chat.exited).toBe(0);

    const [saved] = await conversationsIn(dataDir);
    const reply = saved?.path.at(-1);
    expect(reply?.run?.status).toBe('cancelled');
    expect(reply?.content.length).toBeGreaterThan(40);
    expect(chat.stdout()).toContain(reply?.content ?? '∅');
  });

  it('refuses to start without a model, with the code and what to do', async () => {
    const chat = startChat(['--data-dir', tempDir()]);
    chat.child.stdin.end();
    // 2: a usage error, as for every command.
    expect(await chat.exited).toBe(2);
    expect(chat.stderr()).toMatch(/^error INVALID_INPUT: --model FILE is required/m);
  });
});
