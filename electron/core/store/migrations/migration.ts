import type Database from 'better-sqlite3';

/**
 * One schema version. `up` runs inside a transaction that also sets `user_version`, so a
 * migration is applied completely or not at all. Migrations are never edited once released:
 * a change is a new file with a higher version.
 */
export interface Migration {
  /** The `user_version` after this migration; numbered in tens (0010, 0020 ...) to leave room. */
  readonly version: number;
  readonly name: string;
  up(connection: Database.Database): void;
}

/** Refuses a list that is not strictly increasing: a misordered list would skip or repeat steps. */
export function checkMigrations(migrations: readonly Migration[]): readonly Migration[] {
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isSafeInteger(migration.version) || migration.version <= previous) {
      throw new Error(`Migration ${migration.version} (${migration.name}) must be an integer above ${previous}: the list must strictly increase.`);
    }
    previous = migration.version;
  }
  return migrations;
}

export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}
