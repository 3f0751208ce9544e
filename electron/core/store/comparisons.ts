/** Side-by-side comparisons: one input, several columns (model, sampling, run), and votes. */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';
import { jsonText, parseJsonArray, type JsonObject } from './json.js';

export type Verdict = 'column' | 'tie' | 'neither';

export interface Comparison {
  id: string;
  title: string;
  input: string;
  /** One object per column (model, sampling, run id ...), 1 to 16. */
  columns: JsonObject[];
  createdAt: number;
}

export interface Vote {
  id: string;
  comparisonId: string;
  verdict: Verdict;
  /** The winning column when the verdict is `column`. */
  columnIndex: number | null;
  note: string;
  createdAt: number;
}

export interface NewComparison {
  id?: string;
  title?: string;
  input: string;
  columns: JsonObject[];
}

export type NewVote = { verdict: 'column'; columnIndex: number; note?: string } | { verdict: 'tie' | 'neither'; note?: string };

interface ComparisonRow {
  id: string;
  title: string;
  input: string;
  columns: string;
  created_at: number;
}

interface VoteRow {
  id: string;
  comparison_id: string;
  verdict: Verdict;
  column_index: number | null;
  note: string;
  created_at: number;
}

const INSERT = /* sql */ `INSERT INTO comparisons (id, title, input, columns, created_at) VALUES (@id, @title, @input, @columns, @now)`;
const SELECT = /* sql */ `SELECT id, title, input, columns, created_at FROM comparisons WHERE id = @id`;
const LIST = /* sql */ `SELECT id, title, input, columns, created_at FROM comparisons ORDER BY created_at DESC, id LIMIT @limit`;
const INSERT_VOTE = /* sql */ `
  INSERT INTO comparison_votes (id, comparison_id, verdict, column_index, note, created_at)
  VALUES (@id, @comparisonId, @verdict, @columnIndex, @note, @now)`;
const VOTES = /* sql */ `
  SELECT id, comparison_id, verdict, column_index, note, created_at FROM comparison_votes WHERE comparison_id = @comparisonId ORDER BY created_at, id`;

export class ComparisonStore {
  constructor(private readonly context: StoreContext) {}

  create(comparison: NewComparison): Comparison {
    const id = comparison.id ?? this.context.newId();
    this.context.db.run(INSERT, { id, title: comparison.title ?? '', input: comparison.input, columns: jsonText(comparison.columns), now: this.context.now() });
    return this.require(id);
  }

  get(id: string): (Comparison & { votes: Vote[] }) | null {
    const row = this.context.db.get<ComparisonRow>(SELECT, { id });
    if (row === undefined) return null;
    return { ...toComparison(row), votes: this.context.db.all<VoteRow>(VOTES, { comparisonId: id }).map(toVote) };
  }

  list(limit = 100): Comparison[] {
    return this.context.db.all<ComparisonRow>(LIST, { limit }).map(toComparison);
  }

  vote(comparisonId: string, vote: NewVote): Vote {
    const comparison = this.require(comparisonId);
    const columnIndex = vote.verdict === 'column' ? vote.columnIndex : null;
    if (columnIndex !== null && !(Number.isInteger(columnIndex) && columnIndex >= 0 && columnIndex < comparison.columns.length)) {
      throw new EmergentError('INVALID_INPUT', `Column ${columnIndex} is not one of the ${comparison.columns.length} columns of this comparison.`);
    }
    const id = this.context.newId();
    const now = this.context.now();
    const note = vote.note ?? '';
    this.context.db.run(INSERT_VOTE, { id, comparisonId, verdict: vote.verdict, columnIndex, note, now });
    return { id, comparisonId, verdict: vote.verdict, columnIndex, note, createdAt: now };
  }

  private require(id: string): Comparison {
    const row = this.context.db.get<ComparisonRow>(SELECT, { id });
    if (row === undefined) throw new EmergentError('NOT_FOUND', `There is no comparison ${id}.`);
    return toComparison(row);
  }
}

export function toComparison(row: ComparisonRow): Comparison {
  return { id: row.id, title: row.title, input: row.input, columns: parseJsonArray(row.columns) as JsonObject[], createdAt: row.created_at };
}

export function toVote(row: VoteRow): Vote {
  return { id: row.id, comparisonId: row.comparison_id, verdict: row.verdict, columnIndex: row.column_index, note: row.note, createdAt: row.created_at };
}
