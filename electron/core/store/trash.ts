/**
 * The trash. Deleting moves a conversation, prompt, run or document to the trash (`deleted_at`),
 * which lists and search skip; restoring is the undo. Only emptying the trash deletes rows, with
 * everything that hangs off them (messages, versions, tags) and their search index entries.
 */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';

export type TrashKind = 'conversation' | 'prompt' | 'run' | 'document';
export const TRASH_KINDS: readonly TrashKind[] = ['conversation', 'prompt', 'run', 'document'];

export interface TrashItem {
  kind: TrashKind;
  id: string;
  /** A conversation's or prompt's name, a document's file name, the start of a run's input. */
  title: string;
  deletedAt: number;
}

export type EmptiedTrash = Record<TrashKind, number>;

interface TrashRow {
  kind: TrashKind;
  id: string;
  title: string;
  deleted_at: number;
}

/** The table of each kind of item. Table names cannot be bound as parameters; these are constants. */
const TABLES: Record<TrashKind, string> = { conversation: 'conversations', prompt: 'prompts', run: 'runs', document: 'documents' };

function statementsFor(table: string): { trash: string; restore: string; exists: string; empty: string } {
  return {
    trash: `UPDATE ${table} SET deleted_at = @now WHERE id = @id AND deleted_at IS NULL`,
    restore: `UPDATE ${table} SET deleted_at = NULL WHERE id = @id AND deleted_at IS NOT NULL`,
    exists: `SELECT 1 AS found FROM ${table} WHERE id = @id`,
    empty: `DELETE FROM ${table} WHERE deleted_at IS NOT NULL`,
  };
}

/** Statements per kind, made once (each is prepared once and cached by its text). */
const STATEMENTS = {
  conversation: statementsFor(TABLES.conversation),
  prompt: statementsFor(TABLES.prompt),
  run: statementsFor(TABLES.run),
  document: statementsFor(TABLES.document),
} satisfies Record<TrashKind, ReturnType<typeof statementsFor>>;

const LIST = /* sql */ `
  SELECT 'conversation' AS kind, id, title, deleted_at FROM conversations WHERE deleted_at IS NOT NULL
  UNION ALL SELECT 'prompt', id, name, deleted_at FROM prompts WHERE deleted_at IS NOT NULL
  UNION ALL SELECT 'run', id, substr(input, 1, 80), deleted_at FROM runs WHERE deleted_at IS NOT NULL
  UNION ALL SELECT 'document', id, name, deleted_at FROM documents WHERE deleted_at IS NOT NULL
  ORDER BY deleted_at DESC, id`;

export class Trash {
  constructor(private readonly context: StoreContext) {}

  /** Moves an item to the trash; trashing it again keeps the first date. */
  trash(kind: TrashKind, id: string): void {
    const statements = STATEMENTS[kind];
    if (this.context.db.run(statements.trash, { id, now: this.context.now() }) === 0) this.requireExists(kind, id);
  }

  /** Takes an item out of the trash (undo); restoring an item not in the trash does nothing. */
  restore(kind: TrashKind, id: string): void {
    if (this.context.db.run(STATEMENTS[kind].restore, { id }) === 0) this.requireExists(kind, id);
  }

  /** Everything in the trash, most recently deleted first. */
  list(): TrashItem[] {
    return this.context.db.all<TrashRow>(LIST).map((row) => ({ kind: row.kind, id: row.id, title: row.title, deletedAt: row.deleted_at }));
  }

  /**
   * Deletes everything in the trash for good, in one transaction. Runs linked to a deleted
   * conversation, message, prompt version or document keep their text and lose the link.
   */
  emptyTrash(): EmptiedTrash {
    return this.context.db.transaction(() => {
      const counts: EmptiedTrash = { conversation: 0, prompt: 0, run: 0, document: 0 };
      for (const kind of TRASH_KINDS) counts[kind] = this.context.db.run(STATEMENTS[kind].empty);
      return counts;
    });
  }

  private requireExists(kind: TrashKind, id: string): void {
    if (this.context.db.get(STATEMENTS[kind].exists, { id }) === undefined) throw new EmergentError('NOT_FOUND', `There is no ${kind} ${id}.`);
  }
}
