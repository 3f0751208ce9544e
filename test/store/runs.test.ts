import { describe, expect, it } from 'vitest';
import { EmergentError } from '../../electron/common/errors.js';
import { timeOrderedId } from '../../electron/core/store/ids.js';
import { openStore, tempDataDir } from './helpers.js';

describe('RunStore', () => {
  it('creates a running run, appends output in batches and finishes it with metrics', async () => {
    const store = await openStore();
    const id = store.runs.create({ id: 'run-1', kind: 'completion', modelId: 'm-abc', modelPath: '/models/a.gguf', parameters: { temperature: 0 }, input: 'Once upon' });
    expect(id).toBe('run-1');
    expect(store.runs.get(id)).toMatchObject({ status: 'running', output: '', finishedAt: null, parameters: { temperature: 0 } });

    expect(store.runs.appendOutput(id, ' a time')).toBe(true);
    expect(store.runs.appendOutput(id, ', there')).toBe(true);
    expect(store.runs.appendOutput(id, ' was')).toBe(true);
    expect(store.runs.get(id)?.output).toBe(' a time, there was');

    expect(store.runs.finish(id, { status: 'done', metrics: { generatedTokens: 3, tokensPerSecond: 41.5 } })).toBe(true);
    const run = store.runs.get(id);
    expect(run).toMatchObject({ status: 'done', error: null, metrics: { generatedTokens: 3, tokensPerSecond: 41.5 } });
    expect(run?.finishedAt).toBeGreaterThan(run?.createdAt ?? Infinity);

    // After the end, late text and a second finish change nothing.
    expect(store.runs.appendOutput(id, ' late')).toBe(false);
    expect(store.runs.finish(id, { status: 'cancelled' })).toBe(false);
    expect(store.runs.get(id)).toMatchObject({ status: 'done', output: ' a time, there was' });
  });

  it('records an error with its code and message', async () => {
    const store = await openStore();
    const id = store.runs.create({ kind: 'chat', input: 'hi' });
    store.runs.appendOutput(id, 'partial');
    store.runs.finish(id, { status: 'error', error: { code: 'MODEL_CRASHED_BEFORE', message: 'It crashed.' } });
    expect(store.runs.get(id)).toMatchObject({ status: 'error', output: 'partial', error: { code: 'MODEL_CRASHED_BEFORE', message: 'It crashed.' } });
    expect(() => store.runs.finish('no-such-run', { status: 'done' })).toThrow(EmergentError);
  });

  it('marks runs left running by a previous process as interrupted, keeping their text', async () => {
    const dataDir = tempDataDir();
    const before = await openStore({ dataDir });
    const crashed = before.runs.create({ kind: 'chat', input: 'q1' });
    before.runs.appendOutput(crashed, 'half an ans');
    const alsoCrashed = before.runs.create({ kind: 'summarize', input: 'q2' });
    const done = before.runs.create({ kind: 'chat', input: 'q3' });
    before.runs.finish(done, { status: 'done' });
    const lastTextAt = before.runs.get(crashed)?.updatedAt;
    before.close();

    const after = await openStore({ dataDir });
    expect(after.runs.markInterrupted()).toBe(2);
    expect(after.runs.get(crashed)).toMatchObject({ status: 'interrupted', output: 'half an ans', finishedAt: lastTextAt });
    expect(after.runs.get(alsoCrashed)?.status).toBe('interrupted');
    expect(after.runs.get(done)?.status).toBe('done');
    expect(after.runs.markInterrupted()).toBe(0);
  });

  it('lists newest first with filters and a cursor that walks every page once', async () => {
    const store = await openStore();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = store.runs.create({ kind: i % 2 === 0 ? 'chat' : 'completion', modelId: i % 3 === 0 ? 'm-three' : 'm-other', input: `input ${i} ${'x'.repeat(500)}` });
      if (i % 5 === 0) store.runs.finish(id, { status: 'error', error: { code: 'X', message: 'x' } });
      else store.runs.finish(id, { status: 'done' });
      ids.push(id);
    }
    const walked: string[] = [];
    let cursor: string | undefined;
    do {
      const page = store.runs.list({ limit: 7, ...(cursor === undefined ? {} : { cursor }) });
      walked.push(...page.items.map((run) => run.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(walked).toEqual([...ids].reverse());

    const first = store.runs.list({ limit: 1 }).items[0];
    expect(first?.inputPreview).toHaveLength(200);

    expect(store.runs.list({ kind: 'chat' }).items).toHaveLength(13);
    expect(store.runs.list({ status: 'error' }).items.map((run) => run.id)).toEqual([ids[20], ids[15], ids[10], ids[5], ids[0]]);
    expect(store.runs.list({ model: 'm-three', kind: 'completion' }).items.map((run) => run.id)).toEqual([ids[21], ids[15], ids[9], ids[3]]);
    const middle = store.runs.get(ids[10] ?? '')?.createdAt ?? 0;
    const until = store.runs.get(ids[12] ?? '')?.createdAt ?? 0;
    expect(store.runs.list({ since: middle, until }).items.map((run) => run.id)).toEqual([ids[11], ids[10]]);

    store.trash.trash('run', ids[24] ?? '');
    expect(store.runs.list({ limit: 1 }).items[0]?.id).toBe(ids[23]);
    expect(() => store.runs.list({ cursor: 'garbage' })).toThrow(/cursor/);
  });
});

describe('timeOrderedId', () => {
  it('is a version 7 UUID whose order follows time', () => {
    const earlier = timeOrderedId(Date.UTC(2025, 0, 1));
    const later = timeOrderedId(Date.UTC(2025, 0, 1) + 1);
    expect(earlier).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(earlier.slice(0, 13)).toBe('01941f29-7c00');
    expect(earlier < later).toBe(true);
    expect(timeOrderedId()).not.toBe(timeOrderedId());
  });
});
