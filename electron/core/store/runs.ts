/**
 * Runs: every generation (chat turn, completion, summary, comparison column, API call ...) with
 * its input, its growing output, its outcome and its metrics.
 */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';
import type { SqlParams, SqlValue } from './database.js';
import { jsonText, parseJsonObject, type JsonObject } from './json.js';

export const RUN_KINDS = ['chat', 'completion', 'summarize', 'translate', 'compare', 'batch', 'perplexity', 'api'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ['running', 'done', 'cancelled', 'error', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunError {
  code: string;
  message: string;
}

export interface NewRun {
  /** The engine's run id, so events and rows share it; a UUID when omitted. */
  id?: string;
  kind: RunKind;
  modelId?: string | null;
  modelPath?: string | null;
  parameters?: JsonObject;
  input?: string;
  promptVersionId?: string | null;
  conversationId?: string | null;
  messageId?: string | null;
  documentId?: string | null;
}

export interface Run {
  id: string;
  kind: RunKind;
  modelId: string | null;
  modelPath: string | null;
  parameters: JsonObject;
  input: string;
  output: string;
  status: RunStatus;
  error: RunError | null;
  metrics: JsonObject | null;
  promptVersionId: string | null;
  conversationId: string | null;
  messageId: string | null;
  documentId: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  deletedAt: number | null;
}

/** A run in a list: the start of its texts, not all of them (an output can be megabytes). */
export interface RunSummary {
  id: string;
  kind: RunKind;
  modelId: string | null;
  modelPath: string | null;
  status: RunStatus;
  inputPreview: string;
  outputPreview: string;
  error: RunError | null;
  metrics: JsonObject | null;
  createdAt: number;
  finishedAt: number | null;
}

/** How a run ends; `interrupted` is only ever set by markInterrupted. */
export type RunOutcome =
  | { status: 'done' | 'cancelled'; metrics?: JsonObject | null }
  | { status: 'error'; error: RunError; metrics?: JsonObject | null };

export interface RunListQuery {
  kind?: RunKind;
  status?: RunStatus;
  /** The engine's model id. */
  model?: string;
  /** Created at or after (ms). */
  since?: number;
  /** Created before (ms). */
  until?: number;
  /** 1..500, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export const PREVIEW_CHARS = 200;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

interface RunRow {
  id: string;
  kind: RunKind;
  model_id: string | null;
  model_path: string | null;
  parameters: string;
  input: string;
  output: string;
  status: RunStatus;
  error: string | null;
  metrics: string | null;
  prompt_version_id: string | null;
  conversation_id: string | null;
  message_id: string | null;
  document_id: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  deleted_at: number | null;
}

interface RunSummaryRow {
  seq: number;
  id: string;
  kind: RunKind;
  model_id: string | null;
  model_path: string | null;
  status: RunStatus;
  input_preview: string;
  output_preview: string;
  error: string | null;
  metrics: string | null;
  created_at: number;
  finished_at: number | null;
}

const INSERT = /* sql */ `
  INSERT INTO runs (id, kind, model_id, model_path, parameters, input, prompt_version_id, conversation_id, message_id, document_id, created_at, updated_at)
  VALUES (@id, @kind, @modelId, @modelPath, @parameters, @input, @promptVersionId, @conversationId, @messageId, @documentId, @now, @now)`;

// One statement: SQLite concatenates in place of a read-modify-write in JavaScript.
const APPEND_OUTPUT = /* sql */ `
  UPDATE runs SET output = output || @text, updated_at = @now WHERE id = @id AND status = 'running'`;

const FINISH = /* sql */ `
  UPDATE runs SET status = @status, error = @error, metrics = @metrics, finished_at = @now, updated_at = @now
  WHERE id = @id AND status = 'running'`;

// An interrupted run ends when its last text arrived, not when the app noticed.
const MARK_INTERRUPTED = /* sql */ `
  UPDATE runs SET status = 'interrupted', finished_at = updated_at WHERE status = 'running'`;

const SELECT_RUN = /* sql */ `
  SELECT id, kind, model_id, model_path, parameters, input, output, status, error, metrics, prompt_version_id,
         conversation_id, message_id, document_id, created_at, updated_at, finished_at, deleted_at
  FROM runs WHERE id = @id`;

const EXISTS = /* sql */ `SELECT 1 AS found FROM runs WHERE id = @id`;

const LIST_HEAD = /* sql */ `
  SELECT seq, id, kind, model_id, model_path, status, substr(input, 1, ${PREVIEW_CHARS}) AS input_preview,
         substr(output, 1, ${PREVIEW_CHARS}) AS output_preview, error, metrics, created_at, finished_at
  FROM runs WHERE deleted_at IS NULL`;

/**
 * List filters: fixed fragments, chosen by which filters are set; values are always bound.
 * One statement per combination (at most 64, each prepared once) lets SQLite pick the index
 * that fits, which `(@kind IS NULL OR kind = @kind)` would prevent.
 */
const LIST_FILTERS = {
  kind: 'AND kind = @kind',
  status: 'AND status = @status',
  model: 'AND model_id = @model',
  since: 'AND created_at >= @since',
  until: 'AND created_at < @until',
  cursor: 'AND (created_at, seq) < (@cursorCreatedAt, @cursorSeq)',
} as const;

// seq breaks ties: every index ends with it, so the order comes straight from the index.
const LIST_TAIL = /* sql */ `ORDER BY created_at DESC, seq DESC LIMIT @limit`;

export class RunStore {
  constructor(private readonly context: StoreContext) {}

  /** Starts a run as `running`; returns its id. */
  create(run: NewRun): string {
    const id = run.id ?? this.context.newId();
    this.context.db.run(INSERT, {
      id,
      kind: run.kind,
      modelId: run.modelId ?? null,
      modelPath: run.modelPath ?? null,
      parameters: jsonText(run.parameters ?? {}),
      input: run.input ?? '',
      promptVersionId: run.promptVersionId ?? null,
      conversationId: run.conversationId ?? null,
      messageId: run.messageId ?? null,
      documentId: run.documentId ?? null,
      now: this.context.now(),
    });
    return id;
  }

  /**
   * Appends generated text. Callers batch (one call per coalesced delta, not per token): each
   * call is one write. Returns false when the run is no longer running (finished, or gone).
   */
  appendOutput(id: string, text: string): boolean {
    if (text === '') return true;
    return this.context.db.run(APPEND_OUTPUT, { id, text, now: this.context.now() }) === 1;
  }

  /**
   * Records how a running run ended. Returns false when it had already ended (a cancel racing
   * the last token); throws NOT_FOUND for an unknown id.
   */
  finish(id: string, outcome: RunOutcome): boolean {
    const changed = this.context.db.run(FINISH, {
      id,
      status: outcome.status,
      error: outcome.status === 'error' ? jsonText({ code: outcome.error.code, message: outcome.error.message }) : null,
      metrics: outcome.metrics == null ? null : jsonText(outcome.metrics),
      now: this.context.now(),
    });
    if (changed === 1) return true;
    if (this.context.db.get(EXISTS, { id }) === undefined) throw new EmergentError('NOT_FOUND', `There is no run ${id}.`);
    return false;
  }

  /**
   * At start-up, before any run starts: runs still `running` belonged to a process that
   * ended without finishing them. They become `interrupted`, their text kept. Only the process
   * that owns the runs (the app) may call this: a second process would interrupt live runs.
   */
  markInterrupted(): number {
    return this.context.db.run(MARK_INTERRUPTED);
  }

  get(id: string): Run | null {
    const row = this.context.db.get<RunRow>(SELECT_RUN, { id });
    return row === undefined ? null : toRun(row);
  }

  /** Newest first, outside the trash; page with `cursor`. */
  list(query: RunListQuery = {}): Page<RunSummary> {
    const limit = clampLimit(query.limit);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const params: Record<string, SqlValue> = { limit: limit + 1 };
    const fragments: string[] = [];
    const filter = (name: keyof typeof LIST_FILTERS, values: SqlParams) => {
      fragments.push(LIST_FILTERS[name]);
      Object.assign(params, values);
    };
    if (query.kind !== undefined) filter('kind', { kind: query.kind });
    if (query.status !== undefined) filter('status', { status: query.status });
    if (query.model !== undefined) filter('model', { model: query.model });
    if (query.since !== undefined) filter('since', { since: query.since });
    if (query.until !== undefined) filter('until', { until: query.until });
    if (cursor !== undefined) filter('cursor', { cursorCreatedAt: cursor.createdAt, cursorSeq: cursor.seq });
    const rows = this.context.db.all<RunSummaryRow>(`${LIST_HEAD} ${fragments.join(' ')} ${LIST_TAIL}`, params);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toRunSummary), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.created_at, last.seq) : null };
  }
}

export function toRun(row: RunRow): Run {
  return {
    id: row.id,
    kind: row.kind,
    modelId: row.model_id,
    modelPath: row.model_path,
    parameters: parseJsonObject(row.parameters),
    input: row.input,
    output: row.output,
    status: row.status,
    error: parseRunError(row.error),
    metrics: row.metrics === null ? null : parseJsonObject(row.metrics),
    promptVersionId: row.prompt_version_id,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    documentId: row.document_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    deletedAt: row.deleted_at,
  };
}

function toRunSummary(row: RunSummaryRow): RunSummary {
  return {
    id: row.id,
    kind: row.kind,
    modelId: row.model_id,
    modelPath: row.model_path,
    status: row.status,
    inputPreview: row.input_preview,
    outputPreview: row.output_preview,
    error: parseRunError(row.error),
    metrics: row.metrics === null ? null : parseJsonObject(row.metrics),
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export function parseRunError(text: string | null): RunError | null {
  if (text === null) return null;
  const value = parseJsonObject(text);
  return { code: String(value['code'] ?? ''), message: String(value['message'] ?? '') };
}

export function clampLimit(limit: number | undefined, fallback = DEFAULT_LIMIT, max = MAX_LIMIT): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(limit)));
}

/** Cursors are opaque to callers: base64url of `[createdAt, seq]` of the last row seen. */
function encodeCursor(createdAt: number, seq: number): string {
  return Buffer.from(JSON.stringify([createdAt, seq])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; seq: number } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && Number.isSafeInteger(value[1])) {
      return { createdAt: value[0] as number, seq: value[1] as number };
    }
  } catch {
    // fall through
  }
  throw new EmergentError('INVALID_INPUT', 'That list cursor is not one this store handed out.');
}
