/**
 * Copies of the database file, made with SQLite's online backup API: a consistent snapshot
 * even while another connection (or process) writes, which copying the file (and its -wal)
 * byte by byte would not give.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

/**
 * Pages per backup step: all of them, so the copy is one read transaction. In WAL mode that
 * never blocks writers; with smaller steps, each write by another connection restarts the
 * copy from the beginning, and a busy app could keep it from ever finishing.
 */
const ALL_PAGES = 0x7fffffff;

/**
 * Writes a copy of the database to `file`, through a temporary file renamed into place: a
 * failed copy (disk full) never leaves a half-written file under the name a person will trust.
 */
export async function backupDatabase(connection: Database.Database, file: string): Promise<void> {
  const temporary = `${file}.partial-${process.pid}`;
  try {
    await connection.backup(temporary, { progress: () => ALL_PAGES });
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

const MIGRATION_BACKUP = /^(?<database>.+)\.backup-v(?<version>\d+)-(?<date>[0-9T-]+Z)$/;

/**
 * `emergent.db.backup-v{from}-{date}`: the ISO date with `:` and `.` made `-`, which Windows
 * refuses in file names. Names sort by date once the version prefix is set aside.
 */
export function migrationBackupName(databaseFile: string, fromVersion: number, date: Date): string {
  return `${path.basename(databaseFile)}.backup-v${fromVersion}-${date.toISOString().replace(/[:.]/g, '-')}`;
}

/** Copies the database before migrating it, then keeps only the newest `keep` such copies. */
export async function backupMigrationCopy(connection: Database.Database, databaseFile: string, fromVersion: number, date: Date, keep: number): Promise<string> {
  const file = path.join(path.dirname(databaseFile), migrationBackupName(databaseFile, fromVersion, date));
  await backupDatabase(connection, file);
  pruneMigrationBackups(databaseFile, keep);
  return file;
}

/** The pre-migration copies of `databaseFile`, newest first. */
export function migrationBackups(databaseFile: string): string[] {
  const base = path.basename(databaseFile);
  const found: { file: string; date: string }[] = [];
  for (const name of fs.readdirSync(path.dirname(databaseFile))) {
    const match = MIGRATION_BACKUP.exec(name);
    if (match?.groups?.['database'] === base) found.push({ file: path.join(path.dirname(databaseFile), name), date: match.groups['date'] ?? '' });
  }
  return found.sort((a, b) => (a.date === b.date ? b.file.localeCompare(a.file) : b.date.localeCompare(a.date))).map((entry) => entry.file);
}

function pruneMigrationBackups(databaseFile: string, keep: number): void {
  for (const file of migrationBackups(databaseFile).slice(keep)) fs.rmSync(file, { force: true });
}
