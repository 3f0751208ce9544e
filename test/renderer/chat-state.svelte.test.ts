/**
 * The chat panel's state (ChatState) against the real core over the in-memory contract client:
 * the conversation list, branches, the undo toast, the context meter's debounce, and streamed
 * text applied once per animation frame. No model runs here: a reply "being written" is a run
 * the test puts in the store, with its events sent through the core's own event hub, as the
 * engine would (test/renderer/chat-state.model.test.ts has replies written by llama.cpp).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PathMessage } from '../../electron/common/contract.js';
import { createTestService } from '../helpers/service.js';
import { ManualFrames, ManualTimers, recordingClient } from '../helpers/chat-state.js';
import { ChatState, UNDO_MS } from '../../renderer/src/panels/chat/chat-state.svelte.js';
import { conversationRows, periodLabel, settingsForm, settingsFromForm, snippetRuns } from '../../renderer/src/panels/chat/chat-format.js';

const { service } = await createTestService();
const { client, calls } = recordingClient(service);
afterAll(() => service.dispose());

let frames: ManualFrames;
let timers: ManualTimers;
let chat: ChatState;

beforeEach(async () => {
  frames = new ManualFrames();
  timers = new ManualTimers();
  chat = new ChatState(client, frames.schedule, { timers, storage: null });
  await chat.start();
});

afterEach(() => chat.dispose());

/** What the last message of the open path shows now. */
function lastShown(): string {
  const last: PathMessage | undefined = chat.path.at(-1);
  if (!last) throw new Error('The path is empty');
  return chat.contentOf(last);
}

async function conversationWith(title: string): Promise<string> {
  const conversation = await client.call('conversations.create', { title });
  return conversation.id;
}

const add = (conversationId: string, parentId: string | null, role: 'user' | 'assistant', content: string) =>
  client.call('conversations.addMessage', { conversationId, parentId, role, content });

describe('the conversation list', () => {
  it('groups conversations under headings, pinned first, and follows renames and pins', async () => {
    const first = await conversationWith('Soup recipes');
    const second = await conversationWith('Train times');
    await chat.refreshList();
    const labels = chat.rows.filter((row) => row.kind === 'group').map((row) => row.label);
    expect(labels[0]).toBe('Today');
    expect(chat.rows.find((row) => row.key === first)).toMatchObject({ kind: 'conversation', conversation: { title: 'Soup recipes' } });

    await chat.pinConversation(second, true);
    expect(chat.rows[0]).toEqual({ kind: 'group', key: 'group:pinned', label: 'Pinned' });
    expect(chat.rows[1]).toMatchObject({ kind: 'conversation', key: second });

    chat.startRenaming(first);
    expect(chat.renamingId).toBe(first);
    await chat.renameConversation(first, '  Winter soups  ');
    expect(chat.renamingId).toBeNull();
    expect(chat.rows.find((row) => row.key === first)).toMatchObject({ conversation: { title: 'Winter soups' } });
    // An empty title is no rename.
    await chat.renameConversation(first, '   ');
    expect(chat.rows.find((row) => row.key === first)).toMatchObject({ conversation: { title: 'Winter soups' } });
  });

  it('names the periods the core groups by, months included', () => {
    expect(periodLabel('previous7Days')).toBe('Previous 7 days');
    expect(periodLabel('previous30Days')).toBe('Previous 30 days');
    expect(periodLabel('2024-03')).toMatch(/2024/);
    const rows = conversationRows({ pinned: [], periods: [{ period: 'yesterday', conversations: [] }] });
    expect(rows).toEqual([]);
  });
});

describe('branches', () => {
  it('moves between versions of a reply with the arrows, showing the branch below each', async () => {
    const id = await conversationWith('Tea');
    const question = await add(id, null, 'user', 'Tea or coffee?');
    const tea = await add(id, question.id, 'assistant', 'Tea.');
    const followUp = await add(id, tea.id, 'user', 'Which tea?');
    const coffee = await add(id, question.id, 'assistant', 'Coffee.');

    await chat.openConversation(id);
    expect(chat.path.map((message) => message.id)).toEqual([question.id, coffee.id]);
    expect(chat.path[1]).toMatchObject({ siblingIndex: 1, siblingCount: 2 });

    const shown = await chat.showSibling(coffee.id, -1);
    expect(shown).toBe(tea.id);
    // The branch through the earlier reply, down to where it was last continued.
    expect(chat.path.map((message) => message.id)).toEqual([question.id, tea.id, followUp.id]);
    expect(chat.path[1]).toMatchObject({ siblingIndex: 0, siblingCount: 2 });

    // There is nothing before the first version.
    expect(await chat.showSibling(tea.id, -1)).toBeNull();
    expect(chat.path.map((message) => message.id)).toEqual([question.id, tea.id, followUp.id]);

    expect(await chat.showSibling(tea.id, 1)).toBe(coffee.id);
    expect(chat.path.map((message) => message.id)).toEqual([question.id, coffee.id]);
    expect(chat.error).toBeNull();
  });

  it('opens a search hit on the branch through the message found', async () => {
    const id = await conversationWith('Colours');
    const question = await add(id, null, 'user', 'Favourite colour?');
    const blue = await add(id, question.id, 'assistant', 'Cerulean blue.');
    await add(id, question.id, 'assistant', 'Green.');

    await chat.openHit({
      kind: 'message',
      id: blue.id,
      conversationId: id,
      conversationTitle: 'Colours',
      role: 'assistant',
      modelId: null,
      score: 1,
      date: Date.now(),
      snippet: { text: 'Cerulean blue.', highlights: [[0, 8]] },
    });
    expect(chat.conversation?.id).toBe(id);
    expect(chat.path.map((message) => message.id)).toEqual([question.id, blue.id]);
    expect(chat.scrollRequest).toMatchObject({ target: 'message', messageId: blue.id });
  });

  it('splits a snippet into marked and plain runs from its offsets, never as HTML', () => {
    expect(snippetRuns('a <b>bold</b> move', [[3, 4], [10, 12]])).toEqual([
      { text: 'a <', marked: false },
      { text: 'b', marked: true },
      { text: '>bold<', marked: false },
      { text: '/b', marked: true },
      { text: '> move', marked: false },
    ]);
    // Overlapping, touching, unsorted and out-of-range offsets.
    expect(snippetRuns('abcdef', [[4, 99], [0, 2], [1, 3], [3, 4]])).toEqual([{ text: 'abcdef', marked: true }]);
    expect(snippetRuns('abc', [])).toEqual([{ text: 'abc', marked: false }]);
  });
});

describe('deleting with undo', () => {
  it('moves a conversation to the trash, offers Undo, and restores it', async () => {
    const id = await conversationWith('Holiday plans');
    await add(id, null, 'user', 'Where to go?');
    await chat.openConversation(id);

    await chat.deleteConversation(id);
    expect(chat.undo).toMatchObject({ conversationId: id, message: 'Deleted “Holiday plans”', wasOpen: true });
    expect(chat.rows.some((row) => row.key === id)).toBe(false);
    // The open conversation is gone: a new chat is shown in its place.
    expect(chat.conversation).toBeNull();
    expect(chat.path).toEqual([]);
    expect([...timers.pending.values()].map((timer) => timer.ms)).toContain(UNDO_MS);

    await chat.undoDelete();
    expect(chat.undo).toBeNull();
    expect(timers.pending.size).toBe(0);
    expect(chat.rows.some((row) => row.key === id)).toBe(true);
    expect(chat.conversation?.id).toBe(id);
    expect((await client.call('trash.list', {})).some((item) => item.id === id)).toBe(false);
  });

  it('lets the toast go after a while, leaving the conversation in the trash', async () => {
    const id = await conversationWith('Old notes');
    await chat.refreshList();
    await chat.deleteConversation(id);
    expect(chat.undo?.conversationId).toBe(id);

    timers.runAll();
    expect(chat.undo).toBeNull();
    expect((await client.call('trash.list', {})).some((item) => item.id === id)).toBe(true);
  });

  it('keeps only the latest toast when a second deletion follows the first', async () => {
    const first = await conversationWith('First');
    const second = await conversationWith('Second');
    await chat.refreshList();
    await chat.deleteConversation(first);
    await chat.deleteConversation(second);
    expect(chat.undo?.conversationId).toBe(second);
    // The first toast's timer was cleared with it: only one is pending.
    expect(timers.pending.size).toBe(1);
    await chat.undoDelete();
    expect(chat.rows.some((row) => row.key === second)).toBe(true);
    expect(chat.rows.some((row) => row.key === first)).toBe(false);
  });
});

describe('the context meter', () => {
  it('asks the core once per pause in typing, with the latest draft', async () => {
    const id = await conversationWith('Counting');
    await client.call('conversations.configure', { id, modelPath: '/nowhere/not-loaded.gguf' });
    await chat.openConversation(id);
    const before = calls.filter((call) => call.method === 'chat.contextUsage').length;

    for (const draft of ['H', 'He', 'Hel', 'Hell', 'Hello']) chat.setDraft(draft);
    expect(calls.filter((call) => call.method === 'chat.contextUsage')).toHaveLength(before);
    expect(timers.pending.size).toBe(1);

    timers.runAll();
    await vitestSettles();
    const usageCalls = calls.filter((call) => call.method === 'chat.contextUsage');
    expect(usageCalls).toHaveLength(before + 1);
    expect(usageCalls.at(-1)?.input).toEqual({ conversationId: id, draft: 'Hello' });
    // The model is not loaded: counts are unknown ("—" on screen), which is no error.
    expect(chat.usage).toEqual({ tokens: null, contextSize: null, reserved: null, modelId: null });
    expect(chat.error).toBeNull();
  });
});

describe('sending', () => {
  it('asks for a model instead of sending when the conversation has none', async () => {
    const id = await conversationWith('No model');
    await chat.openConversation(id);
    const requests = chat.modelPickerRequests;
    const sends = calls.filter((call) => call.method === 'chat.send').length;
    chat.setDraft('Hello?');
    await chat.send();
    expect(chat.modelPickerRequests).toBe(requests + 1);
    expect(chat.error?.title).toBe('Choose a model first');
    expect(chat.draft).toBe('Hello?');
    expect(calls.filter((call) => call.method === 'chat.send')).toHaveLength(sends);
  });

  it("shows the core's coded error and keeps the draft when the model file is missing", async () => {
    const id = await conversationWith('Missing model');
    await client.call('conversations.configure', { id, modelPath: '/nowhere/missing.gguf' });
    await chat.openConversation(id);
    chat.setDraft('Hello?');
    await chat.send();
    expect(chat.error).toMatchObject({ title: 'The message could not be sent', code: 'MODEL_NOT_FOUND' });
    expect(chat.draft).toBe('Hello?');
    expect(chat.generating).toBe(false);
    chat.dismissError();
    expect(chat.error).toBeNull();
  });

  it('preselects the most recently used library model for a new chat', async () => {
    const library = await client.call('models.library', {});
    chat.newChat();
    expect(chat.conversation).toBeNull();
    expect(chat.config.modelPath).toBe(library.find((model) => model.present)?.path ?? null);
  });
});

describe('a reply being written', () => {
  it('applies streamed text at most once per animation frame, and the end at once', async () => {
    const id = await conversationWith('Streaming');
    const question = await add(id, null, 'user', 'Say something.');
    const reply = await add(id, question.id, 'assistant', '');
    const runId = service.store.runs.create({ kind: 'chat', conversationId: id, messageId: reply.id, parameters: { maxTokens: 64 } });

    await chat.openConversation(id);
    const message = chat.path.at(-1);
    expect(message?.run?.status).toBe('running');
    expect(chat.generating).toBe(true);
    expect(chat.activeReply?.runId).toBe(runId);

    for (const text of ['Hello', ' there', '. How', ' are you?']) service.events.emit('run.delta', { runId, text });
    // Four deltas, one frame asked for, nothing drawn yet.
    expect(frames.queue).toHaveLength(1);
    expect(lastShown()).toBe('');

    frames.run();
    expect(lastShown()).toBe('Hello there. How are you?');
    // The finished sentences go to the screen reader; the unfinished rest waits.
    expect(chat.announcement).toBe('Hello there.');

    service.events.emit('run.delta', { runId, text: ' Fine' });
    expect(frames.queue).toHaveLength(1);
    expect(lastShown()).toBe('Hello there. How are you?');

    // The end carries all the text: shown without waiting for the frame.
    const text = 'Hello there. How are you? Fine, thanks';
    service.store.runs.appendOutput(runId, text);
    service.store.runs.finish(runId, { status: 'done', metrics: { generatedTokens: 9, tokensPerSecond: 30, stopReason: 'endOfText' } });
    service.events.emit('run.done', {
      runId,
      text,
      stopReason: 'endOfText',
      metrics: { loadMs: 0, timeToFirstTokenMs: 12, promptTokens: 5, reusedPromptTokens: 0, promptTokensPerSecond: 100, generatedTokens: 9, tokensPerSecond: 30, totalMs: 300, threads: 1 },
    });
    expect(chat.generating).toBe(false);
    expect(chat.path.at(-1)).toMatchObject({ id: reply.id, run: { status: 'done', metrics: { stopReason: 'endOfText', generatedTokens: 9 } } });
    // A sentence is finished once something follows its full stop; at the end, the rest is.
    expect(chat.announcement).toBe('How are you? Fine, thanks');
    frames.run();

    // And the store, read again, says the same.
    await vitestSettles();
    expect(chat.path.at(-1)).toMatchObject({ id: reply.id, content: text, run: { status: 'done' } });
  });

  it('lets go of a reply whose end it missed (a dropped connection) once the store says it ended', async () => {
    const id = await conversationWith('Missed end');
    const question = await add(id, null, 'user', 'Hello?');
    const reply = await add(id, question.id, 'assistant', '');
    const runId = service.store.runs.create({ kind: 'chat', conversationId: id, messageId: reply.id });
    await chat.openConversation(id);
    expect(chat.generating).toBe(true);

    service.store.runs.appendOutput(runId, 'Hi there.');
    service.store.runs.finish(runId, { status: 'done', metrics: { generatedTokens: 3 } });
    await chat.resync();
    expect(chat.generating).toBe(false);
    expect(chat.path.at(-1)).toMatchObject({ content: 'Hi there.', run: { status: 'done' } });
  });

  it('shows a run the app found interrupted with its text, ready to retry', async () => {
    const id = await conversationWith('Crash');
    const question = await add(id, null, 'user', 'Tell me a story.');
    const reply = await add(id, question.id, 'assistant', '');
    const runId = service.store.runs.create({ kind: 'chat', conversationId: id, messageId: reply.id });
    service.store.runs.appendOutput(runId, 'Once upon a');
    service.store.runs.markInterrupted();

    await chat.openConversation(id);
    expect(chat.generating).toBe(false);
    expect(chat.path.at(-1)).toMatchObject({ content: 'Once upon a', run: { status: 'interrupted' } });
  });
});

describe('the sampling form', () => {
  it('reads saved settings, checks edits with the contract schema, and keeps what it does not show', () => {
    const form = settingsForm({ temperature: 0.2, stop: ['###', 'END'] });
    expect(form).toMatchObject({ temperature: '0.2', topK: '40', maxTokens: '512', seed: '', stop: '###\nEND' });

    const saved = settingsFromForm({ ...form, seed: '42', maxTokens: '' }, { presencePenalty: 0.5 });
    expect(saved).toEqual({ ok: true, settings: { presencePenalty: 0.5, temperature: 0.2, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.1, seed: 42, stop: ['###', 'END'] } });

    const refused = settingsFromForm({ ...form, temperature: '9', topP: '0', seed: 'abc' });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(Object.keys(refused.errors).sort()).toEqual(['seed', 'temperature', 'topP']);
  });
});

/** Lets calls the state started without awaiting (list refreshes, path reloads) finish. */
async function vitestSettles(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}
