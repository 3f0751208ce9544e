import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect } from 'vitest';
import { Store, type StoreOptions } from '../../electron/core/store/store.js';

const dirs: string[] = [];
const stores: Store[] = [];

/** A fresh data dir, removed after the test (store helpers do not import the engine). */
export function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emergent-store-'));
  dirs.push(dir);
  return dir;
}

/** A clock that moves 1 ms per reading from a fixed date, so every row has its own time. */
export function steppingClock(start = Date.UTC(2025, 0, 15, 12, 0, 0)): () => number {
  let now = start;
  return () => now++;
}

/** A store on a fresh data dir (or `dataDir`), closed after the test. */
export async function openStore(options: StoreOptions & { dataDir?: string } = {}): Promise<Store> {
  const store = await Store.open(options.dataDir ?? tempDataDir(), { now: steppingClock(), ...options });
  stores.push(store);
  return store;
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** FTS5's own check that each external-content index matches its table; throws if not. */
export function expectSearchIndexesIntact(file: string): void {
  const connection = new Database(file);
  try {
    for (const table of ['messages_fts', 'runs_fts', 'prompts_fts']) {
      expect(() => connection.prepare(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 1)`).run(), table).not.toThrow();
    }
  } finally {
    connection.close();
  }
}

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
