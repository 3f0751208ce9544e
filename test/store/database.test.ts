import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EmergentError } from '../../electron/common/errors.js';
import { migrationBackups } from '../../electron/core/store/backup.js';
import { DATABASE_FILE, openDatabase } from '../../electron/core/store/database.js';
import { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from '../../electron/core/store/migrations/index.js';
import { checkMigrations } from '../../electron/core/store/migrations/migration.js';
import { RunStore } from '../../electron/core/store/runs.js';
import { Store } from '../../electron/core/store/store.js';
import { openStore, sha256File, steppingClock, tempDataDir } from './helpers.js';

/** A later schema version, for tests of what happens around migrations. */
const extraMigration = (version: number): Migration => ({
  version,
  name: `test-${version}`,
  up: (connection) => connection.exec(`CREATE TABLE test_${version} (x INTEGER NOT NULL) STRICT`),
});

async function rejection(promise: Promise<unknown>): Promise<EmergentError> {
  const error: unknown = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(error instanceof EmergentError)) throw new Error(`Expected an EmergentError, got ${String(error)}`);
  return error;
}

describe('opening the database', () => {
  it('creates emergent.db at the newest schema: WAL, foreign keys on, STRICT tables', async () => {
    const dataDir = tempDataDir();
    const opened = await openDatabase(dataDir);
    expect(opened.fromVersion).toBe(0);
    expect(opened.toVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(opened.backupFile).toBeNull();
    expect(opened.database.get<{ foreign_keys: number }>('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    expect(opened.database.get<{ synchronous: number }>('PRAGMA synchronous')).toEqual({ synchronous: 1 });
    expect(opened.database.get<{ timeout: number }>('PRAGMA busy_timeout')).toEqual({ timeout: 5000 });
    opened.database.close();

    const raw = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    const tables = raw.prepare(`SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'`).all() as { name: string; strict: number }[];
    expect(tables.map((table) => table.name).sort()).toEqual(
      ['comparison_votes', 'comparisons', 'conversations', 'documents', 'messages', 'models', 'presets', 'prompt_tags', 'prompt_versions', 'prompts', 'runs', 'settings'],
    );
    expect(tables.every((table) => table.strict === 1)).toBe(true);
    raw.close();
  });

  it('opens an existing database without migrating or backing it up', async () => {
    const dataDir = tempDataDir();
    (await Store.open(dataDir)).close();
    const store = await openStore({ dataDir });
    expect(store.migration).toEqual({ fromVersion: LATEST_SCHEMA_VERSION, toVersion: LATEST_SCHEMA_VERSION, backupFile: null });
    expect(migrationBackups(store.file)).toEqual([]);
  });

  it('refuses a database from a newer Emergent and leaves the file byte-for-byte untouched', async () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, DATABASE_FILE);
    const future = new Database(file);
    future.pragma('journal_mode = WAL');
    future.exec(`CREATE TABLE from_the_future (x TEXT) STRICT; INSERT INTO from_the_future VALUES ('keep me')`);
    future.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 10}`);
    future.close();
    const before = sha256File(file);

    const error = await rejection(Store.open(dataDir));
    expect(error.code).toBe('STORE_FROM_FUTURE');
    expect(error.message).toMatch(/newer version of Emergent.*update Emergent/is);
    expect(sha256File(file)).toBe(before);
    expect(migrationBackups(file)).toEqual([]);
  });

  it('reports a file that is not a database as STORE_CORRUPT, says what to do, and keeps it', async () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, DATABASE_FILE);
    fs.writeFileSync(file, Buffer.alloc(8192, 'not a database. '));
    const before = sha256File(file);

    const error = await rejection(Store.open(dataDir));
    expect(error.code).toBe('STORE_CORRUPT');
    expect(error.message).toMatch(/left exactly as it is.*restore a backup/is);
    expect(sha256File(file)).toBe(before);
  });

  it('reports a database with a damaged schema page as STORE_CORRUPT and keeps it', async () => {
    const dataDir = tempDataDir();
    (await Store.open(dataDir)).close();
    const file = path.join(dataDir, DATABASE_FILE);
    const bytes = fs.readFileSync(file);
    bytes.fill(0xa5, 100, 4096); // page 1 after the 100-byte header: the schema table's root
    fs.writeFileSync(file, bytes);
    const before = sha256File(file);

    expect((await rejection(Store.open(dataDir))).code).toBe('STORE_CORRUPT');
    expect(sha256File(file)).toBe(before);
  });

  it('turns a full disk into STORE_FULL and keeps what was written before', async () => {
    const { database } = await openDatabase(tempDataDir());
    try {
      const runs = new RunStore({ db: database, now: steppingClock(), newId: () => crypto.randomUUID() });
      const id = runs.create({ kind: 'completion', input: 'kept' });
      const pages = database.get<{ page_count: number }>('PRAGMA page_count')?.page_count ?? 0;
      database.run(`PRAGMA max_page_count = ${pages + 2}`); // a disk with room for two more pages
      let error: unknown = null;
      try {
        runs.create({ kind: 'completion', input: 'x'.repeat(1_000_000) });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(EmergentError);
      expect((error as EmergentError).code).toBe('STORE_FULL');
      expect(runs.get(id)?.input).toBe('kept');
    } finally {
      database.close();
    }
  });

  it('opens a read-only handle that reads but cannot write, and refuses a missing database', async () => {
    const dataDir = tempDataDir();
    expect((await rejection(Store.open(dataDir, { readonly: true }))).code).toBe('NOT_FOUND');
    const writer = await openStore({ dataDir });
    const id = writer.runs.create({ kind: 'chat', input: 'hello' });
    const reader = await openStore({ dataDir, readonly: true });
    expect(reader.readonly).toBe(true);
    expect(reader.runs.get(id)?.input).toBe('hello');
    expect(() => reader.runs.create({ kind: 'chat' })).toThrow(/readonly/i);
  });
});

describe('migrations', () => {
  it('are a strictly increasing list', () => {
    expect(() => checkMigrations(MIGRATIONS)).not.toThrow();
    expect(() => checkMigrations([extraMigration(10), extraMigration(10)])).toThrow(/strictly increase/);
    expect(() => checkMigrations([extraMigration(20), extraMigration(10)])).toThrow(/strictly increase/);
    expect(() => checkMigrations([extraMigration(0)])).toThrow(/strictly increase/);
  });

  it('run each in a transaction: a failing migration leaves the previous version whole', async () => {
    const dataDir = tempDataDir();
    (await Store.open(dataDir)).close();
    const failing: Migration = {
      version: LATEST_SCHEMA_VERSION + 10,
      name: 'fails-halfway',
      up(connection) {
        connection.exec('CREATE TABLE half_done (x INTEGER) STRICT');
        throw new Error('boom');
      },
    };
    await expect(Store.open(dataDir, { migrations: [...MIGRATIONS, failing] })).rejects.toThrow('boom');
    const raw = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(raw.prepare(`SELECT name FROM sqlite_schema WHERE name = 'half_done'`).get()).toBeUndefined();
    raw.close();
  });

  it('back the file up before migrating (online backup API) and keep only the last 3 copies', async () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, DATABASE_FILE);
    const first = await Store.open(dataDir);
    const runId = first.runs.create({ kind: 'chat', input: 'before any migration' });
    first.close();

    const list = [...MIGRATIONS];
    const made: string[] = [];
    for (let step = 1; step <= 4; step++) {
      const from = list.at(-1)?.version ?? 0;
      list.push(extraMigration(from + 10));
      const store = await Store.open(dataDir, { migrations: list, now: steppingClock(Date.UTC(2025, step, 1)) });
      expect(store.migration.fromVersion).toBe(from);
      expect(store.runs.get(runId)?.input).toBe('before any migration');
      const backup = store.migration.backupFile;
      expect(backup).toBe(path.join(dataDir, `emergent.db.backup-v${from}-2025-0${step + 1}-01T00-00-00-000Z`));
      made.push(backup ?? '');
      store.close();

      // The copy is the database as it was: the old version, the same rows.
      const copy = new Database(backup ?? '', { readonly: true });
      expect(copy.pragma('user_version', { simple: true })).toBe(from);
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.prepare('SELECT input FROM runs WHERE id = ?').get(runId)).toEqual({ input: 'before any migration' });
      copy.close();
    }
    expect(migrationBackups(file)).toEqual(made.slice(1).reverse());
    expect(fs.existsSync(made[0] ?? '')).toBe(false);
  });
});

describe('a read-only open of an older schema', () => {
  it('is refused with STORE_OUTDATED and leaves the file as it was', async () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, DATABASE_FILE);
    const old = new Database(file);
    old.exec('CREATE TABLE leftover (x INTEGER) STRICT');
    old.close();
    const before = sha256File(file);
    const error = await rejection(Store.open(dataDir, { readonly: true }));
    expect(error.code).toBe('STORE_OUTDATED');
    expect(sha256File(file)).toBe(before);
  });
});
