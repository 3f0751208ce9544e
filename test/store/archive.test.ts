import { describe, expect, it } from 'vitest';
import { EmergentError } from '../../electron/common/errors.js';
import { ARCHIVE_VERSION, type Archive } from '../../electron/core/store/archive.js';
import type { Store } from '../../electron/core/store/store.js';
import { expectSearchIndexesIntact, openStore, steppingClock } from './helpers.js';

/** A store with something in every table, branches, the trash and every run outcome. */
async function populatedStore(): Promise<Store> {
  const store = await openStore();
  store.models.add({ id: 'm-1', path: '/models/tiny.gguf', name: 'Tiny', sizeBytes: 1234, metadata: { architecture: 'llama', context: 2048 }, sha256: 'b'.repeat(64) });
  store.models.markUsed('m-1');
  const document = store.documents.add({ name: 'notes.txt', sha256: 'c'.repeat(64), text: 'Some notes.', chunking: { size: 512, overlap: 64 } });
  const prompt = store.prompts.create({ name: 'Translate', body: 'Translate {{text}}', tags: ['lang', 'work'] });
  const version = store.prompts.addVersion(prompt.id, 'Translate {{text}} into {{language}}');
  const trashedPrompt = store.prompts.create({ name: 'Old', body: 'old' });
  store.trash.trash('prompt', trashedPrompt.id);

  const chat = store.conversations.create({ title: 'Ünïcode & "quotes"', systemPrompt: 'Be kind.', modelId: 'm-1', modelPath: '/models/tiny.gguf', sampling: { temperature: 0.5, seed: null } });
  const q = store.conversations.addMessage({ conversationId: chat.id, parentId: null, role: 'user', content: 'Hello?\n\n# not a heading' });
  // The reply is written by its run: the message gets the run's text when the run ends.
  const a1 = store.conversations.addMessage({ conversationId: chat.id, parentId: q.id, role: 'assistant', content: '', modelId: 'm-1' });
  store.conversations.addMessage({ conversationId: chat.id, parentId: q.id, role: 'assistant', content: 'Hello there.', modelId: 'm-1' });
  store.conversations.setActiveLeaf(chat.id, a1.id);
  store.conversations.pin(chat.id, true);
  const trashed = store.conversations.create({ title: 'Trashed', contextOverflow: 'stop' });
  store.conversations.addMessage({ conversationId: trashed.id, parentId: null, role: 'user', content: 'bye' });
  store.trash.trash('conversation', trashed.id);

  const done = store.runs.create({ kind: 'chat', modelId: 'm-1', modelPath: '/models/tiny.gguf', parameters: { maxTokens: 16, stop: ['\n'] }, input: 'Hello?', conversationId: chat.id, messageId: a1.id, promptVersionId: version.id });
  store.runs.appendOutput(done, 'Hi! 👋');
  store.runs.finish(done, { status: 'done', metrics: { tokensPerSecond: 123.456, timeToFirstTokenMs: null, generatedTokens: 4 } });
  const failed = store.runs.create({ kind: 'summarize', input: 'long text', documentId: document.id });
  store.runs.finish(failed, { status: 'error', error: { code: 'CONTEXT_TOO_LARGE', message: 'Too long.' } });
  const interrupted = store.runs.create({ kind: 'batch', input: 'batch' });
  store.runs.appendOutput(interrupted, 'partial');
  store.runs.markInterrupted();

  const comparison = store.comparisons.create({ title: 'Q4 vs Q8', input: 'Write a haiku.', columns: [{ model: 'm-1', runId: done }, { model: 'm-2' }] });
  store.comparisons.vote(comparison.id, { verdict: 'column', columnIndex: 1, note: 'crisper' });
  store.comparisons.vote(comparison.id, { verdict: 'tie' });
  store.settings.set('layout', { sidebar: 240, panels: ['chat', 'runs'] });
  store.settings.set('zoom', 1.25);
  store.presets.save({ name: 'Terse', systemPrompt: 'One line.', settings: { temperature: 0.2, maxTokens: 64, stop: ['\n'] } });
  const draft = store.presets.save({ name: 'Draft' });
  store.presets.save({ id: draft.id, name: 'Creative', settings: { temperature: 1.1, seed: null } });
  return store;
}

const withoutDate = (archive: Archive) => JSON.stringify({ ...archive, exportedAt: null });

async function importError(store: Store, input: unknown): Promise<EmergentError> {
  try {
    store.archive.importArchive(input);
  } catch (err) {
    if (err instanceof EmergentError) return err;
    throw err;
  }
  throw new Error('The import was accepted.');
}

describe('archive', () => {
  it('round-trips: export, import into a fresh database, export again gives the same bytes', async () => {
    const source = await populatedStore();
    const exported = source.archive.exportAll();
    expect(exported).toMatchObject({ format: 'emergent-archive', version: 2 });
    expect(exported.presets.map(({ name, systemPrompt, settings }) => ({ name, systemPrompt, settings }))).toEqual([
      { name: 'Terse', systemPrompt: 'One line.', settings: { temperature: 0.2, maxTokens: 64, stop: ['\n'] } },
      { name: 'Creative', systemPrompt: '', settings: { temperature: 1.1, seed: null } },
    ]);
    expect(exported.conversations.map((conversation) => [conversation.title, conversation.contextOverflow])).toEqual([['Ünïcode & "quotes"', 'shift'], ['Trashed', 'stop']]);
    const text = JSON.stringify(exported, null, 2);

    const target = await openStore({ now: steppingClock(Date.UTC(2030, 0, 1)) });
    const report = target.archive.importArchive(text);
    expect(report.inserted).toEqual({ models: 1, documents: 1, prompts: 2, promptVersions: 3, promptTags: 2, presets: 2, conversations: 2, messages: 4, runs: 3, comparisons: 1, comparisonVotes: 2, settings: 2 });
    expect(Object.values(report.skipped).every((count) => count === 0)).toBe(true);

    const again = target.archive.exportAll();
    expect(again.exportedAt).not.toBe(exported.exportedAt);
    expect(withoutDate(again)).toBe(withoutDate(exported));

    // Derived data is rebuilt: the search index, the prompt's current wording, the tree.
    expect(target.search.search({ text: 'hello' }).map((hit) => hit.kind).sort()).toEqual(['message', 'message', 'run']);
    expect(target.prompts.list().map((prompt) => prompt.body)).toEqual(['Translate {{text}} into {{language}}']);
    const chat = target.conversations.list().pinned[0];
    expect(target.conversations.activePath(chat?.id ?? '').map((message) => message.content)).toEqual(['Hello?\n\n# not a heading', 'Hi! 👋']);
    expect(target.presets.list()).toEqual(source.presets.list());
    expectSearchIndexesIntact(target.file);
  });

  it('imports a version 1 archive (before presets): no presets, conversations shift', async () => {
    const source = await populatedStore();
    const current = source.archive.exportAll();
    const { presets: _presets, ...rest } = current;
    const v1 = { ...rest, version: 1, conversations: current.conversations.map(({ contextOverflow: _overflow, ...conversation }) => conversation) };

    const target = await openStore();
    const report = target.archive.importArchive(JSON.stringify(v1));
    expect(report.inserted.conversations).toBe(2);
    expect(report.inserted.presets).toBe(0);
    expect(target.presets.list()).toEqual([]);
    const imported = target.archive.exportAll();
    expect(imported.version).toBe(ARCHIVE_VERSION);
    expect(imported.conversations.map((conversation) => [conversation.title, conversation.contextOverflow])).toEqual([['Ünïcode & "quotes"', 'shift'], ['Trashed', 'shift']]);
    expect(imported.messages).toEqual(current.messages);

    // Each version has its own shape: presets in a version 1 archive, or none in a version 2 one, are malformed.
    expect((await importError(target, { ...v1, presets: [] })).message).toMatch(/malformed/);
    expect((await importError(target, rest)).message).toMatch(/malformed at presets/);
    expect((await importError(target, { ...current, conversations: v1.conversations })).message).toMatch(/malformed at conversations\.0\.contextOverflow/);
  });

  it('gives a reply exported mid-generation its text so far, once, when it arrives interrupted', async () => {
    const source = await openStore();
    const chat = source.conversations.create({ title: 'Live' });
    const question = source.conversations.addMessage({ conversationId: chat.id, parentId: null, role: 'user', content: 'Tell me a story.' });
    const reply = source.conversations.addMessage({ conversationId: chat.id, parentId: question.id, role: 'assistant', content: 'Once' });
    const run = source.runs.create({ kind: 'chat', conversationId: chat.id, messageId: reply.id });
    source.runs.appendOutput(run, ' upon a time');
    const archive = source.archive.exportAll();
    expect(archive.messages[1]?.content).toBe('Once');
    expect(archive.runs[0]?.status).toBe('running');

    const target = await openStore();
    target.archive.importArchive(archive);
    expect(target.conversations.messages(chat.id).map((message) => message.content)).toEqual(['Tell me a story.', 'Once upon a time']);
    expect(target.runs.get(run)).toMatchObject({ status: 'interrupted', output: ' upon a time', finishedAt: archive.runs[0]?.updatedAt });
    expect(target.search.search({ text: 'upon' }).map((hit) => hit.kind)).toContain('message');
    // Again: the message is already here, so nothing is appended twice.
    target.archive.importArchive(archive);
    expect(target.conversations.messages(chat.id)[1]?.content).toBe('Once upon a time');
    // Into the database it came from: the live run goes on, untouched.
    source.archive.importArchive(archive);
    expect(source.runs.get(run)?.status).toBe('running');
    expect(source.conversations.messages(chat.id)[1]?.content).toBe('Once');
  });

  it('imports idempotently: the second time every row is skipped and nothing changes', async () => {
    const source = await populatedStore();
    const archive = source.archive.exportAll();
    const target = await openStore();
    target.archive.importArchive(archive);
    const before = withoutDate(target.archive.exportAll());
    const report = target.archive.importArchive(archive);
    expect(Object.values(report.inserted).every((count) => count === 0)).toBe(true);
    expect(report.skipped.runs).toBe(3);
    expect(withoutDate(target.archive.exportAll())).toBe(before);
    // Importing into the database it came from changes nothing either.
    const own = withoutDate(source.archive.exportAll());
    source.archive.importArchive(archive);
    expect(withoutDate(source.archive.exportAll())).toBe(own);
  });

  it('refuses malformed archives with ARCHIVE_INVALID and changes nothing', async () => {
    const source = await populatedStore();
    const good = source.archive.exportAll();
    const target = await openStore();
    target.conversations.create({ title: 'Already here' });
    const before = withoutDate(target.archive.exportAll());

    const orphan = structuredClone(good);
    orphan.messages.push({ id: 'orphan', conversationId: 'no-such-conversation', parentId: null, role: 'user', content: 'lost', modelId: null, createdAt: 1 });
    const badRun = structuredClone(good) as unknown as { runs: { status: string }[] };
    if (badRun.runs[0]) badRun.runs[0].status = 'exploded';
    const badVote = structuredClone(good);
    if (badVote.comparisonVotes[0]) badVote.comparisonVotes[0].columnIndex = null;
    const cases: [string, unknown, RegExp][] = [
      ['not JSON', '{"format": "emergent-archive", ', /not JSON/],
      ['not an object', 42, /not an Emergent archive/],
      ['another format', { ...good, format: 'something-else' }, /not an Emergent archive/],
      ['from the future', { ...good, version: ARCHIVE_VERSION + 1 }, /newer Emergent/],
      ['a missing table', { ...good, runs: undefined }, /malformed at runs/],
      ['an unknown field', { ...good, surprise: [] }, /malformed/],
      ['an invalid run status', badRun, /malformed at runs\.0\.status/],
      ['a vote without its column', badVote, /malformed at comparisonVotes\.0/],
      ['a dangling reference', orphan, /refers to rows it does not contain/],
    ];
    for (const [name, input, message] of cases) {
      const error = await importError(target, input);
      expect(error.code, name).toBe('ARCHIVE_INVALID');
      expect(error.message, name).toMatch(message);
      expect(withoutDate(target.archive.exportAll()), name).toBe(before);
    }
    expect(target.search.search({ text: 'hello' })).toEqual([]);
  });

  it('exports a conversation as Markdown (the branch on screen) and as JSON (every branch)', async () => {
    const store = await populatedStore();
    const chat = store.conversations.list().pinned[0]?.id ?? '';
    const markdown = store.archive.conversationMarkdown(chat);
    expect(markdown).toMatch(/^# Ünïcode & "quotes"\n\nModel: `\/models\/tiny.gguf` · Started \d{4}-\d\d-\d\dT[\d:.]+Z · Exported from Emergent\n/);
    expect(markdown).toContain('## System\n\nBe kind.\n\n## User\n\nHello?\n\n# not a heading\n\n## Assistant (m-1)\n\nHi! 👋\n');
    expect(markdown).not.toContain('Hello there.');

    const json = store.archive.conversationJson(chat);
    expect(json).toMatchObject({ format: 'emergent-conversation', version: 1, conversation: { id: chat, pinned: true } });
    expect(json.messages.map((message) => message.content)).toEqual(['Hello?\n\n# not a heading', 'Hi! 👋', 'Hello there.']);
    expect(() => store.archive.conversationMarkdown('nope')).toThrow(/no conversation/);
  });
});
