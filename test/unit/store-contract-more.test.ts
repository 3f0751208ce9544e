import { afterAll, describe, expect, it } from 'vitest';
import { ContractClient } from '../../electron/common/client.js';
import { createMemoryTransport } from '../../electron/common/memory-transport.js';
import { createTestService } from '../helpers/service.js';

const { service } = await createTestService();
const transport = createMemoryTransport(service.implementation, service.events);
const client = new ContractClient(transport);
afterAll(() => service.dispose());

const SHA = 'ab'.repeat(32);

async function listedConversations(): Promise<{ pinned: string[]; unpinned: { id: string; title: string }[] }> {
  const listed = await client.call('conversations.list', {});
  return {
    pinned: listed.pinned.map((c) => c.id),
    unpinned: listed.periods.flatMap((period) => period.conversations).map(({ id, title }) => ({ id, title })),
  };
}

describe('conversation settings over the contract', () => {
  it('renames, pins and unpins a conversation, and the list follows', async () => {
    const conversation = await client.call('conversations.create', { title: 'Draft' });
    const renamed = await client.call('conversations.rename', { id: conversation.id, title: 'Travel plans' });
    expect(renamed.title).toBe('Travel plans');
    expect((await listedConversations()).unpinned).toContainEqual({ id: conversation.id, title: 'Travel plans' });

    const pinned = await client.call('conversations.pin', { id: conversation.id, pinned: true });
    expect(pinned.pinned).toBe(true);
    let listed = await listedConversations();
    expect(listed.pinned).toContain(conversation.id);
    expect(listed.unpinned.map((c) => c.id)).not.toContain(conversation.id);

    await client.call('conversations.pin', { id: conversation.id, pinned: false });
    listed = await listedConversations();
    expect(listed.pinned).not.toContain(conversation.id);
    expect(listed.unpinned.map((c) => c.id)).toContain(conversation.id);
  });

  it('configures the system prompt, model and sampling, keeping what is not given and clearing a model with null', async () => {
    const conversation = await client.call('conversations.create', { systemPrompt: 'Be brief.' });
    const configured = await client.call('conversations.configure', {
      id: conversation.id,
      modelId: 'tiny',
      modelPath: '/models/tiny.gguf',
      sampling: { temperature: 0, seed: 7 },
    });
    expect(configured).toMatchObject({ systemPrompt: 'Be brief.', modelId: 'tiny', modelPath: '/models/tiny.gguf', sampling: { temperature: 0, seed: 7 } });

    const cleared = await client.call('conversations.configure', { id: conversation.id, systemPrompt: 'Answer in French.', modelId: null });
    expect(cleared).toMatchObject({ systemPrompt: 'Answer in French.', modelId: null, modelPath: '/models/tiny.gguf', sampling: { temperature: 0, seed: 7 } });
    expect((await client.call('conversations.get', { id: conversation.id })).conversation.systemPrompt).toBe('Answer in French.');

    const unknownSetting = await transport.call('conversations.configure', { id: conversation.id, sampling: { warmth: 3 } });
    expect(unknownSetting).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('answers rename, pin and configure of an unknown conversation with NOT_FOUND', async () => {
    await expect(client.tryCall('conversations.rename', { id: 'nope', title: 'x' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    await expect(client.tryCall('conversations.pin', { id: 'nope', pinned: true })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    await expect(client.tryCall('conversations.configure', { id: 'nope', systemPrompt: '' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('branches over the contract', () => {
  it('switches the active path between two branches in one call and lists siblings', async () => {
    const { id } = await client.call('conversations.create', {});
    const add = (parentId: string | null, role: 'user' | 'assistant', content: string) =>
      client.call('conversations.addMessage', { conversationId: id, parentId, role, content });
    const question = await add(null, 'user', 'Tea or coffee?');
    const first = await add(question.id, 'assistant', 'Tea.');
    const followUp = await add(first.id, 'user', 'Which tea?');
    const second = await add(question.id, 'assistant', 'Coffee.');

    const toFirst = await client.call('conversations.setActiveLeaf', { conversationId: id, messageId: first.id });
    // Choosing a branch shows where it was last continued: down to the follow-up.
    expect(toFirst.path.map((message) => message.id)).toEqual([question.id, first.id, followUp.id]);
    expect(toFirst.path[1]).toMatchObject({ siblingIndex: 0, siblingCount: 2 });
    const stored = await client.call('conversations.get', { id });
    expect(stored.conversation.activeLeafId).toBe(followUp.id);
    expect(stored.path).toEqual(toFirst.path);

    const toSecond = await client.call('conversations.setActiveLeaf', { conversationId: id, messageId: second.id });
    expect(toSecond.path.map((message) => message.content)).toEqual(['Tea or coffee?', 'Coffee.']);
    expect(toSecond.path[1]).toMatchObject({ siblingIndex: 1, siblingCount: 2 });

    const siblings = await client.call('conversations.siblings', { conversationId: id, messageId: second.id });
    expect(siblings.messages.map((message) => message.id)).toEqual([first.id, second.id]);
    expect(siblings.index).toBe(1);
    const only = await client.call('conversations.siblings', { conversationId: id, messageId: followUp.id });
    expect(only).toMatchObject({ messages: [{ id: followUp.id }], index: 0 });
  });

  it('refuses a message of another conversation with NOT_FOUND and leaves the path as it was', async () => {
    const mine = await client.call('conversations.create', {});
    const other = await client.call('conversations.create', {});
    const kept = await client.call('conversations.addMessage', { conversationId: mine.id, parentId: null, role: 'user', content: 'Mine.' });
    const foreign = await client.call('conversations.addMessage', { conversationId: other.id, parentId: null, role: 'user', content: 'Theirs.' });

    await expect(client.tryCall('conversations.setActiveLeaf', { conversationId: mine.id, messageId: foreign.id })).resolves.toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    await expect(client.tryCall('conversations.siblings', { conversationId: mine.id, messageId: foreign.id })).resolves.toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect((await client.call('conversations.get', { id: mine.id })).path.map((message) => message.id)).toEqual([kept.id]);
  });
});

describe('prompts over the contract', () => {
  it('numbers versions, renames, and filters the list by tag', async () => {
    const prompt = await client.call('prompts.create', { name: 'Summary', body: 'Summarize {{text}}.', tags: ['writing'] });
    const second = await client.call('prompts.addVersion', { id: prompt.id, body: 'Summarize {{text}} in {{words}} words.' });
    expect(second).toMatchObject({ promptId: prompt.id, version: 2, variables: ['text', 'words'] });
    const third = await client.call('prompts.addVersion', { id: prompt.id, body: 'Summarize {{ text }}.' });
    expect(third.version).toBe(3);

    const renamed = await client.call('prompts.rename', { id: prompt.id, name: 'Short summary' });
    expect(renamed).toMatchObject({ name: 'Short summary', version: 3, body: 'Summarize {{ text }}.', variables: ['text'] });

    const full = await client.call('prompts.get', { id: prompt.id });
    expect(full.versions.map((version) => [version.version, version.body])).toEqual([
      [1, 'Summarize {{text}}.'],
      [2, 'Summarize {{text}} in {{words}} words.'],
      [3, 'Summarize {{ text }}.'],
    ]);

    const other = await client.call('prompts.create', { name: 'Translate', body: 'Translate {{text}}.' });
    const tagged = await client.call('prompts.tag', { id: other.id, tag: '  daily   work ' });
    expect(tagged.tags).toEqual(['daily work']);
    await client.call('prompts.tag', { id: prompt.id, tag: 'Daily Work' });
    expect((await client.call('prompts.list', { tag: 'daily work' })).map((p) => p.id).sort()).toEqual([prompt.id, other.id].sort());
    expect((await client.call('prompts.list', { tag: 'writing' })).map((p) => p.id)).toEqual([prompt.id]);

    const untagged = await client.call('prompts.untag', { id: other.id, tag: 'daily  work' });
    expect(untagged.tags).toEqual([]);
    expect((await client.call('prompts.list', { tag: 'daily work' })).map((p) => p.id)).toEqual([prompt.id]);
  });

  it('answers unknown prompts with NOT_FOUND and a blank tag with INVALID_INPUT', async () => {
    for (const call of [
      client.tryCall('prompts.get', { id: 'nope' }),
      client.tryCall('prompts.addVersion', { id: 'nope', body: 'x' }),
      client.tryCall('prompts.rename', { id: 'nope', name: 'x' }),
      client.tryCall('prompts.tag', { id: 'nope', tag: 'x' }),
      client.tryCall('prompts.untag', { id: 'nope', tag: 'x' }),
    ]) {
      await expect(call).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    const prompt = await client.call('prompts.create', { name: 'Blank', body: '' });
    await expect(client.tryCall('prompts.tag', { id: prompt.id, tag: '   ' })).resolves.toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });
});

describe('documents over the contract', () => {
  it('keeps a document and gives it back whole, and listed without its text', async () => {
    const text = 'Chapter one.\n\nIt was a quiet morning. Ünïcödé stays intact.';
    const added = await client.call('documents.add', { name: 'notes.txt', sha256: SHA, text, chunking: { chunkTokens: 512, overlap: 64, splitter: 'paragraph' } });
    expect(added).toMatchObject({ name: 'notes.txt', sha256: SHA, text, chunking: { chunkTokens: 512, overlap: 64, splitter: 'paragraph' }, deletedAt: null });

    expect(await client.call('documents.get', { id: added.id })).toEqual(added);
    const listed = await client.call('documents.list', {});
    const summary = listed.find((document) => document.id === added.id);
    expect(summary).toMatchObject({ name: 'notes.txt', sha256: SHA, textLength: text.length });
    expect(summary).not.toHaveProperty('text');

    const bare = await client.call('documents.add', { name: 'empty.md', sha256: 'cd'.repeat(32), text: '' });
    expect(bare.chunking).toEqual({});
  });

  it('answers an unknown document with NOT_FOUND', async () => {
    await expect(client.tryCall('documents.get', { id: 'nope' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('comparisons over the contract', () => {
  it('keeps votes and gives them back with the comparison', async () => {
    const comparison = await client.call('comparisons.create', {
      title: 'Q4 against Q8',
      input: 'Write a haiku about tea.',
      columns: [{ model: 'tiny-q4' }, { model: 'tiny-q8', sampling: { temperature: 0 } }],
    });
    expect(comparison).toMatchObject({ title: 'Q4 against Q8', columns: [{ model: 'tiny-q4' }, { model: 'tiny-q8', sampling: { temperature: 0 } }] });

    const win = await client.call('comparisons.vote', { comparisonId: comparison.id, verdict: 'column', columnIndex: 1, note: 'Scans better.' });
    expect(win).toMatchObject({ verdict: 'column', columnIndex: 1, note: 'Scans better.' });
    const tie = await client.call('comparisons.vote', { comparisonId: comparison.id, verdict: 'tie' });
    expect(tie).toMatchObject({ verdict: 'tie', columnIndex: null, note: '' });

    const stored = await client.call('comparisons.get', { id: comparison.id });
    expect(stored.input).toBe('Write a haiku about tea.');
    expect(stored.votes.map((vote) => [vote.verdict, vote.columnIndex])).toEqual([
      ['column', 1],
      ['tie', null],
    ]);

    const untitled = await client.call('comparisons.create', { input: 'x', columns: [{}] });
    expect(untitled.title).toBe('');
    expect((await client.call('comparisons.list', {})).map((c) => c.id)).toEqual(expect.arrayContaining([comparison.id, untitled.id]));
    expect(await client.call('comparisons.list', { limit: 1 })).toHaveLength(1);
  });

  it('refuses a vote for a column the comparison lacks, and answers an unknown comparison with NOT_FOUND', async () => {
    const comparison = await client.call('comparisons.create', { input: 'x', columns: [{ model: 'a' }, { model: 'b' }] });
    await expect(client.tryCall('comparisons.vote', { comparisonId: comparison.id, verdict: 'column', columnIndex: 2 })).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect((await client.call('comparisons.get', { id: comparison.id })).votes).toEqual([]);
    await expect(client.tryCall('comparisons.get', { id: 'nope' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    await expect(client.tryCall('comparisons.vote', { comparisonId: 'nope', verdict: 'neither' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('malformed store calls', () => {
  const malformed: [string, unknown][] = [
    ['conversations.rename', { id: 'x' }],
    ['conversations.rename', { id: 'x', title: '' }],
    ['conversations.pin', { id: 'x', pinned: 'yes' }],
    ['conversations.configure', { id: 'x', sampling: { temperature: -1 } }],
    ['conversations.configure', { id: 'x', model: 'tiny' }],
    ['conversations.setActiveLeaf', { conversationId: 'x' }],
    ['conversations.siblings', { conversationId: 'x', messageId: 3 }],
    ['prompts.get', {}],
    ['prompts.addVersion', { id: 'x', body: 42 }],
    ['prompts.rename', { id: 'x', name: 'n'.repeat(201) }],
    ['prompts.tag', { id: 'x', tag: '' }],
    ['prompts.untag', { id: 'x' }],
    ['documents.add', { name: 'a.txt', sha256: 'not-a-hash', text: '' }],
    ['documents.add', { name: 'a.txt', sha256: SHA.toUpperCase(), text: '' }],
    ['documents.add', { name: '', sha256: SHA, text: '' }],
    ['documents.add', { name: 'a.txt', sha256: SHA, text: '', chunking: [1, 2] }],
    ['documents.get', { id: '' }],
    ['documents.list', { all: true }],
    ['comparisons.create', { input: 'x', columns: [] }],
    ['comparisons.create', { input: 'x', columns: Array.from({ length: 17 }, () => ({})) }],
    ['comparisons.create', { input: 'x', columns: ['model'] }],
    ['comparisons.get', { id: 1 }],
    ['comparisons.list', { limit: 0 }],
    ['comparisons.vote', { comparisonId: 'x', verdict: 'column' }],
    ['comparisons.vote', { comparisonId: 'x', verdict: 'tie', columnIndex: 0 }],
    ['comparisons.vote', { comparisonId: 'x', verdict: 'best' }],
  ];

  it.each(malformed)('%s refuses %j with INVALID_INPUT', async (method, input) => {
    const result = await transport.call(method, input);
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });
});
