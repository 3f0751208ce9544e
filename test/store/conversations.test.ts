import { describe, expect, it } from 'vitest';
import { openStore } from './helpers.js';

describe('ConversationStore', () => {
  it('keeps messages as a tree: an edit and a regeneration become siblings, the active path follows', async () => {
    const store = await openStore();
    const { conversations } = store;
    const conversation = conversations.create({ title: 'Cats', systemPrompt: 'Be brief.', modelId: 'm-1', sampling: { temperature: 0.7 } });
    expect(conversation).toMatchObject({ title: 'Cats', pinned: false, activeLeafId: null, sampling: { temperature: 0.7 } });
    expect(conversations.activePath(conversation.id)).toEqual([]);

    const question = conversations.addMessage({ conversationId: conversation.id, parentId: null, role: 'user', content: 'Why do cats purr?' });
    const answer = conversations.addMessage({ conversationId: conversation.id, parentId: question.id, role: 'assistant', content: 'Contentment.', modelId: 'm-1' });
    // Regenerate: a second answer under the same question.
    const regenerated = conversations.addMessage({ conversationId: conversation.id, parentId: question.id, role: 'assistant', content: 'Mostly contentment, sometimes healing.', modelId: 'm-1' });
    const followUp = conversations.addMessage({ conversationId: conversation.id, parentId: regenerated.id, role: 'user', content: 'Healing?' });
    // Edit the first question: a sibling root.
    const edited = conversations.addMessage({ conversationId: conversation.id, parentId: null, role: 'user', content: 'How do cats purr?' });

    expect(conversations.get(conversation.id)?.activeLeafId).toBe(edited.id);
    expect(conversations.activePath(conversation.id).map((message) => [message.content, message.siblingIndex, message.siblingCount])).toEqual([['How do cats purr?', 1, 2]]);

    // Back to the first question: the newest leaf below it is the follow-up.
    expect(conversations.setActiveLeaf(conversation.id, question.id)).toBe(followUp.id);
    const path = conversations.activePath(conversation.id);
    expect(path.map((message) => message.id)).toEqual([question.id, regenerated.id, followUp.id]);
    expect(path.map((message) => [message.siblingIndex, message.siblingCount])).toEqual([[0, 2], [1, 2], [0, 1]]);

    // Choose the first answer: a leaf, so it becomes the active leaf itself.
    expect(conversations.setActiveLeaf(conversation.id, answer.id)).toBe(answer.id);
    expect(conversations.activePath(conversation.id).map((message) => message.content)).toEqual(['Why do cats purr?', 'Contentment.']);

    expect(conversations.siblings(conversation.id, regenerated.id)).toEqual({ messages: [answer, regenerated], index: 1 });
    expect(conversations.siblings(conversation.id, question.id).messages.map((message) => message.id)).toEqual([question.id, edited.id]);
    expect(conversations.messages(conversation.id)).toHaveLength(5);
  });

  it('refuses a parent or an active leaf from another conversation', async () => {
    const store = await openStore();
    const a = store.conversations.create({ title: 'A' });
    const b = store.conversations.create({ title: 'B' });
    const inA = store.conversations.addMessage({ conversationId: a.id, parentId: null, role: 'user', content: 'hi' });
    expect(() => store.conversations.addMessage({ conversationId: b.id, parentId: inA.id, role: 'user', content: 'x' })).toThrow(/no message/);
    expect(() => store.conversations.setActiveLeaf(b.id, inA.id)).toThrow(/no message/);
    expect(() => store.conversations.addMessage({ conversationId: 'nope', parentId: null, role: 'user', content: 'x' })).toThrow(/no conversation/);
    expect(store.conversations.messages(b.id)).toEqual([]);
  });

  it('renames, pins and configures', async () => {
    const store = await openStore();
    const conversation = store.conversations.create({ modelPath: '/m/a.gguf' });
    expect(conversation.title).toBe('New conversation');
    expect(store.conversations.rename(conversation.id, 'Renamed').title).toBe('Renamed');
    expect(store.conversations.pin(conversation.id, true).pinned).toBe(true);
    const configured = store.conversations.configure(conversation.id, { systemPrompt: 'Terse.', modelId: null, sampling: { topK: 5 } });
    expect(configured).toMatchObject({ systemPrompt: 'Terse.', modelId: null, modelPath: '/m/a.gguf', sampling: { topK: 5 } });
    expect(() => store.conversations.rename('nope', 'x')).toThrow(/no conversation/);
  });

  it('remembers what to do when the context overflows: shift unless told, kept when configure omits it', async () => {
    const store = await openStore();
    const shifting = store.conversations.create({ title: 'Default' });
    expect(shifting.contextOverflow).toBe('shift');
    const stopping = store.conversations.create({ title: 'Strict', contextOverflow: 'stop' });
    expect(store.conversations.get(stopping.id)?.contextOverflow).toBe('stop');

    expect(store.conversations.configure(shifting.id, { contextOverflow: 'stop' }).contextOverflow).toBe('stop');
    const reconfigured = store.conversations.configure(shifting.id, { systemPrompt: 'Short.', sampling: { maxTokens: 64, stop: ['\n\n'] } });
    expect(reconfigured).toMatchObject({ contextOverflow: 'stop', systemPrompt: 'Short.', sampling: { maxTokens: 64, stop: ['\n\n'] } });
    expect(store.conversations.configure(shifting.id, { contextOverflow: 'shift' }).contextOverflow).toBe('shift');
  });

  it('gives the path to any message, on whichever branch, root first', async () => {
    const store = await openStore();
    const { conversations } = store;
    const { id } = conversations.create();
    const question = conversations.addMessage({ conversationId: id, parentId: null, role: 'user', content: 'Q' });
    const first = conversations.addMessage({ conversationId: id, parentId: question.id, role: 'assistant', content: 'A1' });
    const followUp = conversations.addMessage({ conversationId: id, parentId: first.id, role: 'user', content: 'Q2' });
    const second = conversations.addMessage({ conversationId: id, parentId: question.id, role: 'assistant', content: 'A2' });

    // The active branch is the second answer; the path to the follow-up goes through the first.
    expect(conversations.activePath(id).map((message) => message.content)).toEqual(['Q', 'A2']);
    const toFollowUp = conversations.pathTo(id, followUp.id);
    expect(toFollowUp.map((message) => [message.content, message.siblingIndex, message.siblingCount])).toEqual([['Q', 0, 1], ['A1', 0, 2], ['Q2', 0, 1]]);
    expect(toFollowUp.map((message) => message.run)).toEqual([null, null, null]);
    expect(conversations.pathTo(id, second.id).map((message) => message.id)).toEqual([question.id, second.id]);
    expect(conversations.pathTo(id, question.id).map((message) => message.id)).toEqual([question.id]);

    const other = conversations.create();
    expect(() => conversations.pathTo(other.id, followUp.id)).toThrow(/no message/);
    expect(() => conversations.pathTo(id, 'nope')).toThrow(/no message/);
  });

  it('adds a message without showing it when makeActive is false', async () => {
    let now = Date.UTC(2025, 0, 1);
    const store = await openStore({ now: () => now++ });
    const { conversations } = store;
    const { id } = conversations.create();
    const question = conversations.addMessage({ conversationId: id, parentId: null, role: 'user', content: 'Q' });
    const before = conversations.get(id);
    const hidden = conversations.addMessage({ conversationId: id, parentId: question.id, role: 'assistant', content: 'later', makeActive: false });
    const after = conversations.get(id);
    expect(after?.activeLeafId).toBe(question.id);
    expect(after?.updatedAt).toBeGreaterThan(before?.updatedAt ?? Infinity);
    expect(conversations.activePath(id).map((message) => message.id)).toEqual([question.id]);
    expect(conversations.pathTo(id, hidden.id).map((message) => message.content)).toEqual(['Q', 'later']);
  });

  it('shows the run behind each message, and a reply being written with its text so far', async () => {
    const store = await openStore();
    const { conversations, runs } = store;
    const { id } = conversations.create();
    const question = conversations.addMessage({ conversationId: id, parentId: null, role: 'user', content: 'Count to three.' });
    const reply = conversations.addMessage({ conversationId: id, parentId: question.id, role: 'assistant', content: '', modelId: 'tiny' });
    const runId = runs.create({ kind: 'chat', modelId: 'tiny', modelPath: '/m/tiny.gguf', parameters: { temperature: 0, maxTokens: 8 }, input: 'Count to three.', conversationId: id, messageId: reply.id });
    const runRow = runs.get(runId);

    const running = conversations.activePath(id);
    expect(running[0]?.run).toBeNull();
    expect(running[1]).toMatchObject({ id: reply.id, content: '' });
    expect(running[1]?.run).toEqual({
      id: runId,
      status: 'running',
      modelId: 'tiny',
      modelPath: '/m/tiny.gguf',
      parameters: { temperature: 0, maxTokens: 8 },
      metrics: null,
      error: null,
      createdAt: runRow?.createdAt,
      finishedAt: null,
    });

    runs.appendOutput(runId, 'One, ');
    runs.appendOutput(runId, 'two');
    expect(conversations.activePath(id)[1]?.content).toBe('One, two');
    // The message itself is written once, when the run ends.
    expect(conversations.messages(id)[1]?.content).toBe('');

    runs.appendOutput(runId, ', three.');
    runs.finish(runId, { status: 'done', metrics: { generatedTokens: 6, stopReason: 'endOfText' } });
    const finished = conversations.activePath(id)[1];
    expect(finished?.content).toBe('One, two, three.');
    expect(conversations.messages(id)[1]?.content).toBe('One, two, three.');
    expect(finished?.run).toMatchObject({ id: runId, status: 'done', metrics: { generatedTokens: 6, stopReason: 'endOfText' }, error: null });
    expect(finished?.run?.finishedAt).toBe(runs.get(runId)?.finishedAt);
    expect(finished?.run?.finishedAt).not.toBeNull();
    // pathTo reads the same way.
    expect(conversations.pathTo(id, reply.id)).toEqual(conversations.activePath(id));
  });

  it('joins only the newest run of a message, and shows errors and continued replies', async () => {
    const store = await openStore();
    const { conversations, runs } = store;
    const { id } = conversations.create();
    const question = conversations.addMessage({ conversationId: id, parentId: null, role: 'user', content: 'Go on.' });
    // A continued reply starts with the text it continues; its run writes the rest.
    const reply = conversations.addMessage({ conversationId: id, parentId: question.id, role: 'assistant', content: 'It was a dark' });
    const failed = runs.create({ kind: 'chat', conversationId: id, messageId: reply.id });
    runs.appendOutput(failed, ' and');
    runs.finish(failed, { status: 'error', error: { code: 'MODEL_CRASHED_BEFORE', message: 'It stopped.' } });
    expect(conversations.activePath(id)[1]).toMatchObject({ content: 'It was a dark and', run: { id: failed, status: 'error', error: { code: 'MODEL_CRASHED_BEFORE', message: 'It stopped.' }, metrics: null } });

    const retry = runs.create({ kind: 'chat', conversationId: id, messageId: reply.id, parameters: { seed: 3 } });
    runs.appendOutput(retry, ' stormy');
    expect(conversations.activePath(id)[1]).toMatchObject({ content: 'It was a dark and stormy', run: { id: retry, status: 'running', parameters: { seed: 3 } } });
    expect(conversations.activePath(id)).toHaveLength(2);

    // A translation of the message is linked to it but did not write it.
    const translation = runs.create({ kind: 'translate', input: 'It was a dark and', messageId: reply.id });
    runs.appendOutput(translation, 'Il faisait nuit');
    expect(conversations.activePath(id)[1]).toMatchObject({ content: 'It was a dark and stormy', run: { id: retry } });
    runs.finish(translation, { status: 'done' });
    expect(conversations.messages(id)[1]?.content).toBe('It was a dark and');

    // A crash: the next start interrupts the run and the message keeps what was written.
    runs.markInterrupted();
    expect(conversations.activePath(id)[1]).toMatchObject({ content: 'It was a dark and stormy', run: { id: retry, status: 'interrupted' } });
    // A run in the trash no longer speaks for its message.
    store.trash.trash('run', retry);
    expect(conversations.activePath(id)[1]?.run?.id).toBe(failed);
  });

  it('lists pinned conversations first, then the rest grouped by period, without the trash', async () => {
    let now = new Date(2025, 5, 20, 15, 0).getTime();
    const store = await openStore({ now: () => now });
    const at = (date: Date, title: string) => {
      now = date.getTime();
      return store.conversations.create({ title });
    };
    at(new Date(2025, 3, 2), 'april');
    at(new Date(2025, 4, 1), 'may');
    at(new Date(2025, 5, 1), 'three weeks ago');
    at(new Date(2025, 5, 16), 'four days ago');
    at(new Date(2025, 5, 19, 23, 0), 'yesterday');
    const pinned = at(new Date(2025, 5, 19, 22, 0), 'pinned');
    at(new Date(2025, 5, 20, 9, 0), 'this morning');
    const trashed = at(new Date(2025, 5, 20, 10, 0), 'trashed');
    now = new Date(2025, 5, 20, 15, 0).getTime();
    store.conversations.pin(pinned.id, true);
    store.trash.trash('conversation', trashed.id);

    const groups = store.conversations.list();
    expect(groups.pinned.map((summary) => summary.title)).toEqual(['pinned']);
    expect(groups.periods.map((group) => [group.period, group.conversations.map((summary) => summary.title)])).toEqual([
      ['today', ['this morning']],
      ['yesterday', ['yesterday']],
      ['previous7Days', ['four days ago']],
      ['previous30Days', ['three weeks ago']],
      ['2025-05', ['may']],
      ['2025-04', ['april']],
    ]);
  });
});
