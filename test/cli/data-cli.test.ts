import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEmergent } from '../helpers/cli.js';
import { writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const CORPUS = 'the kettle sang on the stove. the kettle sang again.\n';
let modelPath: string;
let dataDir: string;
let runId: string;

beforeAll(async () => {
  modelPath = await writeBigramModel(CORPUS, 'kettle');
  dataDir = tempDir();
  const run = await runEmergent(
    ['run', '--model', modelPath, '--prompt', 'the kettle', '--temperature', '0', '--repeat-penalty', '1', '--max-tokens', '30', '--data-dir', dataDir],
  );
  expect(run.status).toBe(0);
  const list = await runEmergent(['runs', 'list', '--json', '--data-dir', dataDir]);
  runId = (JSON.parse(list.stdout) as { items: { id: string }[] }).items[0]?.id ?? '';
});

const data = (...args: string[]) => runEmergent([...args, '--data-dir', dataDir]);

describe('emergent runs, search, export, import, backup', () => {
  it('lists and shows the runs `emergent run` saved', async () => {
    const list = await data('runs', 'list', '--kind', 'completion', '--status', 'done', '--json');
    const items = (JSON.parse(list.stdout) as { items: { id: string; status: string; inputPreview: string }[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: runId, status: 'done', inputPreview: 'the kettle' });
    expect((JSON.parse((await data('runs', 'list', '--status', 'error', '--json')).stdout) as { items: unknown[] }).items).toEqual([]);
    const text = await data('runs', 'list');
    expect(text.stdout).toContain(runId);

    const show = await data('runs', 'show', runId, '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({ id: runId, input: 'the kettle', status: 'done', parameters: { maxTokens: 30 } });
    const missing = await data('runs', 'show', 'no-such-run');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error NOT_FOUND: /);
  });

  it('finds the run by a word of its input', async () => {
    const result = await data('search', 'kettle', '--json');
    const hits = (JSON.parse(result.stdout) as { hits: { kind: string; id: string; snippet: { text: string; highlights: [number, number][] } }[] }).hits;
    const hit = hits.find((candidate) => candidate.id === runId);
    expect(hit?.kind).toBe('run');
    const [start, end] = hit?.snippet.highlights[0] ?? [0, 0];
    expect(hit?.snippet.text.slice(start, end).toLowerCase()).toBe('kettle');
    expect((await data('search', '"unbalanced', 'OR', '*')).status).toBe(0);
  });

  it('exports, imports into a fresh store, and exports the same again', async () => {
    const archive = path.join(tempDir(), 'archive.json');
    expect((await data('export', '--out', archive)).status).toBe(0);
    const fresh = tempDir();
    const imported = await runEmergent(['import', archive, '--data-dir', fresh]);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toMatch(/^Imported [1-9]\d* rows; 0 were already there/);
    const again = await runEmergent(['import', archive, '--data-dir', fresh]);
    expect(again.stdout).toMatch(/^Imported 0 rows; [1-9]\d* were already there/);
    const second = path.join(tempDir(), 'second.json');
    expect((await runEmergent(['export', '--out', second, '--data-dir', fresh])).status).toBe(0);
    const strip = (file: string) => ({ ...(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>), exportedAt: null });
    expect(strip(second)).toEqual(strip(archive));
  });

  it('refuses a malformed archive and changes nothing', async () => {
    const bad = path.join(tempDir(), 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ format: 'emergent-archive', version: 1, runs: [{ id: 5 }] }));
    const fresh = tempDir();
    const result = await runEmergent(['import', bad, '--data-dir', fresh]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error ARCHIVE_INVALID: /);
    const list = await runEmergent(['runs', 'list', '--json', '--data-dir', fresh]);
    expect((JSON.parse(list.stdout) as { items: unknown[] }).items).toEqual([]);
    fs.writeFileSync(bad, 'not json at all');
    expect((await runEmergent(['import', bad, '--data-dir', fresh])).stderr).toMatch(/^error ARCHIVE_INVALID: /);
  });

  it('backs the database up to a file another Emergent can open', async () => {
    const copyDir = tempDir();
    const result = await data('backup', '--out', path.join(copyDir, 'emergent.db'));
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Wrote .*emergent\.db \(\d+ bytes\)/);
    const list = await runEmergent(['runs', 'list', '--json', '--data-dir', copyDir]);
    expect((JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((item) => item.id)).toEqual([runId]);
  });
});
