/**
 * The one database file, `emergent.db` in the data dir, and the connection every query module
 * shares. Opening it checks, in this order, without writing anything before the check passes:
 * that it is a SQLite database, that it is not from a newer Emergent, then backs it up and
 * migrates it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EmergentError } from '../../common/errors.js';
import { backupDatabase, backupMigrationCopy } from './backup.js';
import { toStoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { latestVersion } from './migrations/migration.js';

export const DATABASE_FILE = 'emergent.db';

/** How long a connection waits for another one's write lock before giving up with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Page cache per connection, in KiB (negative: SQLite's unit for a size rather than a page
 * count). The default 2 MiB thrashes once the search index and the runs outgrow it; 32 MiB
 * keeps the hot pages of a 100k-run database in memory.
 */
const CACHE_KIB = -32 * 1024;

export type SqlValue = string | number | bigint | Uint8Array | null;
/** Named parameters (`@name` in the SQL); keys the statement does not use are ignored. */
export type SqlParams = Readonly<Record<string, SqlValue>>;

type Statement = Database.Statement<unknown[], unknown>;

/**
 * A connection with its prepared statements cached by SQL text, and SQLite errors a person can
 * act on (disk full, damaged file) translated into coded EmergentErrors.
 */
export class StoreDatabase {
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly connection: Database.Database,
    /** The database file, for messages. */
    readonly file: string,
  ) {}

  get readonly(): boolean {
    return this.connection.readonly;
  }

  get open(): boolean {
    return this.connection.open;
  }

  /** Runs a write; returns how many rows it changed. */
  run(sql: string, params?: SqlParams): number {
    return this.guard(() => this.execute(sql, params, (statement, args) => statement.run(...args).changes));
  }

  /** The first row, typed by the caller's query (the row interfaces sit next to their SQL). */
  get<Row>(sql: string, params?: SqlParams): Row | undefined {
    return this.guard(() => this.execute(sql, params, (statement, args) => statement.get(...args) as Row | undefined));
  }

  all<Row>(sql: string, params?: SqlParams): Row[] {
    return this.guard(() => this.execute(sql, params, (statement, args) => statement.all(...args) as Row[]));
  }

  /**
   * Runs `fn` in one transaction (a savepoint when nested). IMMEDIATE takes the write lock at
   * the start: a deferred transaction that reads and then writes fails at once with SQLITE_BUSY
   * when another connection wrote in between, whatever the busy timeout.
   */
  transaction<T>(fn: () => T): T {
    return this.guard(() => this.connection.transaction(fn).immediate());
  }

  /** A consistent copy of the database at `file`, taken while others keep writing. */
  async backupTo(file: string): Promise<void> {
    try {
      await backupDatabase(this.connection, file);
    } catch (err) {
      throw toStoreError(err, this.file);
    }
  }

  close(): void {
    if (!this.connection.open) return;
    this.statements.clear();
    this.connection.close();
  }

  private execute<T>(sql: string, params: SqlParams | undefined, call: (statement: Statement, args: unknown[]) => T): T {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.connection.prepare<unknown[], unknown>(sql);
      this.statements.set(sql, statement);
    }
    return call(statement, params === undefined ? [] : [params]);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.file);
    }
  }
}

export interface OpenDatabaseOptions {
  /** A read-only handle: never migrates, refuses a database that is not at the current version. */
  readonly?: boolean;
  /** The schema to migrate to; tests pass shorter lists to build older versions. */
  migrations?: readonly Migration[];
  /** How many pre-migration copies to keep. */
  keepBackups?: number;
  now?: () => number;
}

export interface OpenedDatabase {
  database: StoreDatabase;
  /** `user_version` before and after opening; equal when nothing was migrated. */
  fromVersion: number;
  toVersion: number;
  /** The copy taken before migrating, if one was. */
  backupFile: string | null;
}

export async function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): Promise<OpenedDatabase> {
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = latestVersion(migrations);
  const file = path.join(dataDir, DATABASE_FILE);
  const existed = fileHasContent(file);

  // Look before touching: a read-only connection writes nothing to the file, so a database
  // from a newer Emergent, or one that is not a database at all, stays exactly as it was.
  const fromVersion = existed ? probeVersion(file) : 0;
  if (fromVersion > latest) {
    throw new EmergentError(
      'STORE_FROM_FUTURE',
      `The database ${file} was written by a newer version of Emergent (schema ${fromVersion}; this version knows up to ${latest}). ` +
        `It has been left untouched: update Emergent to open it.`,
    );
  }

  if (options.readonly === true) {
    if (!existed) throw new EmergentError('NOT_FOUND', `There is no database at ${file} yet: start Emergent once to create it.`);
    if (fromVersion < latest) {
      // A read-only handle cannot migrate, and the queries expect the current schema.
      throw new EmergentError('STORE_OUTDATED', `The database ${file} is at schema ${fromVersion} and needs upgrading to ${latest}: open it once in Emergent first.`);
    }
    const connection = connect(file, true);
    return { database: new StoreDatabase(connection, file), fromVersion, toVersion: fromVersion, backupFile: null };
  }

  fs.mkdirSync(dataDir, { recursive: true });
  const connection = connect(file, false);
  try {
    const pending = migrations.filter((migration) => migration.version > fromVersion);
    let backupFile: string | null = null;
    // Before the first write (journal_mode included): the copy is the file as the person left it.
    if (existed && pending.length > 0) {
      backupFile = await backupMigrationCopy(connection, file, fromVersion, new Date((options.now ?? Date.now)()), options.keepBackups ?? 3);
    }
    connection.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions, never corrupt the file.
    connection.pragma('synchronous = NORMAL');
    connection.pragma('foreign_keys = ON');
    connection.pragma(`cache_size = ${CACHE_KIB}`);
    for (const migration of pending) applyMigration(connection, migration);
    const toVersion = userVersion(connection);
    return { database: new StoreDatabase(connection, file), fromVersion, toVersion, backupFile };
  } catch (err) {
    connection.close();
    throw toStoreError(err, file);
  }
}

function connect(file: string, readonly: boolean): Database.Database {
  const connection = new Database(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return connection;
}

/** `user_version` through a read-only connection; a file SQLite cannot read is STORE_CORRUPT. */
function probeVersion(file: string): number {
  let probe: Database.Database | null = null;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // Reading the schema too catches a damaged first page, not only a foreign header.
    probe.prepare('SELECT count(*) FROM sqlite_schema').get();
    return userVersion(probe);
  } catch (err) {
    throw toStoreError(err, file);
  } finally {
    probe?.close();
  }
}

function userVersion(connection: Database.Database): number {
  const version = connection.pragma('user_version', { simple: true });
  return typeof version === 'number' ? version : 0;
}

/**
 * One migration, all or nothing, `user_version` set in the same transaction. The version is
 * read again inside it: another process opening the same file may have migrated meanwhile.
 */
function applyMigration(connection: Database.Database, migration: Migration): void {
  connection
    .transaction(() => {
      if (userVersion(connection) >= migration.version) return;
      migration.up(connection);
      // PRAGMA takes no parameters; the version is a checked safe integer (checkMigrations).
      connection.pragma(`user_version = ${migration.version}`);
    })
    .immediate();
}

function fileHasContent(file: string): boolean {
  try {
    return fs.statSync(file).size > 0;
  } catch {
    return false;
  }
}
