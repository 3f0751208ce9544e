import { describe, expect, it } from 'vitest';
import { openStore } from './helpers.js';

describe('Trash', () => {
  it('hides items until restored (undo), listing what it holds, newest first', async () => {
    const store = await openStore();
    const conversation = store.conversations.create({ title: 'Old chat' });
    const prompt = store.prompts.create({ name: 'Old prompt', body: 'x' });
    const run = store.runs.create({ kind: 'api', input: 'the input of a run' });
    store.runs.finish(run, { status: 'done' });
    const document = store.documents.add({ name: 'report.pdf', sha256: 'a'.repeat(64), text: 'body' });

    store.trash.trash('conversation', conversation.id);
    store.trash.trash('prompt', prompt.id);
    store.trash.trash('run', run);
    store.trash.trash('document', document.id);
    expect(store.conversations.list().periods).toEqual([]);
    expect(store.prompts.list()).toEqual([]);
    expect(store.runs.list().items).toEqual([]);
    expect(store.documents.list()).toEqual([]);
    expect(store.trash.list().map((item) => [item.kind, item.title])).toEqual([
      ['document', 'report.pdf'],
      ['run', 'the input of a run'],
      ['prompt', 'Old prompt'],
      ['conversation', 'Old chat'],
    ]);
    // Trashing again keeps the first date.
    const firstDate = store.trash.list().find((item) => item.id === run)?.deletedAt;
    store.trash.trash('run', run);
    expect(store.trash.list().find((item) => item.id === run)?.deletedAt).toBe(firstDate);

    store.trash.restore('conversation', conversation.id);
    store.trash.restore('run', run);
    expect(store.conversations.get(conversation.id)?.deletedAt).toBeNull();
    expect(store.runs.list().items.map((item) => item.id)).toEqual([run]);
    expect(store.trash.list().map((item) => item.kind)).toEqual(['document', 'prompt']);
    expect(() => store.trash.trash('run', 'no-such-run')).toThrow(/no run/);
    expect(() => store.trash.restore('prompt', 'no-such-prompt')).toThrow(/no prompt/);
  });

  it('empties for good: rows, their children and their index entries; linked runs keep their text', async () => {
    const store = await openStore();
    const conversation = store.conversations.create({ title: 'Doomed' });
    const question = store.conversations.addMessage({ conversationId: conversation.id, parentId: null, role: 'user', content: 'quokka facts' });
    const answer = store.conversations.addMessage({ conversationId: conversation.id, parentId: question.id, role: 'assistant', content: 'quokkas smile' });
    const prompt = store.prompts.create({ name: 'Doomed prompt', body: 'quokka {{x}}' });
    const version = store.prompts.get(prompt.id)?.versions[0]?.id ?? null;
    const run = store.runs.create({ kind: 'chat', input: 'quokka facts', conversationId: conversation.id, messageId: answer.id, promptVersionId: version });
    store.runs.appendOutput(run, 'quokkas smile');
    store.runs.finish(run, { status: 'done' });
    const kept = store.conversations.create({ title: 'Kept' });

    store.trash.trash('conversation', conversation.id);
    store.trash.trash('prompt', prompt.id);
    expect(store.trash.emptyTrash()).toEqual({ conversation: 1, prompt: 1, run: 0, document: 0 });
    expect(store.trash.list()).toEqual([]);
    expect(store.conversations.get(conversation.id)).toBeNull();
    expect(store.prompts.get(prompt.id)).toBeNull();
    expect(store.conversations.get(kept.id)).not.toBeNull();
    expect(store.runs.get(run)).toMatchObject({ output: 'quokkas smile', conversationId: null, messageId: null, promptVersionId: null });
    expect(store.search.search({ text: 'quokka' }).map((hit) => hit.kind)).toEqual(['run']);

    store.trash.trash('run', run);
    expect(store.trash.emptyTrash().run).toBe(1);
    expect(store.search.search({ text: 'quokka' })).toEqual([]);
  });
});
