import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../electron/core/store/database.js';
import { openStore, tempDataDir } from './helpers.js';

describe('backupTo', () => {
  it('makes a consistent copy while another connection keeps writing', async () => {
    const dataDir = tempDataDir();
    const store = await openStore({ dataDir });
    for (let i = 0; i < 2000; i++) {
      const run = store.runs.create({ kind: 'batch', input: `row ${i} ${'lorem ipsum '.repeat(20)}` });
      store.runs.finish(run, { status: 'done' });
    }
    // Another process writing the same file, as a second app window or the CLI would.
    const writer = new Database(path.join(dataDir, DATABASE_FILE));
    writer.pragma('busy_timeout = 5000');
    const insert = writer.prepare(`INSERT INTO settings (key, value, updated_at) VALUES (?, '1', 0)`);
    let written = 0;
    let writing = true;
    const writes = (async () => {
      while (writing) {
        insert.run(`key-${written++}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const copy = path.join(tempDataDir(), 'copy.db');
    await store.backupTo(copy);
    writing = false;
    await writes;
    writer.close();
    expect(written).toBeGreaterThan(0);

    const backup = new Database(copy, { readonly: true });
    try {
      expect(backup.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(backup.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 2000 });
      expect(backup.pragma('user_version', { simple: true })).toBe(store.migration.toVersion);
    } finally {
      backup.close();
    }
  });
});
