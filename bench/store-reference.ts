/**
 * The floor for the store bench: bare better-sqlite3 writing the same runs into one table with
 * a primary key and nothing else (no indexes, checks, foreign keys or search), with the same
 * pragmas and transaction size as the store. What the store costs above this is its schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface ReferenceRun {
  id: string;
  kind: string;
  model: string;
  input: string;
  output: string;
}

/** Milliseconds to insert every run, `batch` per transaction. */
export function bareInsertMs(dir: string, runs: readonly ReferenceRun[], batch: number): number {
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, 'bare.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -32768');
    db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY, kind TEXT, model_id TEXT, input TEXT, output TEXT, created_at INTEGER)');
    const insert = db.prepare('INSERT INTO runs (id, kind, model_id, input, output, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const started = performance.now();
    for (let start = 0; start < runs.length; start += batch) {
      db.transaction(() => {
        for (const run of runs.slice(start, start + batch)) insert.run(run.id, run.kind, run.model, run.input, run.output, Date.now());
      })();
    }
    return performance.now() - started;
  } finally {
    db.close();
  }
}
