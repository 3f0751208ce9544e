/**
 * The store: one SQLite database in the data dir and the query modules over it. The only place
 * in Emergent that speaks SQL.
 *
 *   const store = await Store.open(dataDir);
 *   store.runs.markInterrupted();   // once, at app start-up
 *   ...
 *   store.close();
 */
import { Archiver } from './archive.js';
import { ComparisonStore } from './comparisons.js';
import type { StoreContext } from './context.js';
import { ConversationStore } from './conversations.js';
import { openDatabase, type OpenDatabaseOptions, type StoreDatabase } from './database.js';
import { DocumentStore } from './documents.js';
import { timeOrderedId } from './ids.js';
import { ModelLibrary } from './models.js';
import { PresetStore } from './presets.js';
import { PromptStore } from './prompts.js';
import { RunStore } from './runs.js';
import { SearchIndex } from './search.js';
import { SettingsStore } from './settings.js';
import { Trash } from './trash.js';

export interface StoreOptions extends OpenDatabaseOptions {
  /** Ids for new rows; time-ordered UUIDs (v7) by default. */
  newId?: () => string;
}

export interface StoreMigration {
  fromVersion: number;
  toVersion: number;
  backupFile: string | null;
}

export class Store {
  readonly runs: RunStore;
  readonly conversations: ConversationStore;
  readonly prompts: PromptStore;
  readonly search: SearchIndex;
  readonly trash: Trash;
  readonly archive: Archiver;
  readonly models: ModelLibrary;
  readonly documents: DocumentStore;
  readonly comparisons: ComparisonStore;
  readonly settings: SettingsStore;
  readonly presets: PresetStore;

  private constructor(
    private readonly database: StoreDatabase,
    /** What opening did to the schema, for the log. */
    readonly migration: StoreMigration,
    context: StoreContext,
  ) {
    this.runs = new RunStore(context);
    this.conversations = new ConversationStore(context);
    this.prompts = new PromptStore(context);
    this.search = new SearchIndex(context);
    this.trash = new Trash(context);
    this.archive = new Archiver(context);
    this.models = new ModelLibrary(context);
    this.documents = new DocumentStore(context);
    this.comparisons = new ComparisonStore(context);
    this.settings = new SettingsStore(context);
    this.presets = new PresetStore(context);
  }

  /**
   * Opens (creating or migrating) `emergent.db` in `dataDir`. Throws STORE_FROM_FUTURE,
   * STORE_CORRUPT or STORE_FULL with a message that says what to do; the file is never
   * modified when opening is refused.
   */
  static async open(dataDir: string, options: StoreOptions = {}): Promise<Store> {
    const opened = await openDatabase(dataDir, options);
    const now = options.now ?? Date.now;
    const context: StoreContext = { db: opened.database, now, newId: options.newId ?? (() => timeOrderedId(now())) };
    const migration = { fromVersion: opened.fromVersion, toVersion: opened.toVersion, backupFile: opened.backupFile };
    return new Store(opened.database, migration, context);
  }

  get file(): string {
    return this.database.file;
  }

  get readonly(): boolean {
    return this.database.readonly;
  }

  /**
   * Runs `fn` in one transaction: many writes through the modules (a batch of runs, an
   * import) commit together, and much faster than one commit each.
   */
  transaction<T>(fn: () => T): T {
    return this.database.transaction(fn);
  }

  /** SQLite's own check of the file: `['ok']` when sound, else what it found wrong. */
  integrityCheck(): string[] {
    return this.database.all<{ integrity_check: string }>('PRAGMA integrity_check').map((row) => row.integrity_check);
  }

  /** A consistent copy of the whole database at `file`, taken while the app keeps writing. */
  backupTo(file: string): Promise<void> {
    return this.database.backupTo(file);
  }

  close(): void {
    this.database.close();
  }
}
