/**
 * Chat through the contract on real llama.cpp: messages, replies, branches and the context
 * policy, with the store checked after every step. The bigram test model's greedy reply
 * depends only on the last character before it, so continuing a reply is checked exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractClient } from '../../electron/common/client.js';
import type { EventPayload } from '../../electron/common/contract.js';
import { createMemoryTransport } from '../../electron/common/memory-transport.js';
import { bigramGreedyChain } from '../../electron/core/models/bigram-model.js';
import { createService, type Service } from '../../electron/core/service.js';
import { GREEDY, writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat. a hat is on the cat and the dog has a bone.\nwhat a day it is!\n';
/** Greedy decoding loops forever ("ab ab ab ..."): a reply that must be stopped. */
const LOOPING_CORPUS = 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc';

type RunEnd = { done: EventPayload<'run.done'> | null; error: EventPayload<'run.error'> | null; streamed: string };

let service: Service;
let client: ContractClient;
let modelPath: string;
let loopingPath: string;
let tinyContextPath: string;
/** Every run's events, kept from before its id is known (they may arrive first). */
const runs = new Map<string, { end: RunEnd; settled: Promise<RunEnd>; settle: (end: RunEnd) => void }>();

function runRecord(runId: string) {
  let record = runs.get(runId);
  if (!record) {
    let settle: (end: RunEnd) => void = () => {};
    const settled = new Promise<RunEnd>((resolve) => (settle = resolve));
    record = { end: { done: null, error: null, streamed: '' }, settled, settle };
    runs.set(runId, record);
  }
  return record;
}

const runEnd = (runId: string) => runRecord(runId).settled;

beforeAll(async () => {
  service = await createService({ dataDir: tempDir(), shell: 'headless', engine: { gpu: false, log: () => {} } });
  client = new ContractClient(createMemoryTransport(service.implementation, service.events));
  client.on('run.delta', ({ runId, text }) => {
    runRecord(runId).end.streamed += text;
  });
  client.on('run.done', (done) => {
    const record = runRecord(done.runId);
    record.end.done = done;
    record.settle(record.end);
  });
  client.on('run.error', (error) => {
    const record = runRecord(error.runId);
    record.end.error = error;
    record.settle(record.end);
  });
  modelPath = await writeBigramModel(CORPUS, 'animals');
  loopingPath = await writeBigramModel(LOOPING_CORPUS, 'looping', 4096);
  tinyContextPath = await writeBigramModel(CORPUS, 'tiny-context', 96);
});

afterAll(async () => {
  await service.dispose();
});

async function conversationOn(model: string, settings: { maxTokens?: number } = {}, extra: { systemPrompt?: string; contextOverflow?: 'shift' | 'stop' } = {}) {
  const conversation = await client.call('conversations.create', {});
  await client.call('conversations.configure', { id: conversation.id, modelPath: model, sampling: { ...GREEDY, ...settings }, ...extra });
  return conversation.id;
}

describe('chat', () => {
  it('sends, streams the reply into the store, and titles the conversation', async () => {
    const id = await conversationOn(modelPath, { maxTokens: 30 }, { systemPrompt: 'be brief.' });
    const turn = await client.call('chat.send', { conversationId: id, content: 'tell me about the cat' });
    expect(turn.userMessage).toMatchObject({ role: 'user', content: 'tell me about the cat', parentId: null });
    expect(turn.assistantMessage).toMatchObject({ role: 'assistant', content: '', parentId: turn.userMessage.id, modelId: turn.modelId });
    expect(turn.droppedMessages).toBe(0);
    const end = await runEnd(turn.runId);
    expect(end.error).toBeNull();
    expect(end.done?.text.length).toBeGreaterThan(0);
    expect(end.streamed).toBe(end.done?.text);

    const { conversation, path } = await client.call('conversations.get', { id });
    expect(conversation.title).toBe('tell me about the cat');
    expect(path.map((message) => [message.role, message.content])).toEqual([
      ['user', 'tell me about the cat'],
      ['assistant', end.done?.text],
    ]);
    const reply = path[1];
    expect(reply?.run).toMatchObject({ id: turn.runId, status: 'done', metrics: { stopReason: end.done?.stopReason, generatedTokens: end.done?.metrics.generatedTokens } });
    expect(reply?.run?.parameters).toMatchObject({ maxTokens: 30, sampling: { temperature: 0 } });
    // What the model was sent: the system prompt, then the message.
    const input: unknown = JSON.parse(service.store.runs.get(turn.runId)?.input ?? '[]');
    expect(input).toEqual([
      { role: 'system', content: 'be brief.' },
      { role: 'user', content: 'tell me about the cat' },
    ]);
    // The reply is searchable once written.
    const { hits } = await client.call('search.query', { text: 'tell', kinds: ['message'] });
    expect(hits.map((hit) => hit.id)).toContain(turn.userMessage.id);
  });

  it('regenerates beside a reply, edits into a branch, and navigates between them', async () => {
    const id = await conversationOn(modelPath, { maxTokens: 12 });
    const first = await client.call('chat.send', { conversationId: id, content: 'the dog' });
    await runEnd(first.runId);
    const again = await client.call('chat.regenerate', { conversationId: id, messageId: first.assistantMessage.id });
    await runEnd(again.runId);
    expect(again.assistantMessage.parentId).toBe(first.userMessage.id);
    let { path } = await client.call('conversations.get', { id });
    expect(path.at(-1)).toMatchObject({ id: again.assistantMessage.id, siblingIndex: 1, siblingCount: 2 });
    // Greedy decoding of the same input: the same text, kept twice.
    expect(path.at(-1)?.content).toBe((await client.call('conversations.siblings', { conversationId: id, messageId: first.assistantMessage.id })).messages[0]?.content);

    ({ path } = await client.call('conversations.setActiveLeaf', { conversationId: id, messageId: first.assistantMessage.id }));
    expect(path.at(-1)).toMatchObject({ id: first.assistantMessage.id, siblingIndex: 0, siblingCount: 2 });

    const edited = await client.call('chat.edit', { conversationId: id, messageId: first.userMessage.id, content: 'what a day' });
    expect(edited.message).toMatchObject({ role: 'user', content: 'what a day', parentId: null });
    expect(edited.reply).not.toBeNull();
    await runEnd(edited.reply?.runId ?? '');
    ({ path } = await client.call('conversations.get', { id }));
    expect(path.map((message) => message.content)[0]).toBe('what a day');
    expect(path[0]).toMatchObject({ siblingIndex: 1, siblingCount: 2 });
    expect(path).toHaveLength(2);

    // An edited reply is a correction: a sibling with the new text and no run.
    const corrected = await client.call('chat.edit', { conversationId: id, messageId: path[1]?.id ?? '', content: 'a better answer' });
    expect(corrected.reply).toBeNull();
    ({ path } = await client.call('conversations.get', { id }));
    expect(path.at(-1)).toMatchObject({ content: 'a better answer', siblingIndex: 1, siblingCount: 2, run: null });
  });

  it('continues a reply from where its text ends', async () => {
    const id = await conversationOn(modelPath, { maxTokens: 8 });
    const first = await client.call('chat.send', { conversationId: id, content: 'the cat' });
    await runEnd(first.runId);
    const corrected = await client.call('chat.edit', { conversationId: id, messageId: first.assistantMessage.id, content: 'the d' });
    const continued = await client.call('chat.continue', { conversationId: id, messageId: corrected.message.id });
    const end = await runEnd(continued.runId);
    // The model saw "... assistant: the d" left open: the bigram chain goes on from "d".
    expect(end.done?.text).toBe(bigramGreedyChain(CORPUS, 'the d', 8));
    const { path } = await client.call('conversations.get', { id });
    expect(path.at(-1)).toMatchObject({ id: continued.assistantMessage.id, content: `the d${end.done?.text ?? ''}`, siblingCount: 3 });
  });

  it('stops a reply on request, keeping its text', async () => {
    const id = await conversationOn(loopingPath, { maxTokens: 4000 });
    const turn = await client.call('chat.send', { conversationId: id, content: 'ab' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await client.call('runs.cancel', { runId: turn.runId })).toEqual({ cancelled: true });
    const end = await runEnd(turn.runId);
    expect(end.done?.stopReason).toBe('cancelled');
    // A stopped reply keeps its measurements, not zeros.
    expect(end.done?.metrics.generatedTokens).toBe(end.done?.text.length);
    expect(end.done?.metrics.tokensPerSecond).toBeGreaterThan(0);
    expect(end.done?.metrics.timeToFirstTokenMs).not.toBeNull();
    const { path } = await client.call('conversations.get', { id });
    expect(path.at(-1)?.run?.metrics).toMatchObject({ generatedTokens: end.done?.metrics.generatedTokens, stopReason: 'cancelled' });
    expect(path.at(-1)?.content).toBe(end.done?.text);
    expect(path.at(-1)?.run?.status).toBe('cancelled');
  });

  it('applies the overflow policy when the context fills, and never crashes', async () => {
    const long = 'the cat sat on the mat and the ';
    const stopId = await conversationOn(tinyContextPath, { maxTokens: 16 }, { contextOverflow: 'stop', systemPrompt: 'be kind.' });
    const first = await client.call('chat.send', { conversationId: stopId, content: long });
    await runEnd(first.runId);
    const refused = await client.tryCall('chat.send', { conversationId: stopId, content: long });
    expect(refused).toMatchObject({ ok: false, error: { code: 'CONTEXT_FULL' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/Shift/);
    // Nothing was added by the refusal.
    expect((await client.call('conversations.get', { id: stopId })).path).toHaveLength(2);

    const shiftId = await conversationOn(tinyContextPath, { maxTokens: 16 }, { contextOverflow: 'shift', systemPrompt: 'be kind.' });
    const opening = await client.call('chat.send', { conversationId: shiftId, content: long });
    await runEnd(opening.runId);
    const shifted = await client.call('chat.send', { conversationId: shiftId, content: 'and the dog?' });
    expect(shifted.droppedMessages).toBeGreaterThan(0);
    const end = await runEnd(shifted.runId);
    expect(end.error).toBeNull();
    const sent = JSON.parse(service.store.runs.get(shifted.runId)?.input ?? '[]') as { role: string; content: string }[];
    expect(sent[0]).toEqual({ role: 'system', content: 'be kind.' });
    expect(sent.at(-1)).toEqual({ role: 'user', content: 'and the dog?' });
    expect(sent.map((message) => message.content)).not.toContain(long);
    // The store keeps every message, dropped or not.
    expect((await client.call('conversations.get', { id: shiftId })).path).toHaveLength(4);

    // A single message larger than the whole context is refused with what to do.
    const huge = await client.tryCall('chat.send', { conversationId: shiftId, content: long.repeat(4) });
    expect(huge).toMatchObject({ ok: false, error: { code: 'CONTEXT_TOO_LARGE' } });
  });

  it('shifts a 3,000-message conversation into the context in a few counts', async () => {
    const id = await conversationOn(tinyContextPath, { maxTokens: 8 }, { contextOverflow: 'shift' });
    let parentId: string | null = null;
    service.store.transaction(() => {
      for (let i = 0; i < 1500; i++) {
        parentId = service.store.conversations.addMessage({ conversationId: id, parentId, role: 'user', content: `the cat ${i}` }).id;
        parentId = service.store.conversations.addMessage({ conversationId: id, parentId, role: 'assistant', content: 'sat on the mat.' }).id;
      }
    });
    const started = performance.now();
    const turn = await client.call('chat.send', { conversationId: id, content: 'and the dog?' });
    const end = await runEnd(turn.runId);
    expect(end.error).toBeNull();
    // Only whole turns are left out, and only as many as needed: the kept part starts with a
    // person's message and one more turn would not have fitted.
    const sent = JSON.parse(service.store.runs.get(turn.runId)?.input ?? '[]') as { role: string; content: string }[];
    expect(sent[0]?.role).toBe('user');
    expect(sent.at(-1)).toEqual({ role: 'user', content: 'and the dog?' });
    expect(turn.droppedMessages).toBe(3000 - (sent.length - 1));
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('counts the context a draft would use, without loading a model', async () => {
    const id = await conversationOn(modelPath, { maxTokens: 20 });
    const before = await client.call('chat.contextUsage', { conversationId: id, draft: 'the cat' });
    expect(before.contextSize).not.toBeNull();
    const longer = await client.call('chat.contextUsage', { conversationId: id, draft: 'the cat and the dog' });
    // One token per character in the test model.
    expect((longer.tokens ?? 0) - (before.tokens ?? 0)).toBe(' and the dog'.length);
    expect(longer.reserved).toBe(20);

    const unloaded = await conversationOn(await writeBigramModel(CORPUS, 'never-loaded'));
    expect(await client.call('chat.contextUsage', { conversationId: unloaded, draft: 'x' })).toEqual({ tokens: null, contextSize: null, reserved: null, modelId: null });
  });

  it('refuses clearly without a model, an unknown message, or a reply to continue that has no text', async () => {
    const conversation = await client.call('conversations.create', {});
    expect(await client.tryCall('chat.send', { conversationId: conversation.id, content: 'hello' })).toMatchObject({ ok: false, error: { code: 'NO_MODEL_CHOSEN' } });
    expect((await client.call('conversations.get', { id: conversation.id })).path).toEqual([]);
    expect(await client.tryCall('chat.regenerate', { conversationId: conversation.id, messageId: 'nope' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await client.tryCall('chat.send', { conversationId: conversation.id, content: '' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('lists the demo model in the library and adds a file', async () => {
    const library = await client.call('models.library', {});
    expect(library.some((model) => model.metadata['demo'] === true && model.present)).toBe(true);
    const added = await client.call('models.add', { path: modelPath });
    expect(added).toMatchObject({ name: 'animals', present: true, metadata: { architecture: 'llama' } });
    expect(await client.tryCall('models.add', { path: '/no/such.gguf' })).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_FOUND' } });
  });
});
