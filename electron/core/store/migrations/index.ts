/** Every schema version in order. Append a new migration here; never reorder or edit one. */
import { initial } from './0010-initial.js';
import { runsSearchQueue } from './0020-runs-search-queue.js';
import { chat } from './0030-chat.js';
import { checkMigrations, latestVersion } from './migration.js';

export type { Migration } from './migration.js';

export const MIGRATIONS = checkMigrations([initial, runsSearchQueue, chat]);

export const LATEST_SCHEMA_VERSION = latestVersion(MIGRATIONS);
