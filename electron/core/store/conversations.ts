/**
 * Conversations and their messages. Messages form a tree: editing a message or regenerating a
 * reply adds a sibling under the same parent, so nothing a person or a model wrote is lost.
 * The conversation remembers which leaf is on screen; the path from the root to that leaf is
 * what the chat shows and what the model is sent.
 */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';
import { jsonText, parseJsonObject, sqlBoolean, type JsonObject } from './json.js';
import { parseRunError, type RunError, type RunStatus } from './runs.js';

export type MessageRole = 'system' | 'user' | 'assistant';

/** When the conversation outgrows the model's context: drop the oldest turns, or refuse. */
export const CONTEXT_OVERFLOWS = ['shift', 'stop'] as const;
export type ContextOverflow = (typeof CONTEXT_OVERFLOWS)[number];

export interface Conversation {
  id: string;
  title: string;
  systemPrompt: string;
  modelId: string | null;
  modelPath: string | null;
  /** GenerationSettings, as saved. */
  sampling: JsonObject;
  contextOverflow: ContextOverflow;
  pinned: boolean;
  activeLeafId: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface NewConversation {
  id?: string;
  title?: string;
  systemPrompt?: string;
  modelId?: string | null;
  modelPath?: string | null;
  sampling?: JsonObject;
  contextOverflow?: ContextOverflow;
}

/** What can change after creation besides the title and the pin; null clears a model. */
export interface ConversationSettings {
  systemPrompt?: string;
  modelId?: string | null;
  modelPath?: string | null;
  sampling?: JsonObject;
  contextOverflow?: ContextOverflow;
}

export interface Message {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: MessageRole;
  content: string;
  /** The model that wrote an assistant message. */
  modelId: string | null;
  createdAt: number;
}

export interface NewMessage {
  id?: string;
  conversationId: string;
  /** null for the first message; an existing parent's id adds a sibling of its other children. */
  parentId: string | null;
  role: MessageRole;
  content: string;
  modelId?: string | null;
  /** Whether the new message becomes the active leaf; true when omitted. */
  makeActive?: boolean;
}

/** The newest run that wrote a message: its state, what it was asked, and its measurements. */
export interface MessageRun {
  id: string;
  status: RunStatus;
  modelId: string | null;
  modelPath: string | null;
  parameters: JsonObject;
  metrics: JsonObject | null;
  error: RunError | null;
  createdAt: number;
  finishedAt: number | null;
}

/**
 * A message on a path, with where it stands among its siblings (the "2 / 3" arrows) and the
 * run that wrote it. While that run is running, `content` is the text so far.
 */
export interface PathMessage extends Message {
  siblingIndex: number;
  siblingCount: number;
  run: MessageRun | null;
}

export interface ConversationSummary {
  id: string;
  title: string;
  pinned: boolean;
  modelId: string | null;
  messageCount: number;
  createdAt: number;
  updatedAt: number;
}

/** `YYYY-MM` for conversations last touched before the previous 30 days. */
export type ConversationPeriod = 'today' | 'yesterday' | 'previous7Days' | 'previous30Days' | `${number}-${string}`;

export interface ConversationGroups {
  pinned: ConversationSummary[];
  /** Most recent first; empty periods are left out. */
  periods: { period: ConversationPeriod; conversations: ConversationSummary[] }[];
}

export const DEFAULT_TITLE = 'New conversation';

interface ConversationRow {
  id: string;
  title: string;
  system_prompt: string;
  model_id: string | null;
  model_path: string | null;
  sampling: string;
  context_overflow: ContextOverflow;
  pinned: 0 | 1;
  active_leaf_id: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: MessageRole;
  content: string;
  model_id: string | null;
  created_at: number;
}

interface PathMessageRow extends MessageRow {
  // The LEFT JOINed run: all null when the message has none.
  run_id: string | null;
  run_status: RunStatus | null;
  run_model_id: string | null;
  run_model_path: string | null;
  run_parameters: string | null;
  run_metrics: string | null;
  run_error: string | null;
  run_created_at: number | null;
  run_finished_at: number | null;
}

interface SummaryRow {
  id: string;
  title: string;
  pinned: 0 | 1;
  model_id: string | null;
  message_count: number;
  created_at: number;
  updated_at: number;
}

const CONVERSATION_COLUMNS = /* sql */ `
  id, title, system_prompt, model_id, model_path, sampling, context_overflow, pinned, active_leaf_id, created_at, updated_at, deleted_at`;
const MESSAGE_COLUMNS = /* sql */ `id, conversation_id, parent_id, role, content, model_id, created_at`;

const INSERT_CONVERSATION = /* sql */ `
  INSERT INTO conversations (id, title, system_prompt, model_id, model_path, sampling, context_overflow, created_at, updated_at)
  VALUES (@id, @title, @systemPrompt, @modelId, @modelPath, @sampling, @contextOverflow, @now, @now)`;
const SELECT_CONVERSATION = /* sql */ `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = @id`;
const RENAME = /* sql */ `UPDATE conversations SET title = @title, updated_at = @now WHERE id = @id`;
// Pinning moves a conversation between groups but is not an edit: updated_at stays.
const PIN = /* sql */ `UPDATE conversations SET pinned = @pinned WHERE id = @id`;
const CONFIGURE = /* sql */ `
  UPDATE conversations SET system_prompt = @systemPrompt, model_id = @modelId, model_path = @modelPath, sampling = @sampling,
    context_overflow = @contextOverflow, updated_at = @now
  WHERE id = @id`;
const LIST = /* sql */ `
  SELECT c.id, c.title, c.pinned, c.model_id, c.created_at, c.updated_at,
         (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count
  FROM conversations c WHERE c.deleted_at IS NULL
  ORDER BY c.pinned DESC, c.updated_at DESC`;

const INSERT_MESSAGE = /* sql */ `
  INSERT INTO messages (id, conversation_id, parent_id, role, content, model_id, created_at)
  VALUES (@id, @conversationId, @parentId, @role, @content, @modelId, @now)`;
const SELECT_MESSAGE = /* sql */ `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = @id`;
const MESSAGES = /* sql */ `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = @conversationId ORDER BY created_at, seq`;
const SET_ACTIVE_LEAF = /* sql */ `UPDATE conversations SET active_leaf_id = @leafId, updated_at = @now WHERE id = @conversationId`;
const TOUCH = /* sql */ `UPDATE conversations SET updated_at = @now WHERE id = @conversationId`;
const SIBLINGS = /* sql */ `
  SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conversation_id = @conversationId AND parent_id IS @parentId
  ORDER BY created_at, seq`;

// From a message down to a leaf, following the newest child at each step: choosing a branch
// shows where that branch was last continued.
const NEWEST_LEAF_BELOW = /* sql */ `
  WITH RECURSIVE down (id, depth) AS (
    SELECT @messageId, 0
    UNION ALL
    SELECT (SELECT c.id FROM messages c WHERE c.conversation_id = @conversationId AND c.parent_id = down.id
            ORDER BY c.created_at DESC, c.seq DESC LIMIT 1), depth + 1
    FROM down WHERE down.id IS NOT NULL
  )
  SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1`;

// From a leaf up to the root, each message with the newest chat run that wrote it
// (runs_by_message finds a message's runs; runs in the trash are left out; another kind of run
// linked to a message, a translation of it say, did not write it).
// The unary + keeps kind and deleted_at out of index choice: otherwise SQLite walks
// runs_by_kind, every chat run, instead of the few runs of one message.
// A reply still being written shows its text so far: the run's output joins the message's
// text when the run ends (the runs_fill_message trigger, migration 0030).
const PATH_TO = /* sql */ `
  WITH RECURSIVE up (id, parent_id, depth) AS (
    SELECT m.id, m.parent_id, 0 FROM messages m WHERE m.id = @leafId AND m.conversation_id = @conversationId
    UNION ALL
    SELECT p.id, p.parent_id, up.depth + 1 FROM up JOIN messages p ON p.id = up.parent_id AND p.conversation_id = @conversationId
  )
  SELECT m.id, m.conversation_id, m.parent_id, m.role,
         CASE WHEN r.status = 'running' THEN m.content || r.output ELSE m.content END AS content,
         m.model_id, m.created_at,
         r.id AS run_id, r.status AS run_status, r.model_id AS run_model_id, r.model_path AS run_model_path,
         r.parameters AS run_parameters, r.metrics AS run_metrics, r.error AS run_error,
         r.created_at AS run_created_at, r.finished_at AS run_finished_at
  FROM up
  JOIN messages m ON m.id = up.id
  LEFT JOIN runs r ON r.seq = (
    SELECT n.seq FROM runs n WHERE n.message_id = m.id AND +n.kind = 'chat' AND +n.deleted_at IS NULL
    ORDER BY n.created_at DESC, n.seq DESC LIMIT 1)
  ORDER BY up.depth DESC`;

// Parents with more than one child: the only places where a path has a "2 / 3" to show. One
// pass over the index, instead of counting siblings for every message of a long path (that
// doubled the time to open a 5,000-message conversation).
const BRANCHING_PARENTS = /* sql */ `
  SELECT parent_id, count(*) AS children FROM messages WHERE conversation_id = @conversationId
  GROUP BY parent_id HAVING count(*) > 1`;

const SIBLING_IDS = /* sql */ `
  SELECT id FROM messages WHERE conversation_id = @conversationId AND parent_id IS @parentId ORDER BY created_at, seq`;

const DAY_MS = 24 * 60 * 60 * 1000;

export class ConversationStore {
  constructor(private readonly context: StoreContext) {}

  create(conversation: NewConversation = {}): Conversation {
    const id = conversation.id ?? this.context.newId();
    this.context.db.run(INSERT_CONVERSATION, {
      id,
      title: conversation.title ?? DEFAULT_TITLE,
      systemPrompt: conversation.systemPrompt ?? '',
      modelId: conversation.modelId ?? null,
      modelPath: conversation.modelPath ?? null,
      sampling: jsonText(conversation.sampling ?? {}),
      contextOverflow: conversation.contextOverflow ?? 'shift',
      now: this.context.now(),
    });
    return this.require(id);
  }

  get(id: string): Conversation | null {
    const row = this.context.db.get<ConversationRow>(SELECT_CONVERSATION, { id });
    return row === undefined ? null : toConversation(row);
  }

  rename(id: string, title: string): Conversation {
    this.changeOne(RENAME, { id, title, now: this.context.now() }, id);
    return this.require(id);
  }

  pin(id: string, pinned: boolean): Conversation {
    this.changeOne(PIN, { id, pinned: sqlBoolean(pinned) }, id);
    return this.require(id);
  }

  configure(id: string, settings: ConversationSettings): Conversation {
    return this.context.db.transaction(() => {
      const current = this.require(id);
      this.context.db.run(CONFIGURE, {
        id,
        systemPrompt: settings.systemPrompt ?? current.systemPrompt,
        modelId: settings.modelId === undefined ? current.modelId : settings.modelId,
        modelPath: settings.modelPath === undefined ? current.modelPath : settings.modelPath,
        sampling: jsonText(settings.sampling ?? current.sampling),
        contextOverflow: settings.contextOverflow ?? current.contextOverflow,
        now: this.context.now(),
      });
      return this.require(id);
    });
  }

  /**
   * Conversations outside the trash for the sidebar: pinned ones first, then by when they
   * were last changed, grouped by period in local time (the time zone of this process).
   */
  list(now: number = this.context.now()): ConversationGroups {
    const rows = this.context.db.all<SummaryRow>(LIST);
    const startOfToday = new Date(now);
    startOfToday.setHours(0, 0, 0, 0);
    const today = startOfToday.getTime();
    const groups: ConversationGroups = { pinned: [], periods: [] };
    for (const row of rows) {
      const summary = toSummary(row);
      if (summary.pinned) {
        groups.pinned.push(summary);
        continue;
      }
      const period = periodOf(summary.updatedAt, today);
      const last = groups.periods.at(-1);
      if (last?.period === period) last.conversations.push(summary);
      else groups.periods.push({ period, conversations: [summary] });
    }
    return groups;
  }

  /** Adds a message under `parentId` and makes it the active leaf (unless `makeActive` is false). */
  addMessage(message: NewMessage): Message {
    const id = message.id ?? this.context.newId();
    const now = this.context.now();
    this.context.db.transaction(() => {
      this.require(message.conversationId);
      if (message.parentId !== null) this.requireMessage(message.conversationId, message.parentId);
      this.context.db.run(INSERT_MESSAGE, {
        id,
        conversationId: message.conversationId,
        parentId: message.parentId,
        role: message.role,
        content: message.content,
        modelId: message.modelId ?? null,
        now,
      });
      // Either way the conversation changed, so it moves up the list.
      if (message.makeActive ?? true) this.context.db.run(SET_ACTIVE_LEAF, { conversationId: message.conversationId, leafId: id, now });
      else this.context.db.run(TOUCH, { conversationId: message.conversationId, now });
    });
    return this.requireMessage(message.conversationId, id);
  }

  /** Every message of the conversation, all branches, oldest first. */
  messages(conversationId: string): Message[] {
    return this.context.db.all<MessageRow>(MESSAGES, { conversationId }).map(toMessage);
  }

  /**
   * Shows the branch through `messageId`: the active leaf becomes the newest leaf below it
   * (itself when it has no children). Returns that leaf's id.
   */
  setActiveLeaf(conversationId: string, messageId: string): string {
    return this.context.db.transaction(() => {
      this.requireMessage(conversationId, messageId);
      const leaf = this.context.db.get<{ id: string }>(NEWEST_LEAF_BELOW, { conversationId, messageId })?.id ?? messageId;
      this.context.db.run(SET_ACTIVE_LEAF, { conversationId, leafId: leaf, now: this.context.now() });
      return leaf;
    });
  }

  /** The message and its siblings (same parent), oldest first, and where it stands among them. */
  siblings(conversationId: string, messageId: string): { messages: Message[]; index: number } {
    const message = this.requireMessage(conversationId, messageId);
    const messages = this.context.db.all<MessageRow>(SIBLINGS, { conversationId, parentId: message.parentId }).map(toMessage);
    return { messages, index: messages.findIndex((sibling) => sibling.id === messageId) };
  }

  /** Root to active leaf: what the chat shows and the model is sent. Empty for a new conversation. */
  activePath(conversationId: string): PathMessage[] {
    const { activeLeafId } = this.require(conversationId);
    return activeLeafId === null ? [] : this.path(conversationId, activeLeafId);
  }

  /** Root down to `messageId`, inclusive, on whatever branch it is: what a reply to it is sent. */
  pathTo(conversationId: string, messageId: string): PathMessage[] {
    this.requireMessage(conversationId, messageId);
    return this.path(conversationId, messageId);
  }

  private path(conversationId: string, leafId: string): PathMessage[] {
    // Reads only: no transaction (a write lock would stall the app's writers). A message added
    // between the queries can only make a "2 / 3" one behind, never wrong on the next read.
    const { db } = this.context;
    const rows = db.all<PathMessageRow>(PATH_TO, { conversationId, leafId });
    const branching = new Map(db.all<{ parent_id: string | null; children: number }>(BRANCHING_PARENTS, { conversationId }).map((row) => [row.parent_id, row.children]));
    return rows.map((row) => {
      const siblingCount = branching.get(row.parent_id) ?? 1;
      const siblingIndex = siblingCount === 1 ? 0 : db.all<{ id: string }>(SIBLING_IDS, { conversationId, parentId: row.parent_id }).findIndex((sibling) => sibling.id === row.id);
      return toPathMessage(row, Math.max(0, siblingIndex), Math.max(siblingCount, siblingIndex + 1));
    });
  }

  private require(id: string): Conversation {
    const conversation = this.get(id);
    if (conversation === null) throw new EmergentError('NOT_FOUND', `There is no conversation ${id}.`);
    return conversation;
  }

  private requireMessage(conversationId: string, id: string): Message {
    const row = this.context.db.get<MessageRow>(SELECT_MESSAGE, { id });
    if (row === undefined || row.conversation_id !== conversationId) {
      throw new EmergentError('NOT_FOUND', `There is no message ${id} in conversation ${conversationId}.`);
    }
    return toMessage(row);
  }

  private changeOne(sql: string, params: Record<string, string | number>, id: string): void {
    if (this.context.db.run(sql, params) === 0) throw new EmergentError('NOT_FOUND', `There is no conversation ${id}.`);
  }
}

function periodOf(updatedAt: number, startOfToday: number): ConversationPeriod {
  if (updatedAt >= startOfToday) return 'today';
  if (updatedAt >= startOfToday - DAY_MS) return 'yesterday';
  if (updatedAt >= startOfToday - 7 * DAY_MS) return 'previous7Days';
  if (updatedAt >= startOfToday - 30 * DAY_MS) return 'previous30Days';
  const date = new Date(updatedAt);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}`;
}

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    title: row.title,
    systemPrompt: row.system_prompt,
    modelId: row.model_id,
    modelPath: row.model_path,
    sampling: parseJsonObject(row.sampling),
    contextOverflow: row.context_overflow,
    pinned: row.pinned === 1,
    activeLeafId: row.active_leaf_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    parentId: row.parent_id,
    role: row.role,
    content: row.content,
    modelId: row.model_id,
    createdAt: row.created_at,
  };
}

function toPathMessage(row: PathMessageRow, siblingIndex: number, siblingCount: number): PathMessage {
  return {
    ...toMessage(row),
    siblingIndex,
    siblingCount,
    run: toMessageRun(row),
  };
}

function toMessageRun(row: PathMessageRow): MessageRun | null {
  // Every column but the nullable ones is set exactly when a run was joined.
  if (row.run_id === null || row.run_status === null || row.run_parameters === null || row.run_created_at === null) return null;
  return {
    id: row.run_id,
    status: row.run_status,
    modelId: row.run_model_id,
    modelPath: row.run_model_path,
    parameters: parseJsonObject(row.run_parameters),
    metrics: row.run_metrics === null ? null : parseJsonObject(row.run_metrics),
    error: parseRunError(row.run_error),
    createdAt: row.run_created_at,
    finishedAt: row.run_finished_at,
  };
}

function toSummary(row: SummaryRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    pinned: row.pinned === 1,
    modelId: row.model_id,
    messageCount: row.message_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
