/**
 * Store benchmarks: inserting runs the way the app does (create, append, finish) in batches,
 * full-text search latency over them, and opening the database (with migrations) fresh and
 * existing. The text is generated from a Zipf-distributed vocabulary so the search index has
 * the shape of real text: a few very common words, a long tail of rare ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../electron/core/store/store.js';
import type { RunKind } from '../electron/core/store/runs.js';
import { median, type BenchSection } from './report.js';
import { bareInsertMs } from './store-reference.js';

export interface StoreBenchOptions {
  runs?: number;
  queries?: number;
  /** Runs per transaction, as a batch task or an import would commit them. */
  batch?: number;
}

/** mulberry32: a small seeded generator, so every bench run indexes the same text. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUNCTION_WORDS = ['the', 'of', 'and', 'to', 'a', 'in', 'is', 'it', 'that', 'for', 'was', 'on', 'with', 'as', 'be', 'at', 'by', 'this', 'from', 'or'];
const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tas', 'vo', 'shi', 'pel', 'dor', 'an', 'qu', 'ix', 'ber', 'to', 'sam', 'ul', 'ne', 'gra', 'fi', 'mon', 'et', 'zu', 'cal', 'ri', 'os', 'hen', 'da', 'ly', 've', 'bru'];

/** A vocabulary: the commonest English function words, then made-up words, most frequent first. */
function vocabulary(size: number, next: () => number): string[] {
  const words = new Set(FUNCTION_WORDS);
  while (words.size < size) {
    const syllables = 2 + Math.floor(next() * 3);
    let word = '';
    for (let i = 0; i < syllables; i++) word += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/** Draws words with probability proportional to 1 / rank (Zipf's law, as in natural text). */
function zipf(words: readonly string[], next: () => number): () => string {
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= words.length; rank++) cumulative.push((total += 1 / rank));
  return () => {
    const target = next() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] ?? Infinity) < target) low = middle + 1;
      else high = middle;
    }
    return words[low] ?? '';
  };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const KINDS: RunKind[] = ['chat', 'completion', 'summarize', 'translate', 'compare', 'batch', 'api'];

export async function benchStore(options: StoreBenchOptions = {}): Promise<BenchSection[]> {
  const runCount = options.runs ?? 100_000;
  const queryCount = options.queries ?? 300;
  const batch = options.batch ?? 1000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'emergent-store-bench-'));
  try {
    const next = random(42);
    const words = vocabulary(20_000, next);
    const word = zipf(words, next);
    const sentence = (count: number) => Array.from({ length: count }, word).join(' ');
    // Text prepared up front: the timing is the store's, not the generator's.
    const texts = Array.from({ length: runCount }, (_, i) => ({
      kind: KINDS[i % KINDS.length] ?? 'chat',
      model: `m-${i % 5}`,
      input: sentence(10 + Math.floor(next() * 30)),
      output: [sentence(20 + Math.floor(next() * 40)), sentence(20 + Math.floor(next() * 40))] as const,
    }));
    const textBytes = texts.reduce((sum, text) => sum + text.input.length + text.output[0].length + text.output[1].length, 0);

    // 1. Opening a fresh database: create the file and run every migration.
    const freshOpens: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const store = await Store.open(path.join(root, `fresh-${i}`));
      freshOpens.push(performance.now() - started);
      store.close();
    }

    // 2. Inserting runs as the app does: create, output in two appends, finish with metrics.
    const dataDir = path.join(root, 'big');
    let store = await Store.open(dataDir);
    const insertStarted = performance.now();
    for (let start = 0; start < runCount; start += batch) {
      store.transaction(() => {
        for (let i = start; i < Math.min(runCount, start + batch); i++) {
          const text = texts[i];
          if (text === undefined) continue;
          const id = store.runs.create({ kind: text.kind, modelId: text.model, modelPath: `/models/${text.model}.gguf`, parameters: { temperature: 0.7, maxTokens: 256 }, input: text.input });
          store.runs.appendOutput(id, text.output[0]);
          store.runs.appendOutput(id, ` ${text.output[1]}`);
          store.runs.finish(id, { status: 'done', metrics: { generatedTokens: 64, tokensPerSecond: 42.5, timeToFirstTokenMs: 12.3 } });
        }
      });
    }
    const insertMs = performance.now() - insertStarted;

    // 2a. Making them searchable: the background indexer's work, slice by slice.
    const indexStarted = performance.now();
    let slices = 0;
    while (store.search.indexPending(500) > 0) slices++;
    if (store.search.pendingRuns() !== 0) throw new Error('The search index did not catch up.');
    const indexMs = performance.now() - indexStarted;

    // 2b. The bulk path: the whole history exported and imported into a fresh database (moving
    //     to a new machine), one statement per run in one transaction, validated first.
    const exportStarted = performance.now();
    const archive = store.archive.exportAll();
    const exportMs = performance.now() - exportStarted;
    const imported = await Store.open(path.join(root, 'imported'));
    const importStarted = performance.now();
    const importReport = imported.archive.importArchive(archive);
    const importMs = performance.now() - importStarted;
    imported.close();
    if (importReport.inserted.runs !== runCount) throw new Error(`Import inserted ${importReport.inserted.runs} runs, not ${runCount}.`);

    const bareMs = bareInsertMs(
      path.join(root, 'bare'),
      archive.runs.map((run) => ({ id: run.id, kind: run.kind, model: run.modelId ?? '', input: run.input, output: run.output })),
      batch,
    );

    // 2c. Rows alone: runs created but not finished are not in the search index yet, so this
    //     is the cost of the rows and their indexes without full-text indexing.
    const rowsOnly = await Store.open(path.join(root, 'rows-only'));
    const rowsStarted = performance.now();
    for (let start = 0; start < runCount; start += batch) {
      rowsOnly.transaction(() => {
        for (let i = start; i < Math.min(runCount, start + batch); i++) {
          const text = texts[i];
          if (text !== undefined) rowsOnly.runs.create({ kind: text.kind, modelId: text.model, parameters: { temperature: 0.7 }, input: `${text.input} ${text.output[0]} ${text.output[1]}` });
        }
      });
    }
    const rowsOnlyMs = performance.now() - rowsStarted;
    rowsOnly.close();

    // 3. Search, as a person types: a word from anywhere in the vocabulary (mostly rare), a
    //    common word with a rarer one, a common topic word alone, a prefix. Function words
    //    ("the", "of") are left out: nobody searches for them.
    const content = words.slice(FUNCTION_WORDS.length);
    const anyWord = () => content[Math.floor(next() * content.length)] ?? '';
    const commonWord = () => content[Math.floor(next() * 500)] ?? '';
    const mix = { word: [] as number[], pair: [] as number[], common: [] as number[], prefix: [] as number[] };
    const queries = Array.from({ length: queryCount }, (_, i): [keyof typeof mix, string] => {
      const slot = i % 20;
      if (slot < 8) return ['word', anyWord()];
      if (slot < 14) return ['pair', `${commonWord()} ${anyWord()}`];
      if (slot < 17) return ['common', commonWord()];
      const stem = anyWord();
      return ['prefix', `${stem.slice(0, Math.min(stem.length, 4 + Math.floor(next() * 3)))}*`];
    });
    for (const [, text] of queries.slice(0, 20)) store.search.search({ text });
    const searchTimes: number[] = [];
    let hits = 0;
    for (const [category, text] of queries) {
      const started = performance.now();
      hits += store.search.search({ text, limit: 30 }).length;
      const elapsed = performance.now() - started;
      searchTimes.push(elapsed);
      mix[category].push(elapsed);
    }
    const filteredTimes: number[] = [];
    for (const [, text] of queries.slice(0, 60)) {
      const started = performance.now();
      store.search.search({ text, limit: 30, model: 'm-2', kinds: ['run'] });
      filteredTimes.push(performance.now() - started);
    }

    // 4. The run list a person scrolls: first page, newest first, one filter.
    const listTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      store.runs.list({ limit: 50, ...(i % 2 === 0 ? {} : { kind: 'summarize' as const }) });
      listTimes.push(performance.now() - started);
    }
    store.close();

    // 5. Opening the existing 100k-run database (nothing to migrate).
    const existingOpens: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      store = await Store.open(dataDir);
      existingOpens.push(performance.now() - started);
      store.close();
    }
    const sizeMb = fs.statSync(path.join(dataDir, 'emergent.db')).size / 1024 ** 2;

    return [
      {
        title: 'Store: runs, search, open',
        note: `${runCount.toLocaleString('en')} runs (${(textBytes / 1024 ** 2).toFixed(0)} MB of Zipf-distributed text, 20k-word vocabulary), each created, appended twice and finished, ${batch} per transaction; database ${sizeMb.toFixed(0)} MB`,
        rows: [
          { metric: `record ${runCount.toLocaleString('en')} runs as generation does (create, 2 appends, finish), s`, app: insertMs / 1000, extra: `${Math.round(runCount / (insertMs / 1000)).toLocaleString('en')} runs/s, queued for search` },
          { metric: `import ${runCount.toLocaleString('en')} runs from an archive, s`, app: importMs / 1000, bare: bareMs / 1000, ratio: bareMs / importMs, target: '<= 2', extra: `ratio: bare time / ours; validated, one transaction; export took ${(exportMs / 1000).toFixed(2)} s` },
          { metric: `index them for search in the background, s`, app: indexMs / 1000, extra: `${slices} slices of 500 runs, ${(indexMs / slices).toFixed(1)} ms each` },
          { metric: `create ${runCount.toLocaleString('en')} runs with the same text, not finished (no FTS), s`, app: rowsOnlyMs / 1000, extra: 'rows and B-tree indexes only' },
          { metric: `search p95, ms (${queryCount} queries)`, app: percentile(searchTimes, 95), target: '<= 20', extra: `p50 ${percentile(searchTimes, 50).toFixed(2)} ms, max ${Math.max(...searchTimes).toFixed(1)} ms, ${(hits / queryCount).toFixed(1)} hits/query` },
          ...(Object.entries(mix) as [string, number[]][]).map(([category, times]) => ({
            metric: `search p95, ms: ${category} (${times.length})`,
            app: percentile(times, 95),
            extra: `p50 ${percentile(times, 50).toFixed(2)} ms`,
          })),
          { metric: 'search p95, ms: one model, runs only (60)', app: percentile(filteredTimes, 95), extra: `p50 ${percentile(filteredTimes, 50).toFixed(2)} ms` },
          { metric: 'run list first page, ms (median)', app: median(listTimes) },
          { metric: 'open fresh (create + migrate), ms (median of 5)', app: median(freshOpens), target: '<= 100' },
          { metric: `open existing (${runCount.toLocaleString('en')} runs), ms (median of 5)`, app: median(existingOpens), target: '<= 100' },
        ],
      },
    ];
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
