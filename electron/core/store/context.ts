import type { StoreDatabase } from './database.js';

/** What every query module is built on: the shared connection, the clock and the id source. */
export interface StoreContext {
  readonly db: StoreDatabase;
  /** Milliseconds since the Unix epoch, the unit of every timestamp column. */
  readonly now: () => number;
  readonly newId: () => string;
}
