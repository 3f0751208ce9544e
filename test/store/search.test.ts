import { describe, expect, it } from 'vitest';
import { toFtsQuery, type SearchHit } from '../../electron/core/store/search.js';
import type { Store } from '../../electron/core/store/store.js';
import { expectSearchIndexesIntact, openStore } from './helpers.js';

const highlighted = (hit: SearchHit | undefined) => hit?.snippet.highlights.map(([start, end]) => hit.snippet.text.slice(start, end)) ?? [];

async function sampleStore(): Promise<{ store: Store; ids: Record<string, string> }> {
  const store = await openStore();
  const conversation = store.conversations.create({ title: 'Gardening' });
  const question = store.conversations.addMessage({ conversationId: conversation.id, parentId: null, role: 'user', content: 'How deep should I plant tulip bulbs?' });
  const answer = store.conversations.addMessage({ conversationId: conversation.id, parentId: question.id, role: 'assistant', content: 'Plant tulip bulbs about 15 cm deep, pointed end up.', modelId: 'm-garden' });
  const run = store.runs.create({ kind: 'summarize', modelId: 'm-summary', input: 'A long report about the café harvest and the weather.', messageId: answer.id });
  store.runs.appendOutput(run, 'The harvest was late because of rain.');
  store.runs.finish(run, { status: 'done' });
  const translation = store.runs.create({ kind: 'translate', modelId: 'm-garden', input: 'Bonjour, la récolte est bonne.' });
  store.runs.appendOutput(translation, 'Hello, the harvest is good.');
  store.runs.finish(translation, { status: 'done' });
  const prompt = store.prompts.create({ name: 'Harvest report', body: 'Summarize the {{crop}} harvest for a farmer.' });
  return { store, ids: { conversation: conversation.id, question: question.id, answer: answer.id, run, translation, prompt: prompt.id } };
}

describe('search', () => {
  it('finds words in messages, runs and prompts, ranked, with highlighted snippets', async () => {
    const { store, ids } = await sampleStore();
    const tulips = store.search.search({ text: 'tulip' });
    expect(tulips.map((hit) => hit.kind)).toEqual(['message', 'message']);
    expect(tulips.map((hit) => hit.id).sort()).toEqual([ids['question'], ids['answer']].sort());
    expect(tulips[0]).toMatchObject({ kind: 'message', conversationId: ids['conversation'], conversationTitle: 'Gardening' });
    expect(highlighted(tulips[0])).toEqual(['tulip']);
    expect(tulips[0]?.snippet.text).not.toMatch(/[\uE000\uE001]/);

    const harvest = store.search.search({ text: 'harvest' });
    expect(new Set(harvest.map((hit) => hit.kind))).toEqual(new Set(['run', 'prompt']));
    expect(harvest).toHaveLength(3);
    // bm25: lower is better, and the list is sorted by it.
    expect(harvest.map((hit) => hit.score)).toEqual([...harvest.map((hit) => hit.score)].sort((a, b) => a - b));
    // The prompt's name weighs more than a body.
    expect(harvest[0]).toMatchObject({ kind: 'prompt', id: ids['prompt'], name: 'Harvest report' });

    // Diacritics and case are folded; a prefix ends with *; every word must match.
    expect(store.search.search({ text: 'CAFE' }).map((hit) => hit.id)).toEqual([ids['run']]);
    expect(store.search.search({ text: 'recolte' }).map((hit) => hit.id)).toEqual([ids['translation']]);
    expect(store.search.search({ text: 'harv*' })).toHaveLength(3);
    // A prefix needs three letters: "ha*" is the word "ha".
    expect(store.search.search({ text: 'ha*' })).toEqual([]);
    expect(store.search.search({ text: 'harvest rain' }).map((hit) => hit.id)).toEqual([ids['run']]);
  });

  it('narrows by kind, model, run kind and date', async () => {
    const { store, ids } = await sampleStore();
    expect(store.search.search({ text: 'harvest', kinds: ['run'] }).map((hit) => hit.kind)).toEqual(['run', 'run']);
    expect(store.search.search({ text: 'harvest', kinds: ['prompt', 'message'] }).map((hit) => hit.id)).toEqual([ids['prompt']]);
    expect(store.search.search({ text: 'harvest', model: 'm-garden' }).map((hit) => hit.id)).toEqual([ids['translation']]);
    expect(store.search.search({ text: 'tulip', model: 'm-garden' }).map((hit) => hit.id)).toEqual([ids['answer']]);
    expect(store.search.search({ text: 'harvest', runKind: 'summarize', kinds: ['run'] }).map((hit) => hit.id)).toEqual([ids['run']]);
    const translatedAt = store.runs.get(ids['translation'] ?? '')?.createdAt ?? 0;
    expect(store.search.search({ text: 'harvest', kinds: ['run'], since: translatedAt }).map((hit) => hit.id)).toEqual([ids['translation']]);
    expect(store.search.search({ text: 'harvest', kinds: ['run'], until: translatedAt }).map((hit) => hit.id)).toEqual([ids['run']]);
    expect(store.search.search({ text: 'harvest', limit: 1 })).toHaveLength(1);
  });

  it('follows updates and deletions through the triggers', async () => {
    const { store, ids } = await sampleStore();
    const promptId = ids['prompt'] ?? '';
    // A new version replaces the indexed wording; a rename replaces the indexed name.
    store.prompts.addVersion(promptId, 'Describe the {{crop}} yield in one line.');
    store.prompts.rename(promptId, 'Yield note');
    expect(store.search.search({ text: 'farmer' })).toEqual([]);
    expect(store.search.search({ text: 'yield' }).map((hit) => hit.id)).toEqual([promptId]);

    // A run is indexed when it stops running, with all its text.
    const live = store.runs.create({ kind: 'chat', input: 'zebra question' });
    store.runs.appendOutput(live, 'zebra stripes');
    expect(store.search.search({ text: 'stripes' })).toEqual([]);
    store.runs.finish(live, { status: 'cancelled' });
    expect(store.search.search({ text: 'stripes' }).map((hit) => hit.id)).toEqual([live]);

    // The trash hides; emptying it removes the rows and their index entries.
    store.trash.trash('conversation', ids['conversation'] ?? '');
    store.trash.trash('run', live);
    expect(store.search.search({ text: 'tulip' })).toEqual([]);
    expect(store.search.search({ text: 'stripes' })).toEqual([]);
    store.trash.restore('conversation', ids['conversation'] ?? '');
    expect(store.search.search({ text: 'tulip' })).toHaveLength(2);
    store.trash.trash('conversation', ids['conversation'] ?? '');
    store.trash.emptyTrash();
    expect(store.search.search({ text: 'tulip' })).toEqual([]);

    // The indexes still agree with their tables (FTS5's integrity check compares both).
    expectSearchIndexesIntact(store.file);
    expect(store.search.search({ text: 'harvest' }).map((hit) => hit.id).sort()).toEqual([ids['run'], ids['translation']].sort());
  });

  it('ranks only the newest matches of a very common word, with filters applied before the window', async () => {
    const store = await openStore();
    const oldest = store.runs.create({ kind: 'translate', modelId: 'm-rare', input: 'common ground' });
    store.runs.finish(oldest, { status: 'done' });
    store.transaction(() => {
      for (let i = 0; i < 2100; i++) {
        const run = store.runs.create({ kind: 'chat', modelId: 'm-busy', input: `common word number ${i}` });
        store.runs.finish(run, { status: 'done' });
      }
    });
    expect(store.search.search({ text: 'common', limit: 200 })).toHaveLength(200);
    // Beyond the newest 2,000 matches, but the only one on that model, kind and date.
    expect(store.search.search({ text: 'common', model: 'm-rare' }).map((hit) => hit.id)).toEqual([oldest]);
    expect(store.search.search({ text: 'common', runKind: 'translate' }).map((hit) => hit.id)).toEqual([oldest]);
    const createdAt = store.runs.get(oldest)?.createdAt ?? 0;
    expect(store.search.search({ text: 'common', until: createdAt + 1 }).map((hit) => hit.id)).toEqual([oldest]);
  });

  it('indexes finished runs through a queue: a search catches up a slice, the rest is counted', async () => {
    const store = await openStore();
    store.transaction(() => {
      for (let i = 0; i < 1500; i++) {
        const run = store.runs.create({ kind: 'batch', modelId: 'm-bulk', input: `bulk item ${i}` });
        store.runs.finish(run, { status: 'done' });
      }
    });
    expect(store.search.pendingRuns()).toBe(1500);
    // A search indexes the oldest 1,000 first and leaves the rest to the background indexer.
    expect(store.search.search({ text: 'bulk', kinds: ['run'], limit: 200 })).toHaveLength(200);
    expect(store.search.pendingRuns()).toBe(500);
    expect(store.search.hasPending()).toBe(true);
    expect(store.search.indexPending(200)).toBe(200);
    expect(store.search.pendingRuns()).toBe(300);
    expect(store.search.indexPending(10_000)).toBe(300);
    expect(store.search.hasPending()).toBe(false);
    expect(store.search.search({ text: '1499', kinds: ['run'] })).toHaveLength(1);
    // Filter tokens live in the index but are never found as words, and never rank.
    expect(store.search.search({ text: 'kbatch' })).toEqual([]);
    expect(store.search.search({ text: 'bulk 7', kinds: ['run'], runKind: 'batch', model: 'm-bulk' }).map((hit) => hit.snippet.text)).toEqual(['bulk item 7']);
    expect(store.search.search({ text: 'bulk', model: 'm-other' })).toEqual([]);
    // A run still generating when the index passes it is indexed once it finishes.
    const slow = store.runs.create({ kind: 'chat', input: 'tortoise' });
    const quick = store.runs.create({ kind: 'chat', input: 'hare' });
    store.runs.finish(quick, { status: 'done' });
    expect(store.search.search({ text: 'hare' }).map((hit) => hit.id)).toEqual([quick]);
    store.runs.appendOutput(slow, ' arrives');
    store.runs.finish(slow, { status: 'done' });
    expect(store.search.pendingRuns()).toBe(1);
    expect(store.search.search({ text: 'tortoise arrives' }).map((hit) => hit.id)).toEqual([slow]);
    // A queued run deleted before it was indexed leaves nothing behind; an indexed one neither.
    const queued = store.runs.create({ kind: 'chat', input: 'ephemeral words' });
    store.runs.finish(queued, { status: 'done' });
    store.trash.trash('run', queued);
    store.trash.emptyTrash();
    expect(store.search.pendingRuns()).toBe(0);
    expectSearchIndexesIntact(store.file);
  });

  it('never throws on what a person might type', async () => {
    const { store } = await sampleStore();
    const hostile = ['"', '""', '"tulip', 'tulip"', '*', '**', 'tul*ip', '-', '-tulip', 'tulip -bulbs', 'OR', 'tulip OR', 'AND NOT', 'NEAR(tulip bulbs)', 'NEAR', '(', ')', '(tulip', 'tulip:', 'content:tulip', '^tulip', '+', '{', '}', '[tulip]', "'", ';', '--', '/*', '\\', '\u0000', '\uE000tulip\uE001', '🌷', '   ', '', 'a'.repeat(5000), Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')];
    for (const text of hostile) expect(() => store.search.search({ text }), JSON.stringify(text)).not.toThrow();
    expect(store.search.search({ text: '"tulip' }).length).toBe(2);
    expect(store.search.search({ text: 'OR' })).toEqual([]);
    expect(store.search.search({ text: 'tulip OR' })).toEqual([]);
  });

  it('quotes every word of a query', () => {
    expect(toFtsQuery('say "hi" -now OR never*')).toBe('"say" """hi""" "-now" "OR" "never"*');
    expect(toFtsQuery(' * - " ')).toBeNull();
  });
});
