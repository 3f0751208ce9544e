import { describe, expect, it } from 'vitest';
import { extractVariables } from '../../electron/core/store/prompts.js';
import { openStore } from './helpers.js';

describe('PromptStore', () => {
  it('extracts {{variables}} once each, in order of first appearance', () => {
    expect(extractVariables('Translate {{ text }} into {{language}}; keep {{text}} short. {{ bad var }} {{}} {{naïve_1.x}}')).toEqual(['text', 'language', 'naïve_1.x']);
  });

  it('versions a prompt: the newest wording is current, earlier ones stay', async () => {
    const store = await openStore();
    const prompt = store.prompts.create({ name: 'Summarize', body: 'Summarize {{text}}.', tags: ['work', ' writing '] });
    expect(prompt).toMatchObject({ name: 'Summarize', version: 1, body: 'Summarize {{text}}.', variables: ['text'], tags: ['work', 'writing'] });

    const second = store.prompts.addVersion(prompt.id, 'Summarize {{text}} in {{count}} bullet points.');
    expect(second).toMatchObject({ promptId: prompt.id, version: 2, variables: ['text', 'count'] });
    const loaded = store.prompts.get(prompt.id);
    expect(loaded).toMatchObject({ version: 2, body: 'Summarize {{text}} in {{count}} bullet points.', variables: ['text', 'count'] });
    expect(loaded?.versions.map((version) => version.body)).toEqual(['Summarize {{text}}.', 'Summarize {{text}} in {{count}} bullet points.']);
    expect(() => store.prompts.addVersion('nope', 'x')).toThrow(/no prompt/);
  });

  it('tags case-insensitively and lists by tag, most recently changed first', async () => {
    const store = await openStore();
    const a = store.prompts.create({ name: 'A', body: 'a' });
    const b = store.prompts.create({ name: 'B', body: 'b', tags: ['Work'] });
    store.prompts.tag(a.id, 'work');
    store.prompts.tag(a.id, 'WORK');
    expect(store.prompts.get(a.id)?.tags).toEqual(['work']);
    // Tagging is not an edit: the order (most recently changed first) stays.
    expect(store.prompts.list({ tag: 'work' }).map((prompt) => prompt.name)).toEqual(['B', 'A']);
    store.prompts.untag(a.id, 'Work');
    expect(store.prompts.list({ tag: 'work' }).map((prompt) => prompt.id)).toEqual([b.id]);
    store.prompts.rename(a.id, 'A renamed');
    expect(store.prompts.list().map((prompt) => prompt.name)).toEqual(['A renamed', 'B']);
    expect(() => store.prompts.tag(a.id, '   ')).toThrow(/tag/);
  });
});
