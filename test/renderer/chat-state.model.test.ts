/**
 * The chat panel's state with replies written by real llama.cpp (tiny bigram models) through the
 * real core: a new chat saved by its first message, streamed text held until the next frame,
 * Stop keeping the partial reply, regenerate / edit / continue as branches, and the context
 * meter counting with the loaded model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractClient } from '../../electron/common/client.js';
import type { EventPayload, PathMessage } from '../../electron/common/contract.js';
import type { Service } from '../../electron/core/service.js';
import { ChatState, type LiveReply } from '../../renderer/src/panels/chat/chat-state.svelte.js';
import { eventually, ManualFrames, ManualTimers, recordingClient } from '../helpers/chat-state.js';
import { GREEDY, writeBigramModel } from '../helpers/models.js';
import { createTestService } from '../helpers/service.js';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat. a hat is on the cat and the dog has a bone.\nwhat a day it is!\n';
/** Greedy decoding loops forever ("ab ab ab ..."): a reply that must be stopped. */
const LOOPING_CORPUS = 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc';

let service: Service;
let client: ContractClient;
let modelPath: string;
let loopingPath: string;
const ends = new Map<string, EventPayload<'run.done'> | EventPayload<'run.error'>>();

beforeAll(async () => {
  ({ service } = await createTestService());
  ({ client } = recordingClient(service));
  client.on('run.done', (done) => ends.set(done.runId, done));
  client.on('run.error', (error) => ends.set(error.runId, error));
  modelPath = (await client.call('models.add', { path: await writeBigramModel(CORPUS, 'animals') })).path;
  loopingPath = (await client.call('models.add', { path: await writeBigramModel(LOOPING_CORPUS, 'looping', 4096) })).path;
});

afterAll(async () => {
  await service.dispose();
});

async function newState(): Promise<{ chat: ChatState; frames: ManualFrames; timers: ManualTimers }> {
  const frames = new ManualFrames();
  const timers = new ManualTimers();
  const chat = new ChatState(client, frames.schedule, { timers, storage: null });
  await chat.start();
  chat.newChat();
  return { chat, frames, timers };
}

function lastMessage(chat: ChatState): PathMessage {
  const last = chat.path.at(-1);
  if (!last) throw new Error('The path is empty');
  return last;
}

async function replyEnded(chat: ChatState, reply: LiveReply): Promise<void> {
  await eventually(() => ends.has(reply.runId) && !chat.live.has(reply.messageId), 60_000, 'the end of the reply');
  // The state reads the conversation again after a reply ends.
  await eventually(() => lastMessage(chat).run?.finishedAt != null && lastMessage(chat).run?.metrics !== null, 10_000, 'the stored run');
}

describe('chatting through ChatState', () => {
  it('saves a new chat with its first message and holds streamed text for the next frame', async () => {
    const { chat, frames } = await newState();
    const library = await client.call('models.library', {});
    const animals = library.find((model) => model.path === modelPath);
    if (!animals) throw new Error('The test model is not in the library');
    await chat.chooseModel(animals);
    await chat.configure({ settings: { ...GREEDY, maxTokens: 40 } });
    expect(chat.conversation).toBeNull();

    // What the screen shows after each delta arrives, before any frame runs.
    const shownAtDelta: string[] = [];
    client.on('run.delta', () => {
      const reply = chat.activeReply;
      if (reply) shownAtDelta.push(reply.text);
    });

    chat.setDraft('tell me about the cat');
    await chat.send();
    expect(chat.error).toBeNull();
    expect(chat.draft).toBe('');
    expect(chat.conversation).toMatchObject({ modelPath, sampling: { temperature: 0, maxTokens: 40 } });
    expect(chat.path.map((message) => message.role)).toEqual(['user', 'assistant']);
    const reply = chat.activeReply;
    if (!reply) throw new Error('No reply is being written');
    expect(chat.generating).toBe(true);

    await replyEnded(chat, reply);
    const end = ends.get(reply.runId);
    if (!end || !('stopReason' in end)) throw new Error(`The reply failed: ${JSON.stringify(end)}`);
    // Many deltas, no frame run: nothing was drawn while streaming, and one frame was asked for.
    expect(shownAtDelta.length).toBeGreaterThan(0);
    expect(shownAtDelta.every((text) => text === '')).toBe(true);
    expect(frames.requested).toBe(1);

    // The end shows the whole reply at once, and the store's run with its measurements.
    expect(lastMessage(chat)).toMatchObject({ id: reply.messageId, content: end.text, run: { status: 'done', metrics: { stopReason: end.stopReason } } });
    expect(chat.conversation?.title).toBe('tell me about the cat');
    expect(chat.rows.some((row) => row.key === chat.conversation?.id)).toBe(true);
    expect(chat.announcement.length).toBeGreaterThan(0);
    chat.dispose();
  });

  it('stops a reply that would not end, keeping what it wrote', async () => {
    const { chat, frames } = await newState();
    const looping = (await client.call('models.library', {})).find((model) => model.path === loopingPath);
    if (!looping) throw new Error('The looping model is not in the library');
    await chat.chooseModel(looping);
    await chat.configure({ settings: { ...GREEDY, maxTokens: 100_000 } });
    chat.setDraft('ab');
    await chat.send();
    const reply = chat.activeReply;
    if (!reply) throw new Error('No reply is being written');

    await eventually(() => frames.queue.length > 0, 30_000, 'the first delta');
    frames.run();
    expect(reply.text.length).toBeGreaterThan(0);
    expect(reply.tokensPerSecond === null || reply.tokensPerSecond > 0).toBe(true);

    await chat.stop();
    await replyEnded(chat, reply);
    const end = ends.get(reply.runId);
    expect(end && 'stopReason' in end ? end.stopReason : end).toBe('cancelled');
    expect(lastMessage(chat).run?.status).toBe('cancelled');
    expect(lastMessage(chat).content.length).toBeGreaterThanOrEqual(reply.text.length);
    expect(chat.generating).toBe(false);
    chat.dispose();
  });

  it('regenerates, edits and continues as new versions, and the arrows move between them', async () => {
    const { chat } = await newState();
    const animals = (await client.call('models.library', {})).find((model) => model.path === modelPath);
    if (!animals) throw new Error('The test model is not in the library');
    await chat.chooseModel(animals);
    await chat.configure({ settings: { ...GREEDY, maxTokens: 12 } });
    chat.setDraft('the dog');
    await chat.send();
    let reply = chat.activeReply;
    if (!reply) throw new Error('No reply is being written');
    await replyEnded(chat, reply);
    const firstReply = lastMessage(chat);

    await chat.regenerate(firstReply.id);
    reply = chat.activeReply;
    if (!reply) throw new Error('No regenerated reply is being written');
    await replyEnded(chat, reply);
    expect(lastMessage(chat)).toMatchObject({ siblingIndex: 1, siblingCount: 2 });
    // Greedy decoding of the same input writes the same text again.
    expect(lastMessage(chat).content).toBe(firstReply.content);

    expect(await chat.showSibling(lastMessage(chat).id, -1)).toBe(firstReply.id);
    expect(lastMessage(chat)).toMatchObject({ id: firstReply.id, siblingIndex: 0, siblingCount: 2 });

    const question = chat.path[0];
    if (!question) throw new Error('No question');
    expect(chat.editLastUserMessage()).toBe(true);
    expect(chat.editingId).toBe(question.id);
    await chat.saveEdit(question.id, 'what a day');
    expect(chat.editingId).toBeNull();
    expect(chat.path[0]).toMatchObject({ content: 'what a day', siblingIndex: 1, siblingCount: 2 });
    reply = chat.activeReply;
    if (!reply) throw new Error('No reply to the edit is being written');
    await replyEnded(chat, reply);

    const before = lastMessage(chat);
    await chat.continueReply(before.id);
    reply = chat.activeReply;
    if (!reply) throw new Error('No continuation is being written');
    expect(reply.base).toBe(before.content);
    await replyEnded(chat, reply);
    expect(lastMessage(chat).content.startsWith(before.content)).toBe(true);
    expect(lastMessage(chat)).toMatchObject({ siblingIndex: 1, siblingCount: 2 });
    expect(chat.error).toBeNull();
    chat.dispose();
  });

  it('counts the conversation and the draft in the loaded model’s context', async () => {
    const { chat, timers } = await newState();
    const animals = (await client.call('models.library', {})).find((model) => model.path === modelPath);
    if (!animals) throw new Error('The test model is not in the library');
    await chat.chooseModel(animals);
    chat.setDraft('the cat');
    await chat.send();
    const reply = chat.activeReply;
    if (!reply) throw new Error('No reply is being written');
    await replyEnded(chat, reply);

    await chat.refreshUsage();
    const empty = chat.usage;
    expect(empty?.tokens).toBeGreaterThan(0);
    expect(empty?.contextSize).toBeGreaterThan(0);
    chat.setDraft('the dog ran to the mat and sat on the hat');
    timers.runAll();
    await eventually(() => (chat.usage?.tokens ?? 0) > (empty?.tokens ?? 0), 10_000, 'the count with the draft');
    chat.dispose();
  });
});
