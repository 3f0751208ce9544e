/**
 * Getting data out and back in: a conversation as Markdown (to read or share) or JSON (every
 * branch), and everything as one versioned JSON archive that a fresh install can import.
 *
 * The archive mirrors the tables, with camelCase fields and JSON columns as JSON (not strings
 * of JSON). Derived data is left out: search indexes, the internal `seq` row numbers, a
 * prompt's copy of its newest body; importing rebuilds them. Rows are in a fixed order (the
 * order they were written in), so exporting, importing into an empty database and exporting
 * again gives the same bytes except `exportedAt`.
 *
 * Version 2 added `presets` and each conversation's `contextOverflow`. A version 1 archive
 * still imports (no presets; conversations shift), while an Emergent that reads only version 1
 * says a version 2 archive is from a newer Emergent instead of calling it malformed.
 */
import { z } from 'zod';
import { EmergentError } from '../../common/errors.js';
import { toComparison, toVote } from './comparisons.js';
import type { StoreContext } from './context.js';
import { CONTEXT_OVERFLOWS, ConversationStore, toConversation, toMessage } from './conversations.js';
import { toStoredDocument } from './documents.js';
import { jsonText, sqlBoolean, type JsonValue } from './json.js';
import { toLibraryModel } from './models.js';
import { toPreset } from './presets.js';
import { toPromptVersion } from './prompts.js';
import { RUN_KINDS, RUN_STATUSES, toRun } from './runs.js';

export const ARCHIVE_FORMAT = 'emergent-archive';
/** The shape of the archive, not the database schema: it changes only when this shape does. */
export const ARCHIVE_VERSION = 2;

const Id = z.string().min(1).max(200);
const Timestamp = z.number().int().nonnegative();
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const JsonObjectSchema = z.record(z.string(), z.json());

const ModelRecord = z.strictObject({
  id: Id,
  path: z.string().min(1).max(4096),
  sha256: Sha256.nullable(),
  name: z.string(),
  metadata: JsonObjectSchema,
  sizeBytes: z.number().int().nonnegative(),
  addedAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
});

const PromptRecord = z.strictObject({
  id: Id,
  name: z.string().min(1).max(200),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});

const PromptVersionRecord = z.strictObject({
  id: Id,
  promptId: Id,
  version: z.number().int().min(1),
  body: z.string(),
  variables: z.array(z.string()),
  createdAt: Timestamp,
});

const PromptTagRecord = z.strictObject({
  promptId: Id,
  tag: z
    .string()
    .min(1)
    .max(64)
    .refine((tag) => tag === tag.trim(), 'A tag has no surrounding spaces.'),
});

const PresetRecord = z.strictObject({
  id: Id,
  name: z
    .string()
    .min(1)
    .max(200)
    .refine((name) => name === name.trim(), 'A preset name has no surrounding spaces.'),
  systemPrompt: z.string(),
  settings: JsonObjectSchema,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const ConversationRecordV1 = z.strictObject({
  id: Id,
  title: z.string().max(500),
  systemPrompt: z.string(),
  modelId: z.string().nullable(),
  modelPath: z.string().nullable(),
  sampling: JsonObjectSchema,
  pinned: z.boolean(),
  activeLeafId: Id.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});
const ConversationRecord = ConversationRecordV1.extend({ contextOverflow: z.enum(CONTEXT_OVERFLOWS) });

const MessageRecord = z.strictObject({
  id: Id,
  conversationId: Id,
  parentId: Id.nullable(),
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
  modelId: z.string().nullable(),
  createdAt: Timestamp,
});

const DocumentRecord = z.strictObject({
  id: Id,
  name: z.string().min(1).max(1000),
  sha256: Sha256,
  text: z.string(),
  chunking: JsonObjectSchema,
  createdAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});

const RunRecord = z
  .strictObject({
    id: Id,
    kind: z.enum(RUN_KINDS),
    modelId: z.string().nullable(),
    modelPath: z.string().nullable(),
    parameters: JsonObjectSchema,
    input: z.string(),
    output: z.string(),
    status: z.enum(RUN_STATUSES),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
    metrics: JsonObjectSchema.nullable(),
    promptVersionId: Id.nullable(),
    conversationId: Id.nullable(),
    messageId: Id.nullable(),
    documentId: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    deletedAt: Timestamp.nullable(),
  })
  .refine((run) => (run.status === 'running') === (run.finishedAt === null), 'A run has finishedAt exactly when it is not running.')
  .refine((run) => (run.status === 'error') === (run.error !== null), 'A run has an error exactly when its status is error.');

const ComparisonRecord = z.strictObject({
  id: Id,
  title: z.string(),
  input: z.string(),
  columns: z.array(JsonObjectSchema).min(1).max(16),
  createdAt: Timestamp,
});

const VoteRecord = z
  .strictObject({
    id: Id,
    comparisonId: Id,
    verdict: z.enum(['column', 'tie', 'neither']),
    columnIndex: z.number().int().min(0).max(15).nullable(),
    note: z.string(),
    createdAt: Timestamp,
  })
  .refine((vote) => (vote.verdict === 'column') === (vote.columnIndex !== null), 'A vote names a column exactly when its verdict is column.');

const SettingRecord = z.strictObject({ key: z.string().min(1).max(200), value: z.json(), updatedAt: Timestamp });

export const ArchiveSchema = z.strictObject({
  format: z.literal(ARCHIVE_FORMAT),
  version: z.literal(ARCHIVE_VERSION),
  exportedAt: z.iso.datetime(),
  models: z.array(ModelRecord),
  documents: z.array(DocumentRecord),
  prompts: z.array(PromptRecord),
  promptVersions: z.array(PromptVersionRecord),
  promptTags: z.array(PromptTagRecord),
  presets: z.array(PresetRecord),
  conversations: z.array(ConversationRecord),
  messages: z.array(MessageRecord),
  runs: z.array(RunRecord),
  comparisons: z.array(ComparisonRecord),
  comparisonVotes: z.array(VoteRecord),
  settings: z.array(SettingRecord),
});
export type Archive = z.infer<typeof ArchiveSchema>;

/** Before presets and the context overflow choice. */
const ArchiveV1Schema = ArchiveSchema.omit({ presets: true }).extend({
  version: z.literal(1),
  conversations: z.array(ConversationRecordV1),
});
export type ArchiveTable = Exclude<keyof Archive, 'format' | 'version' | 'exportedAt'>;

/** In dependency order: a row's parents come before it (imports defer the checks anyway). */
export const ARCHIVE_TABLES: readonly ArchiveTable[] = [
  'models',
  'documents',
  'prompts',
  'promptVersions',
  'promptTags',
  'presets',
  'conversations',
  'messages',
  'runs',
  'comparisons',
  'comparisonVotes',
  'settings',
];

export type ConversationExport = {
  format: 'emergent-conversation';
  version: 1;
  exportedAt: string;
  conversation: z.infer<typeof ConversationRecord>;
  /** Every branch, in the order written. */
  messages: z.infer<typeof MessageRecord>[];
};

export interface ImportReport {
  inserted: Record<ArchiveTable, number>;
  /** Rows already present (same id, or the same natural key) and left as they were. */
  skipped: Record<ArchiveTable, number>;
}

// Export: every table in the order its rows were written.
const EXPORT = {
  models: `SELECT id, path, sha256, name, metadata, size_bytes, added_at, last_used_at FROM models ORDER BY added_at, id`,
  documents: `SELECT id, name, sha256, text, chunking, created_at, deleted_at FROM documents ORDER BY created_at, id`,
  prompts: `SELECT id, name, created_at, updated_at, deleted_at FROM prompts ORDER BY seq`,
  promptVersions: `SELECT v.id, v.prompt_id, v.version, v.body, v.variables, v.created_at
    FROM prompt_versions v JOIN prompts p ON p.id = v.prompt_id ORDER BY p.seq, v.version`,
  promptTags: `SELECT t.prompt_id, t.tag FROM prompt_tags t JOIN prompts p ON p.id = t.prompt_id ORDER BY p.seq, t.tag`,
  presets: `SELECT id, name, system_prompt, settings, created_at, updated_at FROM presets ORDER BY created_at, id`,
  conversations: `SELECT id, title, system_prompt, model_id, model_path, sampling, context_overflow, pinned, active_leaf_id, created_at, updated_at, deleted_at
    FROM conversations ORDER BY created_at, id`,
  messages: `SELECT id, conversation_id, parent_id, role, content, model_id, created_at FROM messages ORDER BY seq`,
  runs: `SELECT id, kind, model_id, model_path, parameters, input, output, status, error, metrics, prompt_version_id,
    conversation_id, message_id, document_id, created_at, updated_at, finished_at, deleted_at FROM runs ORDER BY seq`,
  comparisons: `SELECT id, title, input, columns, created_at FROM comparisons ORDER BY created_at, id`,
  comparisonVotes: `SELECT id, comparison_id, verdict, column_index, note, created_at FROM comparison_votes ORDER BY created_at, id`,
  settings: `SELECT key, value, updated_at FROM settings ORDER BY key`,
} as const satisfies Record<ArchiveTable, string>;

const CONVERSATION = `SELECT id, title, system_prompt, model_id, model_path, sampling, context_overflow, pinned, active_leaf_id, created_at, updated_at, deleted_at
  FROM conversations WHERE id = @id`;
const CONVERSATION_MESSAGES = `SELECT id, conversation_id, parent_id, role, content, model_id, created_at
  FROM messages WHERE conversation_id = @id ORDER BY seq`;

// Import: existing rows (by id, or by another unique key) are skipped, never overwritten.
const IMPORT = {
  models: `INSERT INTO models (id, path, sha256, name, metadata, size_bytes, added_at, last_used_at)
    VALUES (@id, @path, @sha256, @name, @metadata, @sizeBytes, @addedAt, @lastUsedAt) ON CONFLICT DO NOTHING`,
  documents: `INSERT INTO documents (id, name, sha256, text, chunking, created_at, deleted_at)
    VALUES (@id, @name, @sha256, @text, @chunking, @createdAt, @deletedAt) ON CONFLICT DO NOTHING`,
  prompts: `INSERT INTO prompts (id, name, created_at, updated_at, deleted_at)
    VALUES (@id, @name, @createdAt, @updatedAt, @deletedAt) ON CONFLICT DO NOTHING`,
  promptVersions: `INSERT INTO prompt_versions (id, prompt_id, version, body, variables, created_at)
    VALUES (@id, @promptId, @version, @body, @variables, @createdAt) ON CONFLICT DO NOTHING`,
  promptTags: `INSERT INTO prompt_tags (prompt_id, tag) VALUES (@promptId, @tag) ON CONFLICT DO NOTHING`,
  // A preset whose name is taken (ignoring case) by another is skipped like a known id.
  presets: `INSERT INTO presets (id, name, system_prompt, settings, created_at, updated_at)
    VALUES (@id, @name, @systemPrompt, @settings, @createdAt, @updatedAt) ON CONFLICT DO NOTHING`,
  conversations: `INSERT INTO conversations (id, title, system_prompt, model_id, model_path, sampling, context_overflow, pinned, active_leaf_id, created_at, updated_at, deleted_at)
    VALUES (@id, @title, @systemPrompt, @modelId, @modelPath, @sampling, @contextOverflow, @pinned, @activeLeafId, @createdAt, @updatedAt, @deletedAt)
    ON CONFLICT DO NOTHING`,
  messages: `INSERT INTO messages (id, conversation_id, parent_id, role, content, model_id, created_at)
    VALUES (@id, @conversationId, @parentId, @role, @content, @modelId, @createdAt) ON CONFLICT DO NOTHING`,
  runs: `INSERT INTO runs (id, kind, model_id, model_path, parameters, input, output, status, error, metrics, prompt_version_id,
      conversation_id, message_id, document_id, created_at, updated_at, finished_at, deleted_at)
    VALUES (@id, @kind, @modelId, @modelPath, @parameters, @input, @output, @status, @error, @metrics, @promptVersionId,
      @conversationId, @messageId, @documentId, @createdAt, @updatedAt, @finishedAt, @deletedAt) ON CONFLICT DO NOTHING`,
  comparisons: `INSERT INTO comparisons (id, title, input, columns, created_at) VALUES (@id, @title, @input, @columns, @createdAt) ON CONFLICT DO NOTHING`,
  comparisonVotes: `INSERT INTO comparison_votes (id, comparison_id, verdict, column_index, note, created_at)
    VALUES (@id, @comparisonId, @verdict, @columnIndex, @note, @createdAt) ON CONFLICT DO NOTHING`,
  settings: `INSERT INTO settings (key, value, updated_at) VALUES (@key, @value, @updatedAt) ON CONFLICT DO NOTHING`,
} as const satisfies Record<ArchiveTable, string>;

// As at start-up after a crash (RunStore.markInterrupted): the runs_fill_message trigger gives
// the run's message its text.
const INTERRUPT_RUN = `UPDATE runs SET status = 'interrupted', finished_at = updated_at WHERE id = @id AND status = 'running'`;

// Checked before committing, so a reference to a row that is neither in the archive nor in
// the database is reported as such rather than as a failed COMMIT.
const FOREIGN_KEY_CHECK = `PRAGMA foreign_key_check`;
const DEFER_FOREIGN_KEYS = `PRAGMA defer_foreign_keys = ON`;

type Row<F extends (row: never) => unknown> = Parameters<F>[0];

export class Archiver {
  constructor(private readonly context: StoreContext) {}

  /** The whole store as one archive object (JSON.stringify it to save it). */
  exportAll(): Archive {
    const { db } = this.context;
    return {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      exportedAt: new Date(this.context.now()).toISOString(),
      models: db.all<Row<typeof toLibraryModel>>(EXPORT.models).map(toLibraryModel),
      documents: db.all<Row<typeof toStoredDocument>>(EXPORT.documents).map(toStoredDocument),
      prompts: db
        .all<{ id: string; name: string; created_at: number; updated_at: number; deleted_at: number | null }>(EXPORT.prompts)
        .map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at, deletedAt: row.deleted_at })),
      promptVersions: db.all<Row<typeof toPromptVersion>>(EXPORT.promptVersions).map(toPromptVersion),
      promptTags: db.all<{ prompt_id: string; tag: string }>(EXPORT.promptTags).map((row) => ({ promptId: row.prompt_id, tag: row.tag })),
      presets: db.all<Row<typeof toPreset>>(EXPORT.presets).map(toPreset),
      conversations: db.all<Row<typeof toConversation>>(EXPORT.conversations).map(toConversation),
      messages: db.all<Row<typeof toMessage>>(EXPORT.messages).map(toMessage),
      runs: db.all<Row<typeof toRun>>(EXPORT.runs).map(toRun),
      comparisons: db.all<Row<typeof toComparison>>(EXPORT.comparisons).map(toComparison),
      comparisonVotes: db.all<Row<typeof toVote>>(EXPORT.comparisonVotes).map(toVote),
      settings: db
        .all<{ key: string; value: string; updated_at: number }>(EXPORT.settings)
        .map((row) => ({ key: row.key, value: JSON.parse(row.value) as JsonValue, updatedAt: row.updated_at })),
    };
  }

  /**
   * Imports an archive (parsed JSON, or its text). Idempotent: ids are kept and rows already
   * present are skipped, so importing twice changes nothing. All or nothing: a malformed
   * archive is ARCHIVE_INVALID and the database is left as it was.
   */
  importArchive(input: unknown): ImportReport {
    const archive = parseArchive(input);
    const { db } = this.context;
    const inserted = emptyCounts();
    const skipped = emptyCounts();
    const insert = (table: ArchiveTable, params: Record<string, string | number | null>): boolean => {
      const added = db.run(IMPORT[table], params) === 1;
      if (added) inserted[table]++;
      else skipped[table]++;
      return added;
    };
    try {
      db.transaction(() => {
        // Rows reference each other both ways (a conversation its active leaf, a message its
        // conversation): check the references once, at the end.
        db.run(DEFER_FOREIGN_KEYS);
        for (const model of archive.models) insert('models', { ...model, metadata: jsonText(model.metadata) });
        for (const document of archive.documents) insert('documents', { ...document, chunking: jsonText(document.chunking) });
        for (const prompt of archive.prompts) insert('prompts', prompt);
        for (const version of archive.promptVersions) insert('promptVersions', { ...version, variables: jsonText(version.variables) });
        for (const tag of archive.promptTags) insert('promptTags', tag);
        for (const preset of archive.presets) insert('presets', { ...preset, settings: jsonText(preset.settings) });
        for (const conversation of archive.conversations) {
          insert('conversations', { ...conversation, sampling: jsonText(conversation.sampling), pinned: sqlBoolean(conversation.pinned) });
        }
        const newMessages = new Set<string>();
        for (const message of archive.messages) if (insert('messages', message)) newMessages.add(message.id);
        for (const run of archive.runs) {
          // A run exported while it was generating cannot go on here: it arrives interrupted.
          // A chat run's text so far was still in the run, not its message; the message gets it
          // when both are new here (a message already here saw its run end, and has its text).
          const running = run.status === 'running';
          const fillsMessage = running && run.messageId !== null && newMessages.has(run.messageId);
          const interrupted = running && !fillsMessage;
          const added = insert('runs', {
            ...run,
            status: interrupted ? 'interrupted' : run.status,
            finishedAt: interrupted ? run.updatedAt : run.finishedAt,
            parameters: jsonText(run.parameters),
            error: run.error === null ? null : jsonText(run.error),
            metrics: run.metrics === null ? null : jsonText(run.metrics),
          });
          if (added && fillsMessage) db.run(INTERRUPT_RUN, { id: run.id });
        }
        for (const comparison of archive.comparisons) insert('comparisons', { ...comparison, columns: jsonText(comparison.columns) });
        for (const vote of archive.comparisonVotes) insert('comparisonVotes', vote);
        for (const setting of archive.settings) insert('settings', { ...setting, value: jsonText(setting.value) });

        const broken = db.all<{ table: string; parent: string }>(FOREIGN_KEY_CHECK);
        const first = broken[0];
        if (first !== undefined) {
          throw new EmergentError('ARCHIVE_INVALID', `The archive refers to rows it does not contain: ${broken.length} row(s) of ${first.table} point to a missing ${first.parent} row. Nothing was imported.`);
        }
      });
    } catch (err) {
      if (err instanceof EmergentError) throw err;
      // A CHECK or NOT NULL the schema validation let through: still the archive's fault.
      throw new EmergentError('ARCHIVE_INVALID', `The archive could not be imported (${err instanceof Error ? err.message : String(err)}). Nothing was imported.`);
    }
    return { inserted, skipped };
  }

  /** Every branch of one conversation, as JSON. */
  conversationJson(conversationId: string): ConversationExport {
    const row = this.context.db.get<Row<typeof toConversation>>(CONVERSATION, { id: conversationId });
    if (row === undefined) throw new EmergentError('NOT_FOUND', `There is no conversation ${conversationId}.`);
    return {
      format: 'emergent-conversation',
      version: 1,
      exportedAt: new Date(this.context.now()).toISOString(),
      conversation: toConversation(row),
      messages: this.context.db.all<Row<typeof toMessage>>(CONVERSATION_MESSAGES, { id: conversationId }).map(toMessage),
    };
  }

  /** The branch on screen as Markdown: a heading per message, the text as written. */
  conversationMarkdown(conversationId: string): string {
    const row = this.context.db.get<Row<typeof toConversation>>(CONVERSATION, { id: conversationId });
    if (row === undefined) throw new EmergentError('NOT_FOUND', `There is no conversation ${conversationId}.`);
    const conversation = toConversation(row);
    // The path as the chat shows it: a reply still being written with its text so far.
    const messages = new ConversationStore(this.context).activePath(conversationId);
    const model = conversation.modelPath ?? conversation.modelId;
    const lines = [`# ${conversation.title}`, ''];
    lines.push(`${model === null ? '' : `Model: \`${model}\` · `}Started ${new Date(conversation.createdAt).toISOString()} · Exported from Emergent`, '');
    if (conversation.systemPrompt !== '') lines.push('## System', '', conversation.systemPrompt, '');
    for (const message of messages) {
      const heading = message.role === 'user' ? 'User' : message.role === 'assistant' ? 'Assistant' : 'System';
      lines.push(`## ${heading}${message.modelId === null ? '' : ` (${message.modelId})`}`, '', message.content, '');
    }
    return lines.join('\n');
  }
}

/** Validates an archive before anything is written; every failure is ARCHIVE_INVALID. */
export function parseArchive(input: unknown): Archive {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new EmergentError('ARCHIVE_INVALID', `This is not an Emergent archive: it is not JSON (${err instanceof Error ? err.message : String(err)}).`);
    }
  }
  const header = z.object({ format: z.literal(ARCHIVE_FORMAT), version: z.number().int() }).safeParse(value);
  if (!header.success) throw new EmergentError('ARCHIVE_INVALID', `This is not an Emergent archive (no "format": "${ARCHIVE_FORMAT}" with a version).`);
  if (header.data.version > ARCHIVE_VERSION) {
    throw new EmergentError('ARCHIVE_INVALID', `This archive was made by a newer Emergent (format version ${header.data.version}; this one reads ${ARCHIVE_VERSION}). Update Emergent to import it.`);
  }
  if (header.data.version === 1) {
    const v1 = checked(ArchiveV1Schema.safeParse(value));
    return {
      ...v1,
      version: ARCHIVE_VERSION,
      presets: [],
      conversations: v1.conversations.map((conversation) => ({ ...conversation, contextOverflow: 'shift' as const })),
    };
  }
  return checked(ArchiveSchema.safeParse(value));
}

function checked<T>(parsed: z.ZodSafeParseResult<T>): T {
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` at ${issue.path.join('.') || '(top)'}: ${issue.message}`;
    throw new EmergentError('ARCHIVE_INVALID', `The archive is malformed${where}. Nothing was imported.`);
  }
  return parsed.data;
}

function emptyCounts(): Record<ArchiveTable, number> {
  return Object.fromEntries(ARCHIVE_TABLES.map((table) => [table, 0])) as Record<ArchiveTable, number>;
}
