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
