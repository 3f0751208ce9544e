/**
 * SQLite failures a person can act on become coded EmergentErrors; everything else (a
 * constraint broken by a bug, a misuse) stays as it was and surfaces as INTERNAL at the boundary.
 */
import Database from 'better-sqlite3';
import { EmergentError } from '../../common/errors.js';

export function storeCorrupt(file: string, detail: string): EmergentError {
  return new EmergentError(
    'STORE_CORRUPT',
    `The database ${file} is damaged (${detail}). It has been left exactly as it is: quit Emergent and restore a ` +
      `backup (a copy named emergent.db.backup-* in the same folder, or one of your own), or move the file ` +
      `elsewhere to start with an empty one.`,
  );
}

/** Translates a SQLite error into a coded one when there is something a person can do about it. */
export function toStoreError(err: unknown, file: string): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (err.code === 'SQLITE_FULL') {
    return withCause(
      new EmergentError(
        'STORE_FULL',
        `The disk holding ${file} is full, so the last change was not saved (everything before it was). Free some space and try again.`,
      ),
      err,
    );
  }
  // SQLITE_CORRUPT and its extended codes (SQLITE_CORRUPT_VTAB for a damaged FTS index ...), SQLITE_NOTADB.
  if (err.code.startsWith('SQLITE_CORRUPT') || err.code === 'SQLITE_NOTADB') return withCause(storeCorrupt(file, err.message), err);
  return err;
}

function withCause(error: EmergentError, cause: unknown): EmergentError {
  error.cause = cause;
  return error;
}
