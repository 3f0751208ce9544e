/**
 * Full-text search over messages, runs and prompts (FTS5, ranked by bm25).
 *
 * What a person types is never handed to FTS5 as query syntax: every word becomes a quoted
 * string, so `"`, `*`, `-`, `:`, `(`, `OR`, `NEAR` ... are searched as text and can never be a
 * syntax error. A trailing `*` after three or more characters keeps its meaning (prefix search).
 */
import type { StoreContext } from './context.js';
import type { SqlParams, SqlValue } from './database.js';
import type { MessageRole } from './conversations.js';
import type { RunKind, RunStatus } from './runs.js';
import { clampLimit } from './runs.js';

export type SearchKind = 'message' | 'run' | 'prompt';
export const SEARCH_KINDS: readonly SearchKind[] = ['message', 'run', 'prompt'];

export interface SearchQuery {
  text: string;
  /** Which kinds of results; all when omitted. */
  kinds?: readonly SearchKind[];
  /** The engine's model id: messages it wrote, runs on it (prompts have no model, so none). */
  model?: string;
  /** Only runs of this kind (other kinds of results are unaffected). */
  runKind?: RunKind;
  /** At or after (ms): when a message or run was created, when a prompt last changed. */
  since?: number;
  /** Before (ms). */
  until?: number;
  /** 1..200, default 30. */
  limit?: number;
}

/** Snippet text with the matched words as [start, end) UTF-16 offsets into it. */
export interface Snippet {
  text: string;
  highlights: [start: number, end: number][];
}

interface HitBase {
  id: string;
  /** bm25: lower is better; comparable within one search. */
  score: number;
  snippet: Snippet;
  /** The date the filters use (see SearchQuery.since). */
  date: number;
}

export type SearchHit =
  | (HitBase & { kind: 'message'; conversationId: string; conversationTitle: string; role: MessageRole; modelId: string | null })
  | (HitBase & { kind: 'run'; runKind: RunKind; status: RunStatus; modelId: string | null })
  | (HitBase & { kind: 'prompt'; name: string });

/** Private-use characters mark matches inside snippet(); they never reach the caller. */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SNIPPET_TOKENS = 16;
const MAX_TERMS = 32;

interface MessageHitRow {
  id: string;
  conversation_id: string;
  conversation_title: string;
  role: MessageRole;
  model_id: string | null;
  date: number;
  score: number;
  snippet: string;
}

interface RunHitRow {
  id: string;
  kind: RunKind;
  status: RunStatus;
  model_id: string | null;
  date: number;
  score: number;
  snippet: string;
}

interface PromptHitRow {
  id: string;
  name: string;
  date: number;
  score: number;
  snippet: string;
}

/**
 * One kind of result: the FTS table, what to select and join, and its optional filters (fixed
 * fragments chosen by which filters are set; values are always bound).
 */
interface SearchSource {
  fts: string;
  columns: string;
  from: string;
  /** Always applied: the trash stays out of results. */
  visible: string;
  score: string;
  snippet: string;
  filters: Readonly<Record<string, string>>;
}

const MESSAGES: SearchSource = {
  fts: 'messages_fts',
  columns: 'm.id, m.conversation_id, c.title AS conversation_title, m.role, m.model_id, m.created_at AS date',
  from: 'messages_fts JOIN messages m ON m.seq = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id',
  visible: 'c.deleted_at IS NULL',
  score: 'bm25(messages_fts)',
  snippet: `snippet(messages_fts, 0, @open, @close, '…', @tokens)`,
  filters: { model: 'AND m.model_id = @model', since: 'AND m.created_at >= @since', until: 'AND m.created_at < @until' },
};

const RUNS: SearchSource = {
  fts: 'runs_fts',
  columns: 'r.id, r.kind, r.status, r.model_id, r.created_at AS date',
  from: 'runs_fts JOIN runs r ON r.seq = runs_fts.rowid',
  visible: 'r.deleted_at IS NULL',
  // The facets column holds filter tokens, not words: it must not weigh in the rank.
  score: 'bm25(runs_fts, 1.0, 1.0, 0.0)',
  snippet: `snippet(runs_fts, -1, @open, @close, '…', @tokens)`,
  // Kind and model are tokens in the index (see 0020-runs-search-queue), so FTS5 intersects
  // them with the words; only dates are checked against the row.
  filters: { since: 'AND r.created_at >= @since', until: 'AND r.created_at < @until' },
};

const PROMPTS: SearchSource = {
  fts: 'prompts_fts',
  columns: 'p.id, p.name, p.updated_at AS date',
  from: 'prompts_fts JOIN prompts p ON p.seq = prompts_fts.rowid',
  visible: 'p.deleted_at IS NULL',
  // A word in a prompt's name says more about it than the same word in its body.
  score: 'bm25(prompts_fts, 4.0, 1.0)',
  snippet: `snippet(prompts_fts, -1, @open, @close, '…', @tokens)`,
  filters: { since: 'AND p.updated_at >= @since', until: 'AND p.updated_at < @until' },
};

/**
 * bm25 costs about 1.5 µs per matching row, so a word found in a third of 100,000 runs would
 * take 50 ms to rank. Only the newest RANK_WINDOW matches of each kind are ranked: finding
 * where that window starts walks the index in rowid order (cheap, rows are numbered in the
 * order they were written) and the rowid bound is pushed into FTS5. For rarer words, every
 * match is ranked. bm25 still weighs words by their frequency in the whole index.
 */
const RANK_WINDOW = 2000;

/** Queued runs a search indexes before it runs: about 45 ms at most. */
const SEARCH_CATCH_UP_RUNS = 1000;

const WATERMARK = /* sql */ `(SELECT indexed_through FROM runs_fts_state)`;
// Finished runs the index has not reached, oldest first (see 0020-runs-search-queue).
const INDEX_QUEUED = /* sql */ `
  INSERT INTO runs_fts (rowid, input, output, facets)
  SELECT r.seq, r.input, r.output, r.facets FROM runs r
  WHERE r.seq IN (SELECT seq FROM runs_fts_pending ORDER BY seq LIMIT @limit)`;
const DEQUEUE = /* sql */ `
  DELETE FROM runs_fts_pending WHERE seq IN (SELECT seq FROM runs_fts_pending ORDER BY seq LIMIT @limit)`;
const NEXT_WATERMARK = /* sql */ `
  SELECT max(seq) AS through FROM (
    SELECT seq FROM runs WHERE seq > ${WATERMARK} AND status <> 'running' ORDER BY seq LIMIT @limit)`;
const INDEX_THROUGH = /* sql */ `
  INSERT INTO runs_fts (rowid, input, output, facets)
  SELECT seq, input, output, facets FROM runs
  WHERE seq > ${WATERMARK} AND seq <= @through AND status <> 'running'`;
const MOVE_WATERMARK = /* sql */ `UPDATE runs_fts_state SET indexed_through = @through`;
const COUNT_PENDING = /* sql */ `
  SELECT (SELECT count(*) FROM runs_fts_pending)
       + (SELECT count(*) FROM runs WHERE seq > ${WATERMARK} AND status <> 'running') AS pending`;
const ANY_PENDING = /* sql */ `
  SELECT EXISTS (SELECT 1 FROM runs_fts_pending)
      OR EXISTS (SELECT 1 FROM runs WHERE seq > ${WATERMARK} AND status <> 'running') AS found`;

/** A filter token as indexed in runs.facets: a letter, then letters and digits only. */
function facetToken(prefix: 'k' | 'm', value: string): string {
  return `"${prefix}${value.replaceAll('"', '""')}"`;
}

function searchSql(source: SearchSource, filters: string): string {
  const where = `${source.fts} MATCH @query AND ${source.visible} ${filters}`;
  return `
    SELECT ${source.columns}, ${source.score} AS score, ${source.snippet} AS snippet
    FROM ${source.from}
    WHERE ${where}
      AND ${source.fts}.rowid >= coalesce(
        (SELECT ${source.fts}.rowid FROM ${source.from} WHERE ${where} ORDER BY ${source.fts}.rowid DESC LIMIT 1 OFFSET @windowOffset), 0)
    ORDER BY score LIMIT @limit`;
}

/**
 * Turns what a person typed into an FTS5 query that matches documents containing every word
 * (one ending in `*` after three or more characters as a prefix). Returns null when nothing
 * searchable is left.
 */
export function toFtsQuery(text: string): string | null {
  const terms: string[] = [];
  for (const word of text.normalize('NFC').split(/\s+/u)) {
    // A prefix of one or two letters expands to a large part of the vocabulary: slow and
    // useless, so it is searched as a word.
    const prefix = /[^*]{3}\*+$/u.test(word);
    const bare = word.replace(/\*+$/u, '');
    // The tokenizer indexes runs of letters and digits; a word without any would become an
    // empty phrase, which matches nothing.
    if (!/[\p{L}\p{N}]/u.test(bare)) continue;
    terms.push(`"${bare.replaceAll('"', '""')}"${prefix ? '*' : ''}`);
    if (terms.length === MAX_TERMS) break;
  }
  return terms.length === 0 ? null : terms.join(' ');
}

/** Splits snippet() output, marked with OPEN/CLOSE, into text and highlight ranges. */
export function toSnippet(marked: string): Snippet {
  let text = '';
  const highlights: [number, number][] = [];
  let start: number | null = null;
  for (const part of marked.split(/([\uE000\uE001])/u)) {
    if (part === OPEN) start = text.length;
    else if (part === CLOSE) {
      if (start !== null && text.length > start) highlights.push([start, text.length]);
      start = null;
    } else text += part;
  }
  return { text, highlights };
}

export class SearchIndex {
  constructor(private readonly context: StoreContext) {}

  /**
   * Adds up to `maxRuns` finished runs the index has not reached to it, oldest first, in one
   * transaction; returns how many it added. About 45 µs per chat-sized run: callers slice the
   * work (the background indexer takes 500 at a time, about 25 ms).
   */
  indexPending(maxRuns: number): number {
    const { db } = this.context;
    if (db.readonly) return 0;
    const limit = Math.max(0, Math.trunc(maxRuns));
    return db.transaction(() => {
      const queued = db.run(INDEX_QUEUED, { limit });
      db.run(DEQUEUE, { limit });
      const rest = { limit: limit - queued };
      const through = rest.limit > 0 ? db.get<{ through: number | null }>(NEXT_WATERMARK, rest)?.through : null;
      if (through == null) return queued;
      const added = db.run(INDEX_THROUGH, { through });
      db.run(MOVE_WATERMARK, { through });
      return queued + added;
    });
  }

  /** Whether any finished run is not searchable yet (cheap: two index probes). */
  hasPending(): boolean {
    return this.context.db.get<{ found: number }>(ANY_PENDING)?.found === 1;
  }

  /** How many finished runs are not searchable yet (after a large import, for a few seconds). */
  pendingRuns(): number {
    return this.context.db.get<{ pending: number }>(COUNT_PENDING)?.pending ?? 0;
  }

  /**
   * Before a search: index what finished since the last one (normally a handful of runs),
   * at most SEARCH_CATCH_UP_RUNS so a search right after a huge import stays quick; the rest
   * is left to the background indexer and reported by pendingRuns().
   */
  private catchUp(): void {
    if (this.context.db.readonly) return;
    if (this.hasPending()) this.indexPending(SEARCH_CATCH_UP_RUNS);
  }

  /** The best matches across the chosen kinds, best first. */
  search(query: SearchQuery): SearchHit[] {
    const fts = toFtsQuery(query.text);
    if (fts === null) return [];
    const kinds = new Set(query.kinds ?? SEARCH_KINDS);
    const limit = clampLimit(query.limit, 30, 200);
    const base: Record<string, SqlValue> = { query: fts, open: OPEN, close: CLOSE, tokens: SNIPPET_TOKENS, limit, windowOffset: RANK_WINDOW - 1 };
    const hits: SearchHit[] = [];

    if (kinds.has('message')) {
      const { sql, params } = withFilters(MESSAGES, base, { model: query.model, since: query.since, until: query.until });
      for (const row of this.context.db.all<MessageHitRow>(sql, params)) {
        hits.push({
          kind: 'message',
          id: row.id,
          conversationId: row.conversation_id,
          conversationTitle: row.conversation_title,
          role: row.role,
          modelId: row.model_id,
          score: row.score,
          date: row.date,
          snippet: toSnippet(row.snippet),
        });
      }
    }
    if (kinds.has('run')) {
      this.catchUp();
      const facets = [`{input output} : (${fts})`];
      if (query.runKind !== undefined) facets.push(`facets : ${facetToken('k', query.runKind)}`);
      if (query.model !== undefined) facets.push(`facets : ${facetToken('m', Buffer.from(query.model, 'utf8').toString('hex'))}`);
      const { sql, params } = withFilters(RUNS, { ...base, query: facets.join(' AND ') }, { since: query.since, until: query.until });
      for (const row of this.context.db.all<RunHitRow>(sql, params)) {
        hits.push({ kind: 'run', id: row.id, runKind: row.kind, status: row.status, modelId: row.model_id, score: row.score, date: row.date, snippet: toSnippet(row.snippet) });
      }
    }
    // Prompts have no model: a search narrowed to one model has no prompt results.
    if (kinds.has('prompt') && query.model === undefined) {
      const { sql, params } = withFilters(PROMPTS, base, { since: query.since, until: query.until });
      for (const row of this.context.db.all<PromptHitRow>(sql, params)) {
        hits.push({ kind: 'prompt', id: row.id, name: row.name, score: row.score, date: row.date, snippet: toSnippet(row.snippet) });
      }
    }
    return hits.sort((a, b) => a.score - b.score).slice(0, limit);
  }
}

function withFilters(source: SearchSource, base: SqlParams, values: Readonly<Record<string, SqlValue | undefined>>): { sql: string; params: SqlParams } {
  const params: Record<string, SqlValue> = { ...base };
  const chosen: string[] = [];
  for (const [name, fragment] of Object.entries(source.filters)) {
    const value = values[name];
    if (value === undefined) continue;
    chosen.push(fragment);
    params[name] = value;
  }
  return { sql: searchSql(source, chosen.join(' ')), params };
}
