/**
 * Everything the chat panel shows and does: the conversation list, the open conversation and its
 * active path, replies as they stream, the models, the composer's draft and context meter,
 * presets, search, errors and the undo toast. Components read it and call its methods; only this
 * class talks to the contract client, and it is where the core's events become reactive state.
 *
 * Streamed text is buffered as it arrives and applied at most once per animation frame (the
 * frame scheduler is a constructor argument, so tests drive frames by hand).
 */
import type { ContractClient } from '../../../../electron/common/client.js';
import type {
  ChatTurn,
  ContextOverflow,
  Conversation,
  EventPayload,
  GenerationSettings,
  LibraryModel,
  LoadedModel,
  MessageRun,
  MethodOutput,
  PathMessage,
  Preset,
  SearchHit,
} from '../../../../electron/common/contract.js';
import { SvelteMap } from 'svelte/reactivity';
import { EmergentError } from '../../../../electron/common/errors.js';
import {
  completedSentencesEnd,
  conversationRows,
  readSettings,
  speakableText,
  type ConversationList,
  type ConversationRow,
} from './chat-format.js';

export type FrameScheduler = (callback: () => void) => void;

/** setTimeout and clearTimeout, replaceable so tests can run debounces and toasts by hand. */
export interface ChatTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ChatStateOptions {
  timers?: ChatTimers;
  /** Milliseconds, for the live tokens/s estimate. */
  now?: () => number;
  /** Where the last open conversation is remembered; null remembers nothing. */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
}

export const CONTEXT_DEBOUNCE_MS = 150;
/** Ids of the rows shown for a message on its way; never a stored id (those have no colon). */
export const PENDING_PREFIX = 'pending:';
export const SEARCH_DEBOUNCE_MS = 150;
export const UNDO_MS = 8000;
const LAST_CONVERSATION_KEY = 'emergent.chat.lastConversation';
/** Events of runs this state has not heard of yet are kept this long, for a start call still in flight. */
const ORPHAN_LIMIT = 64;
/** Characters per token before a finished run of the model says better. */
const DEFAULT_CHARS_PER_TOKEN = 4;

export type ContextUsage = MethodOutput<'chat.contextUsage'>;
export type MessageHit = Extract<SearchHit, { kind: 'message' }>;
export type ExportedConversation = MethodOutput<'conversations.export'>;

/** A failure a person should see: what was being done, the core's code and its message. */
export interface ChatProblem {
  title: string;
  code: string | null;
  message: string;
}

/** The settings of a conversation, or of a new chat before its first message saves it. */
export interface ChatConfig {
  systemPrompt: string;
  modelId: string | null;
  modelPath: string | null;
  settings: GenerationSettings;
  contextOverflow: ContextOverflow;
}

export type ConfigPatch = Partial<ChatConfig>;

export interface UndoToast {
  id: string;
  message: string;
  conversationId: string;
  wasOpen: boolean;
}

export interface ModelProgress {
  stage: EventPayload<'models.progress'>['stage'];
  progress: number;
}

export type ScrollRequest = { seq: number; target: 'bottom' } | { seq: number; target: 'message'; messageId: string; flash: boolean };

/** A reply being written: what the events have brought, shown a frame at a time. */
export class LiveReply {
  /** Generated text applied to the screen so far (after `base`). */
  text = $state('');
  /** When the first text arrived, and when text was last applied (ms, from `now`). */
  firstTextAt = $state<number | null>(null);
  updatedAt = $state(0);
  /** Text that arrived since the last frame. */
  pending = '';
  firstDeltaAt: number | null = null;
  /** How far the screen reader has been told (an offset into `content`). */
  announcedUpTo = 0;

  constructor(
    readonly runId: string,
    readonly conversationId: string,
    readonly messageId: string,
    readonly modelId: string | null,
    /** What the message held when the run started (a continued reply's text). */
    readonly base: string,
    readonly startedAt: number,
    readonly charsPerToken: number,
    /** Picked up from a conversation's path (another window started it): the store's text is the base. */
    readonly adopted: boolean,
  ) {
    this.announcedUpTo = base.length;
  }

  get content(): string {
    return this.base + this.text;
  }

  /** Generated tokens so far, estimated from characters ("≈" on screen). */
  get estimatedTokens(): number {
    return Math.round(this.text.length / this.charsPerToken);
  }

  /** Live tokens/s estimate; null until there is enough to measure. */
  get tokensPerSecond(): number | null {
    if (this.firstTextAt === null) return null;
    const seconds = (this.updatedAt - this.firstTextAt) / 1000;
    const tokens = this.estimatedTokens;
    if (seconds < 0.25 || tokens < 2) return null;
    return (tokens - 1) / seconds;
  }
}

interface OrphanEvents {
  deltas: string[];
  end: { kind: 'done'; payload: EventPayload<'run.done'> } | { kind: 'error'; payload: EventPayload<'run.error'> } | null;
}

const EMPTY_LIST: ConversationList = { pinned: [], periods: [] };

function defaultStorage(): Pick<Storage, 'getItem' | 'setItem'> | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

const DEFAULT_TIMERS: ChatTimers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export class ChatState {
  // ---- The conversation list
  list = $state.raw<ConversationList>(EMPTY_LIST);
  listLoaded = $state(false);
  readonly rows: ConversationRow[] = $derived(conversationRows(this.list));
  /** The conversation whose title is being edited in the list. */
  renamingId = $state<string | null>(null);

  // ---- The open conversation (null: a new chat, saved with its first message)
  conversation = $state.raw<Conversation | null>(null);
  path = $state.raw<PathMessage[]>([]);
  opening = $state(false);
  /** The settings of the new chat while there is no conversation yet. */
  draftConfig = $state.raw<ChatConfig>({ systemPrompt: '', modelId: null, modelPath: null, settings: {}, contextOverflow: 'shift' });
  /** A new chat takes the preferred model until the person chooses one. */
  #draftModelChosen = false;

  // ---- Streaming
  /** Replies being written, by their message id. */
  readonly live = new SvelteMap<string, LiveReply>();
  /** A start call (send, regenerate ...) is on its way. */
  starting = $state(false);
  /** A message being sent, shown at once while the call (and maybe a model load) is on its way. */
  sending = $state<string | null>(null);

  // ---- Models
  library = $state.raw<LibraryModel[]>([]);
  loaded = $state.raw<LoadedModel[]>([]);
  /** Loading progress by model path. */
  progress = $state.raw<Readonly<Record<string, ModelProgress>>>({});
  /** Bumped when the model picker should open (sending with no model). */
  modelPickerRequests = $state(0);
  /** Bumped when the composer should take focus (an edit was saved and its editor is gone). */
  composerFocusRequests = $state(0);

  // ---- Composer
  draft = $state('');
  usage = $state.raw<ContextUsage | null>(null);
  editingId = $state<string | null>(null);

  // ---- Presets, search, notices
  presets = $state.raw<Preset[]>([]);
  searchOpen = $state(false);
  searchText = $state('');
  searchHits = $state.raw<MessageHit[]>([]);
  searching = $state(false);
  searchError = $state<string | null>(null);
  error = $state.raw<ChatProblem | null>(null);
  undo = $state.raw<UndoToast | null>(null);
  /** Something worth knowing that is not a failure ("3 older messages were left out ..."). */
  notice = $state<string | null>(null);
  /** What the polite live region says: finished sentences of the reply, not every delta. */
  announcement = $state('');
  scrollRequest = $state.raw<ScrollRequest | null>(null);
  settingsOpen = $state(false);

  readonly config: ChatConfig = $derived.by(() => {
    const conversation = this.conversation;
    if (!conversation) return this.draftConfig;
    return {
      systemPrompt: conversation.systemPrompt,
      modelId: conversation.modelId,
      modelPath: conversation.modelPath,
      settings: readSettings(conversation.sampling),
      contextOverflow: conversation.contextOverflow,
    };
  });

  /** The library entry of the chat's model; null when there is none or it is not in the library. */
  readonly model: LibraryModel | null = $derived.by(() => {
    const { modelPath, modelId } = this.config;
    if (modelPath === null && modelId === null) return null;
    return this.library.find((model) => (modelPath !== null ? model.path === modelPath : model.id === modelId)) ?? null;
  });

  /** The reply being written in the open conversation, if any. */
  readonly activeReply: LiveReply | null = $derived.by(() => {
    const id = this.conversation?.id;
    if (id === undefined) return null;
    for (const reply of this.live.values()) if (reply.conversationId === id) return reply;
    return null;
  });

  readonly generating = $derived(this.activeReply !== null);

  /** The path as drawn: with the message being sent and its reply to come while `chat.send` is on its way. */
  readonly shownPath: PathMessage[] = $derived.by(() => {
    const content = this.sending;
    if (content === null) return this.path;
    const conversationId = this.conversation?.id ?? '';
    const base = { conversationId, parentId: null, modelId: null, createdAt: 0, siblingIndex: 0, siblingCount: 1, run: null };
    return [
      ...this.path,
      { ...base, id: `${PENDING_PREFIX}message`, role: 'user', content },
      { ...base, id: `${PENDING_PREFIX}reply`, role: 'assistant', content: '' },
    ];
  });
  readonly lastUserMessage: PathMessage | null = $derived(this.path.findLast((message) => message.role === 'user') ?? null);

  readonly #client: ContractClient;
  readonly #scheduleFrame: FrameScheduler;
  readonly #timers: ChatTimers;
  readonly #now: () => number;
  readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  // Bookkeeping that is never drawn, so plain maps (what the screen shows is in `live`).
  /** By run id: the replies whose events this state applies. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never drawn
  readonly #runs = new Map<string, LiveReply>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never drawn
  readonly #orphans = new Map<string, OrphanEvents>();
  /** Characters per token of each model's last finished run, for the live estimate. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never drawn
  readonly #charsPerToken = new Map<string, number>();
  /** Unsent drafts of the conversations not open now ('' for a new chat). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never drawn
  readonly #drafts = new Map<string, string>();
  #startCalls = 0;
  #frameRequested = false;
  #openSeq = 0;
  #usageSeq = 0;
  #searchSeq = 0;
  #usageTimer: unknown = null;
  #searchTimer: unknown = null;
  #undoTimer: unknown = null;
  #scrollSeq = 0;
  #stops: (() => void)[] = [];
  #started: Promise<void> | null = null;

  constructor(client: ContractClient, scheduleFrame: FrameScheduler = (callback) => requestAnimationFrame(() => callback()), options: ChatStateOptions = {}) {
    this.#client = client;
    this.#scheduleFrame = scheduleFrame;
    this.#timers = options.timers ?? DEFAULT_TIMERS;
    this.#now = options.now ?? (() => performance.now());
    this.#storage = options.storage === undefined ? defaultStorage() : options.storage;
  }

  /**
   * Subscribes to the core's events and loads the list, the models and the presets, then opens
   * the conversation open last time (or the newest). Calling it again does nothing.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  dispose(): void {
    for (const stop of this.#stops) stop();
    this.#stops = [];
    for (const timer of [this.#usageTimer, this.#searchTimer, this.#undoTimer]) if (timer !== null) this.#timers.clear(timer);
    this.#started = null;
  }

  async #start(): Promise<void> {
    this.#stops.push(
      this.#client.on('run.delta', (delta) => this.#onDelta(delta)),
      this.#client.on('run.done', (done) => this.#onEnd({ kind: 'done', payload: done })),
      this.#client.on('run.error', (failure) => this.#onEnd({ kind: 'error', payload: failure })),
      this.#client.on('models.progress', (progress) => this.#onModelProgress(progress)),
      this.#client.on('engine.state', () => void this.refreshLoaded()),
    );
    await Promise.all([this.refreshList(), this.refreshModels(), this.refreshPresets()]);
    const remembered = this.#storage?.getItem(LAST_CONVERSATION_KEY) ?? null;
    const all = [...this.list.pinned, ...this.list.periods.flatMap((period) => period.conversations)];
    const newest = this.list.periods[0]?.conversations[0] ?? this.list.pinned[0];
    const toOpen = all.find((conversation) => conversation.id === remembered) ?? newest;
    if (toOpen && this.conversation === null && this.path.length === 0) await this.openConversation(toOpen.id);
    else this.#preselectModel();
  }

  // ---- Conversation list ---------------------------------------------------------------------

  async refreshList(): Promise<void> {
    const list = await this.#attempt('The conversations could not be listed', () => this.#client.call('conversations.list', {}));
    if (!list) return;
    this.list = list;
    this.listLoaded = true;
    // The core titles a conversation from its first message: show the new title in the header too.
    const open = this.conversation;
    const summary = open ? this.#summary(open.id) : undefined;
    if (open && summary && summary.title !== open.title) this.conversation = { ...open, title: summary.title, pinned: summary.pinned };
  }

  /** Opens a conversation at its active path; `messageId` shows the branch through that message instead. */
  async openConversation(id: string, messageId?: string): Promise<boolean> {
    const seq = ++this.#openSeq;
    this.#keepDraft();
    this.opening = true;
    // MessageList measures from this mark to the first frame that shows the path.
    performance.mark('emergent:chat-open');
    try {
      const opened = await this.#client.call('conversations.get', { id });
      let path = opened.path;
      if (messageId !== undefined && !path.some((message) => message.id === messageId)) {
        path = (await this.#client.call('conversations.setActiveLeaf', { conversationId: id, messageId })).path;
      }
      if (seq !== this.#openSeq) return false;
      this.conversation = opened.conversation;
      this.#showPath(path);
      this.editingId = null;
      this.notice = null;
      this.draft = this.#drafts.get(id) ?? '';
      this.usage = null;
      this.#storage?.setItem(LAST_CONVERSATION_KEY, id);
      this.#requestScroll(messageId === undefined ? { target: 'bottom' } : { target: 'message', messageId, flash: true });
      void this.refreshUsage();
      return true;
    } catch (err) {
      if (seq === this.#openSeq) this.#report('The conversation could not be opened', err);
      return false;
    } finally {
      if (seq === this.#openSeq) this.opening = false;
    }
  }

  /** A new chat: nothing is saved until its first message. */
  newChat(): void {
    if (this.conversation === null && !this.opening) return;
    this.#keepDraft();
    this.#showNewChat();
  }

  #showNewChat(): void {
    this.#openSeq++;
    this.conversation = null;
    this.path = [];
    this.editingId = null;
    this.notice = null;
    this.usage = null;
    this.opening = false;
    this.draft = this.#drafts.get('') ?? '';
    this.draftConfig = { systemPrompt: '', modelId: null, modelPath: null, settings: {}, contextOverflow: 'shift' };
    this.#draftModelChosen = false;
    this.#preselectModel();
  }

  startRenaming(id: string): void {
    this.renamingId = id;
  }

  cancelRenaming(): void {
    this.renamingId = null;
  }

  async renameConversation(id: string, title: string): Promise<void> {
    this.renamingId = null;
    const trimmed = title.trim();
    if (trimmed.length === 0) return;
    const renamed = await this.#attempt('The conversation could not be renamed', () =>
      this.#client.call('conversations.rename', { id, title: trimmed.slice(0, 500) }),
    );
    if (!renamed) return;
    if (this.conversation?.id === id) this.conversation = renamed;
    await this.refreshList();
  }

  async pinConversation(id: string, pinned: boolean): Promise<void> {
    const changed = await this.#attempt(pinned ? 'The conversation could not be pinned' : 'The conversation could not be unpinned', () =>
      this.#client.call('conversations.pin', { id, pinned }),
    );
    if (!changed) return;
    if (this.conversation?.id === id) this.conversation = changed;
    await this.refreshList();
  }

  /** Moves a conversation to the trash and offers to undo that for a few seconds. */
  async deleteConversation(id: string): Promise<void> {
    const title = this.#summary(id)?.title ?? this.conversation?.title ?? 'Conversation';
    const moved = await this.#attempt('The conversation could not be deleted', () => this.#client.call('trash.move', { kind: 'conversation', id }));
    if (!moved) return;
    const wasOpen = this.conversation?.id === id;
    this.#drafts.delete(id);
    if (wasOpen) this.#showNewChat();
    this.#showUndo({ id: `${id}:${this.#now()}`, message: `Deleted “${title}”`, conversationId: id, wasOpen });
    await this.refreshList();
  }

  async undoDelete(): Promise<void> {
    const toast = this.undo;
    if (!toast) return;
    this.dismissUndo();
    const restored = await this.#attempt('The conversation could not be restored', () =>
      this.#client.call('trash.restore', { kind: 'conversation', id: toast.conversationId }),
    );
    if (!restored) return;
    await this.refreshList();
    if (toast.wasOpen && this.conversation === null && this.path.length === 0) await this.openConversation(toast.conversationId);
  }

  dismissUndo(): void {
    if (this.#undoTimer !== null) this.#timers.clear(this.#undoTimer);
    this.#undoTimer = null;
    this.undo = null;
  }

  #showUndo(toast: UndoToast): void {
    this.dismissUndo();
    this.undo = toast;
    this.#undoTimer = this.#timers.set(() => {
      this.#undoTimer = null;
      if (this.undo?.id === toast.id) this.undo = null;
    }, UNDO_MS);
  }

  // ---- Sending and replies --------------------------------------------------------------------

  setDraft(text: string): void {
    this.draft = text;
    this.#scheduleUsage();
  }

  /** Whether the composer's Send would do something now. */
  get canSend(): boolean {
    return this.draft.trim().length > 0 && !this.generating && !this.starting;
  }

  /** Sends the draft: saves a new chat first, then adds the message and starts the reply. */
  async send(): Promise<void> {
    const content = this.draft;
    if (content.trim().length === 0 || this.generating || this.starting) return;
    if (this.config.modelPath === null && this.config.modelId === null) {
      this.error = { title: 'Choose a model first', code: null, message: 'Pick a model for this conversation in the model menu above.' };
      this.modelPickerRequests++;
      return;
    }
    this.starting = true;
    this.#startCalls++;
    this.draft = '';
    this.error = null;
    this.sending = content;
    this.#requestScroll({ target: 'bottom' });
    try {
      const conversation = this.conversation ?? (await this.#saveNewChat());
      if (!conversation) {
        this.#restoreDraft(content);
        return;
      }
      const parent = this.path.at(-1) ?? null;
      const sent = await this.#client.call('chat.send', { conversationId: conversation.id, content, parentId: parent?.id ?? null });
      this.#drafts.delete(conversation.id);
      if (this.conversation?.id === conversation.id) {
        const now = Date.now();
        const user: PathMessage = { ...sent.userMessage, siblingIndex: 0, siblingCount: 1, run: null };
        const assistant: PathMessage = { ...sent.assistantMessage, siblingIndex: 0, siblingCount: 1, run: runningRun(sent.runId, sent.modelId, now) };
        // Set directly: the reply's run is followed just below, not picked up as another window's.
        this.path = [...this.path, user, assistant];
        this.#requestScroll({ target: 'bottom' });
      }
      this.#follow(conversation.id, sent);
      void this.refreshList();
    } catch (err) {
      this.#report('The message could not be sent', err);
      this.#restoreDraft(content);
      // The message may have been saved before the reply failed to start.
      if (this.conversation) void this.#reloadPath(this.conversation.id);
    } finally {
      this.sending = null;
      this.#endStartCall();
    }
  }

  /** Stops the reply being written in the open conversation; its text so far is kept. */
  async stop(): Promise<void> {
    const reply = this.activeReply;
    if (!reply) return;
    await this.#attempt('The reply could not be stopped', () => this.#client.call('runs.cancel', { runId: reply.runId }));
  }

  /** A new reply beside an assistant message (also the Retry of an interrupted or failed one). */
  regenerate(messageId: string): Promise<void> {
    return this.#startTurn('The reply could not be regenerated', (conversationId) =>
      this.#client.call('chat.regenerate', { conversationId, messageId }),
    );
  }

  /** Goes on writing an assistant message, as a new sibling that starts with its text. */
  continueReply(messageId: string): Promise<void> {
    return this.#startTurn('The reply could not be continued', (conversationId) => this.#client.call('chat.continue', { conversationId, messageId }));
  }

  startEditing(messageId: string): void {
    this.editingId = messageId;
  }

  cancelEditing(): void {
    this.editingId = null;
  }

  /** Up in an empty composer: edit the last message the person wrote. */
  editLastUserMessage(): boolean {
    const last = this.lastUserMessage;
    if (!last || this.generating) return false;
    this.editingId = last.id;
    this.#requestScroll({ target: 'message', messageId: last.id, flash: false });
    return true;
  }

  /** Saves an edit as a new sibling; an edited person's message gets a new reply. */
  async saveEdit(messageId: string, content: string): Promise<void> {
    const conversation = this.conversation;
    if (!conversation || content.trim().length === 0 || this.starting) return;
    const original = this.path.find((message) => message.id === messageId);
    if (original && original.content === content) {
      this.editingId = null;
      return;
    }
    this.starting = true;
    this.#startCalls++;
    try {
      const edited = await this.#client.call('chat.edit', { conversationId: conversation.id, messageId, content });
      this.editingId = null;
      this.composerFocusRequests++;
      const leaf = edited.reply?.assistantMessage.id ?? edited.message.id;
      const { path } = await this.#client.call('conversations.setActiveLeaf', { conversationId: conversation.id, messageId: leaf });
      if (this.conversation?.id === conversation.id) {
        this.path = path;
        this.#requestScroll({ target: 'bottom' });
      }
      if (edited.reply) this.#follow(conversation.id, edited.reply);
      void this.refreshList();
    } catch (err) {
      this.#report('The edit could not be saved', err);
    } finally {
      this.#endStartCall();
    }
  }

  /**
   * The branch navigator: shows the previous (-1) or next (+1) sibling of a message, with the
   * branch below it. Returns the sibling's id, or null when there is none.
   */
  async showSibling(messageId: string, direction: -1 | 1): Promise<string | null> {
    const conversation = this.conversation;
    if (!conversation) return null;
    try {
      const { messages, index } = await this.#client.call('conversations.siblings', { conversationId: conversation.id, messageId });
      const target = messages[index + direction];
      if (!target) return null;
      const { path } = await this.#client.call('conversations.setActiveLeaf', { conversationId: conversation.id, messageId: target.id });
      if (this.conversation?.id !== conversation.id) return null;
      this.editingId = null;
      this.#showPath(path);
      void this.refreshUsage();
      return target.id;
    } catch (err) {
      this.#report('The other version could not be shown', err);
      return null;
    }
  }

  /** Whether a row of `shownPath` is a message on its way, not yet stored. */
  isPending(message: Pick<PathMessage, 'id'>): boolean {
    return message.id.startsWith(PENDING_PREFIX);
  }

  /** The text a message shows now: a reply being written shows what has streamed so far. */
  contentOf(message: PathMessage): string {
    return this.live.get(message.id)?.content ?? message.content;
  }

  async #startTurn(what: string, start: (conversationId: string) => Promise<ChatTurn>): Promise<void> {
    const conversation = this.conversation;
    if (!conversation || this.generating || this.starting) return;
    this.starting = true;
    this.#startCalls++;
    this.error = null;
    try {
      const turn = await start(conversation.id);
      const { path } = await this.#client.call('conversations.setActiveLeaf', { conversationId: conversation.id, messageId: turn.assistantMessage.id });
      if (this.conversation?.id === conversation.id) {
        this.path = path.map((message) =>
          message.id === turn.assistantMessage.id && !message.run ? { ...message, run: runningRun(turn.runId, turn.modelId, Date.now()) } : message,
        );
        this.#requestScroll({ target: 'bottom' });
      }
      this.#follow(conversation.id, turn);
    } catch (err) {
      this.#report(what, err);
    } finally {
      this.#endStartCall();
    }
  }

  #endStartCall(): void {
    this.starting = false;
    this.#startCalls--;
    if (this.#startCalls === 0) this.#orphans.clear();
  }

  async #saveNewChat(): Promise<Conversation | null> {
    const config = this.draftConfig;
    // Untitled: the core titles a conversation from its first message.
    const created = await this.#client.call('conversations.create', config.systemPrompt ? { systemPrompt: config.systemPrompt } : {});
    const configured = await this.#client.call('conversations.configure', {
      id: created.id,
      modelId: config.modelId,
      modelPath: config.modelPath,
      sampling: config.settings,
      contextOverflow: config.contextOverflow,
    });
    this.#drafts.delete('');
    this.conversation = configured;
    this.path = [];
    this.#storage?.setItem(LAST_CONVERSATION_KEY, configured.id);
    return configured;
  }

  /** Starts applying a run's events to its message (and any that came before its id was known). */
  #follow(conversationId: string, turn: ChatTurn): void {
    this.notice =
      turn.droppedMessages > 0
        ? `${turn.droppedMessages === 1 ? 'The oldest message was' : `The ${turn.droppedMessages} oldest messages were`} left out so the conversation fits the model's context.`
        : null;
    const reply = new LiveReply(
      turn.runId,
      conversationId,
      turn.assistantMessage.id,
      turn.modelId,
      turn.assistantMessage.content,
      this.#now(),
      this.#charsPerToken.get(turn.modelId) ?? DEFAULT_CHARS_PER_TOKEN,
      false,
    );
    this.#track(reply);
    const early = this.#orphans.get(turn.runId);
    this.#orphans.delete(turn.runId);
    if (!early) return;
    for (const text of early.deltas) this.#onDelta({ runId: turn.runId, text });
    if (early.end) this.#onEnd(early.end);
  }

  #track(reply: LiveReply): void {
    this.#runs.set(reply.runId, reply);
    this.live.set(reply.messageId, reply);
  }

  #untrack(reply: LiveReply): void {
    this.#runs.delete(reply.runId);
    this.live.delete(reply.messageId);
  }

  #onDelta(delta: EventPayload<'run.delta'>): void {
    const reply = this.#runs.get(delta.runId);
    if (!reply) {
      this.#orphan(delta.runId)?.deltas.push(delta.text);
      return;
    }
    if (delta.text.length === 0) return;
    reply.pending += delta.text;
    reply.firstDeltaAt ??= this.#now();
    this.#requestFrame();
  }

  #onEnd(end: NonNullable<OrphanEvents['end']>): void {
    const reply = this.#runs.get(end.payload.runId);
    if (!reply) {
      const orphan = this.#orphan(end.payload.runId);
      if (orphan) orphan.end = end;
      return;
    }
    this.#finish(reply, end);
  }

  /** Where events of an unknown run wait while a start call is in flight (it may be that run's). */
  #orphan(runId: string): OrphanEvents | null {
    if (this.#startCalls === 0) return null;
    let orphan = this.#orphans.get(runId);
    if (!orphan) {
      if (this.#orphans.size >= ORPHAN_LIMIT) {
        const oldest = this.#orphans.keys().next().value;
        if (oldest !== undefined) this.#orphans.delete(oldest);
      }
      orphan = { deltas: [], end: null };
      this.#orphans.set(runId, orphan);
    }
    return orphan;
  }

  #requestFrame(): void {
    if (this.#frameRequested) return;
    this.#frameRequested = true;
    this.#scheduleFrame(() => this.#applyFrame());
  }

  /** Once a frame: everything that arrived since the last one goes on screen together. */
  #applyFrame(): void {
    this.#frameRequested = false;
    const now = this.#now();
    for (const reply of this.#runs.values()) {
      if (reply.pending.length === 0) continue;
      if (reply.firstTextAt === null) reply.firstTextAt = reply.firstDeltaAt ?? now;
      reply.text += reply.pending;
      reply.pending = '';
      reply.updatedAt = now;
      this.#announceSentences(reply, false);
    }
  }

  #finish(reply: LiveReply, end: NonNullable<OrphanEvents['end']>): void {
    // run.done and run.error carry everything generated: the final text does not wait for a frame.
    reply.pending = '';
    reply.text = end.payload.text;
    this.#untrack(reply);
    const finishedAt = Date.now();
    const stopReason = end.kind === 'done' ? end.payload.stopReason : null;
    const status: MessageRun['status'] = end.kind === 'error' ? 'error' : stopReason === 'cancelled' ? 'cancelled' : 'done';
    if (end.kind === 'done' && reply.modelId !== null && end.payload.metrics.generatedTokens > 0 && end.payload.text.length > 0) {
      this.#charsPerToken.set(reply.modelId, end.payload.text.length / end.payload.metrics.generatedTokens);
    }
    if (this.conversation?.id === reply.conversationId) {
      this.#announceSentences(reply, true);
      if (stopReason === 'cancelled') this.announcement = 'Reply stopped.';
      this.path = this.path.map((message) => {
        if (message.id !== reply.messageId) return message;
        const run: MessageRun = {
          ...(message.run ?? runningRun(reply.runId, reply.modelId, finishedAt)),
          status,
          metrics: end.kind === 'done' ? { ...end.payload.metrics, stopReason: end.payload.stopReason } : null,
          error: end.kind === 'error' ? end.payload.error : null,
          finishedAt,
        };
        return { ...message, content: reply.adopted ? message.content : reply.content, run };
      });
      if (end.kind === 'error') {
        this.error = { title: 'The reply failed', code: end.payload.error.code, message: end.payload.error.message };
      }
      // The store has the reply, its run and any new title now: show what it says.
      void this.#reloadPath(reply.conversationId);
      void this.refreshUsage();
    }
    void this.refreshList();
  }

  #announceSentences(reply: LiveReply, final: boolean): void {
    if (this.conversation?.id !== reply.conversationId) return;
    const content = reply.content;
    const end = final ? content.length : completedSentencesEnd(content, reply.announcedUpTo);
    if (end <= reply.announcedUpTo) return;
    const words = speakableText(content.slice(reply.announcedUpTo, end));
    reply.announcedUpTo = end;
    if (words.length > 0) this.announcement = words;
  }

  async #reloadPath(conversationId: string): Promise<void> {
    const seq = this.#openSeq;
    try {
      const { conversation, path } = await this.#client.call('conversations.get', { id: conversationId });
      if (seq !== this.#openSeq || this.conversation?.id !== conversationId) return;
      this.conversation = conversation;
      this.#showPath(path);
    } catch (err) {
      if (seq === this.#openSeq) this.#report('The conversation could not be read', err);
    }
  }

  /**
   * Shows a path read from the store. Replies in it still being written by another window are
   * followed; replies followed here that the store says have ended (their run.done was missed,
   * while a connection was down) are let go.
   */
  #showPath(path: PathMessage[]): void {
    this.path = path;
    const conversationId = this.conversation?.id;
    if (conversationId === undefined) return;
    for (const message of path) {
      const run = message.run;
      const followed = this.live.get(message.id);
      if (followed && run && run.id === followed.runId && run.status !== 'running') {
        this.#untrack(followed);
        continue;
      }
      if (run?.status !== 'running' || this.#runs.has(run.id) || followed) continue;
      this.#track(
        new LiveReply(run.id, conversationId, message.id, run.modelId, message.content, this.#now(), DEFAULT_CHARS_PER_TOKEN, true),
      );
    }
  }

  #requestScroll(request: { target: 'bottom' } | { target: 'message'; messageId: string; flash: boolean }): void {
    this.scrollRequest = { ...request, seq: ++this.#scrollSeq };
  }

  #keepDraft(): void {
    const key = this.conversation?.id ?? '';
    if (this.draft.length > 0) this.#drafts.set(key, this.draft);
    else this.#drafts.delete(key);
  }

  #restoreDraft(content: string): void {
    if (this.draft.length === 0) this.draft = content;
  }

  #summary(id: string): ConversationList['pinned'][number] | undefined {
    return this.list.pinned.find((c) => c.id === id) ?? this.list.periods.flatMap((period) => period.conversations).find((c) => c.id === id);
  }

  // ---- Context meter ----------------------------------------------------------------------------

  #scheduleUsage(): void {
    if (this.#usageTimer !== null) this.#timers.clear(this.#usageTimer);
    this.#usageTimer = this.#timers.set(() => {
      this.#usageTimer = null;
      void this.refreshUsage();
    }, CONTEXT_DEBOUNCE_MS);
  }

  /** Asks the core how much of the model's context the conversation and the draft take. */
  async refreshUsage(): Promise<void> {
    const seq = ++this.#usageSeq;
    const conversation = this.conversation;
    if (!conversation) {
      this.usage = null;
      return;
    }
    const draft = this.draft;
    const result = await this.#client.tryCall('chat.contextUsage', { conversationId: conversation.id, ...(draft.length > 0 ? { draft } : {}) });
    if (seq !== this.#usageSeq) return;
    // The meter is a hint: a failure shows as "—", not as an error.
    this.usage = result.ok ? result.value : null;
  }

  // ---- Settings, models and presets ----------------------------------------------------------

  /** Changes the open conversation's settings (or the new chat's, kept until it is saved). */
  async configure(patch: ConfigPatch): Promise<boolean> {
    const conversation = this.conversation;
    if (!conversation) {
      this.draftConfig = { ...this.draftConfig, ...patch };
      if (patch.modelPath !== undefined || patch.modelId !== undefined) this.#draftModelChosen = true;
      return true;
    }
    const configured = await this.#attempt('The settings could not be saved', () =>
      this.#client.call('conversations.configure', {
        id: conversation.id,
        ...(patch.systemPrompt !== undefined ? { systemPrompt: patch.systemPrompt } : {}),
        ...(patch.modelId !== undefined ? { modelId: patch.modelId } : {}),
        ...(patch.modelPath !== undefined ? { modelPath: patch.modelPath } : {}),
        ...(patch.settings !== undefined ? { sampling: patch.settings } : {}),
        ...(patch.contextOverflow !== undefined ? { contextOverflow: patch.contextOverflow } : {}),
      }),
    );
    if (!configured) return false;
    if (this.conversation?.id === configured.id) this.conversation = configured;
    void this.refreshUsage();
    return true;
  }

  /** After a dropped connection: events were lost, so read again what they would have changed. */
  async resync(): Promise<void> {
    const open = this.conversation;
    await Promise.all([this.refreshList(), this.refreshModels(), open ? this.#reloadPath(open.id) : Promise.resolve()]);
    void this.refreshUsage();
  }

  /** Uses a library model for this chat, and starts loading it. */
  async chooseModel(model: LibraryModel): Promise<void> {
    this.error = null;
    const saved = await this.configure({ modelId: model.id, modelPath: model.path });
    if (saved && !this.isLoaded(model)) await this.loadModel(model.path);
  }

  async loadModel(path: string): Promise<void> {
    this.progress = { ...this.progress, [path]: { stage: 'checking', progress: 0 } };
    try {
      await this.#client.call('models.load', { path });
    } catch (err) {
      this.progress = { ...this.progress, [path]: { stage: 'failed', progress: 0 } };
      this.#report('The model could not be loaded', err);
      return;
    }
    const { [path]: _done, ...rest } = this.progress;
    this.progress = rest;
    await this.refreshLoaded();
    void this.refreshUsage();
  }

  /** Adds a GGUF file to the library by its path; returns whether it was added. */
  async addModel(path: string): Promise<LibraryModel | null> {
    const added = await this.#attempt('The model could not be added', () => this.#client.call('models.add', { path: path.trim() }));
    if (!added) return null;
    await this.refreshModels();
    return added;
  }

  isLoaded(model: Pick<LibraryModel, 'id' | 'path'>): boolean {
    return this.loaded.some((loaded) => loaded.id === model.id || loaded.path === model.path);
  }

  /** The loaded model behind this chat's model, with its context size; null when not loaded. */
  get loadedModel(): LoadedModel | null {
    const model = this.model;
    const { modelPath, modelId } = this.config;
    return this.loaded.find((loaded) => (model ? loaded.id === model.id || loaded.path === model.path : loaded.path === modelPath || loaded.id === modelId)) ?? null;
  }

  /** A name for a message's model: its library name, else its file's name or its id. */
  modelName(modelId: string | null, modelPath: string | null = null): string {
    const known =
      this.library.find((model) => model.id === modelId || (modelPath !== null && model.path === modelPath)) ??
      this.loaded.find((model) => model.id === modelId || (modelPath !== null && model.path === modelPath));
    if (known) return known.name;
    if (modelPath !== null) return modelPath.split(/[\\/]/).at(-1) ?? modelPath;
    return modelId ?? 'Assistant';
  }

  async refreshModels(): Promise<void> {
    const [library] = await Promise.all([this.#client.tryCall('models.library', {}), this.refreshLoaded()]);
    if (library.ok) this.library = library.value;
    else this.#report('The model library could not be read', EmergentError.fromValue(library.error));
    this.#preselectModel();
  }

  async refreshLoaded(): Promise<void> {
    const loaded = await this.#client.tryCall('models.loaded', {});
    if (loaded.ok) this.loaded = loaded.value;
  }

  /** A new chat takes the most recently used model (the library lists it first). */
  #preselectModel(): void {
    if (this.conversation !== null || this.#draftModelChosen) return;
    const preferred = this.library.find((model) => model.present);
    if (!preferred || this.draftConfig.modelPath === preferred.path) return;
    this.draftConfig = { ...this.draftConfig, modelId: preferred.id, modelPath: preferred.path };
  }

  #onModelProgress(progress: EventPayload<'models.progress'>): void {
    if (progress.stage === 'ready') {
      const { [progress.path]: _ready, ...rest } = this.progress;
      this.progress = rest;
      void this.refreshLoaded().then(() => this.refreshUsage());
      return;
    }
    this.progress = { ...this.progress, [progress.path]: { stage: progress.stage, progress: progress.progress } };
  }

  async refreshPresets(): Promise<void> {
    const presets = await this.#client.tryCall('presets.list', {});
    if (presets.ok) this.presets = presets.value;
  }

  /** Uses a preset's system prompt and settings in this chat. */
  applyPreset(preset: Preset): Promise<boolean> {
    return this.configure({ systemPrompt: preset.systemPrompt, settings: readSettings(preset.settings) });
  }

  /** Saves this chat's system prompt and settings as a new preset, or over one (with its id). */
  async savePreset(name: string, id?: string): Promise<Preset | null> {
    const { systemPrompt, settings } = this.config;
    const saved = await this.#attempt('The preset could not be saved', () =>
      this.#client.call('presets.save', { ...(id !== undefined ? { id } : {}), name, systemPrompt, settings }),
    );
    if (saved) await this.refreshPresets();
    return saved ?? null;
  }

  async deletePreset(id: string): Promise<void> {
    const deleted = await this.#attempt('The preset could not be deleted', () => this.#client.call('presets.delete', { id }));
    if (deleted) await this.refreshPresets();
  }

  // ---- Search ------------------------------------------------------------------------------------

  openSearch(): void {
    this.searchOpen = true;
  }

  closeSearch(): void {
    this.searchOpen = false;
  }

  setSearchText(text: string): void {
    this.searchText = text;
    if (this.#searchTimer !== null) this.#timers.clear(this.#searchTimer);
    this.#searchTimer = this.#timers.set(() => {
      this.#searchTimer = null;
      void this.runSearch();
    }, SEARCH_DEBOUNCE_MS);
  }

  async runSearch(): Promise<void> {
    const seq = ++this.#searchSeq;
    const text = this.searchText.trim();
    if (text.length === 0) {
      this.searchHits = [];
      this.searching = false;
      this.searchError = null;
      return;
    }
    this.searching = true;
    const result = await this.#client.tryCall('search.query', { text: text.slice(0, 1000), kinds: ['message'], limit: 50 });
    if (seq !== this.#searchSeq) return;
    this.searching = false;
    if (!result.ok) {
      this.searchError = result.error.message;
      return;
    }
    this.searchError = null;
    this.searchHits = result.value.hits.filter((hit): hit is MessageHit => hit.kind === 'message');
  }

  /** Opens the conversation of a search hit, on the branch through the message found. */
  async openHit(hit: MessageHit): Promise<void> {
    this.searchOpen = false;
    await this.openConversation(hit.conversationId, hit.id);
  }

  // ---- Export and notices --------------------------------------------------------------------------

  async exportConversation(format: 'markdown' | 'json'): Promise<ExportedConversation | null> {
    const conversation = this.conversation;
    if (!conversation) return null;
    return (await this.#attempt('The conversation could not be exported', () => this.#client.call('conversations.export', { id: conversation.id, format }))) ?? null;
  }

  toggleSettings(open = !this.settingsOpen): void {
    this.settingsOpen = open;
  }

  /** Shows a problem found outside the core (the clipboard refused, a download failed). */
  reportProblem(title: string, message: string): void {
    this.error = { title, code: null, message };
  }

  dismissError(): void {
    this.error = null;
  }

  dismissNotice(): void {
    this.notice = null;
  }

  async #attempt<T>(title: string, action: () => Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (err) {
      this.#report(title, err);
      return undefined;
    }
  }

  #report(title: string, err: unknown): void {
    if (err instanceof EmergentError) this.error = { title, code: err.code, message: err.message };
    else this.error = { title, code: null, message: err instanceof Error ? err.message : String(err) };
  }
}

function runningRun(runId: string, modelId: string | null, now: number): MessageRun {
  return { id: runId, status: 'running', modelId, modelPath: null, parameters: {}, metrics: null, error: null, createdAt: now, finishedAt: null };
}
