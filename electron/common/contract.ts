/**
 * The one description of everything the renderer (or any other client) can ask of the core,
 * and everything the core pushes back. Every shell binds it generically; types are derived
 * from the schemas, so adding a method is one entry here plus its implementation in
 * electron/core/service.ts.
 */
import { z } from 'zod';

/** A method: its input and output schemas and one line for `--help` and docs. */
export interface MethodDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly summary: string;
  readonly input: I;
  readonly output: O;
}

function method<I extends z.ZodType, O extends z.ZodType>(definition: MethodDefinition<I, O>): MethodDefinition<I, O> {
  return definition;
}

const NoInput = z.object({}).strict();

export const ThemeSchema = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof ThemeSchema>;

export const SettingsSchema = z.object({
  theme: ThemeSchema,
  /** CPU threads for inference; null lets the engine choose from the cores and the model size. */
  threads: z.number().int().min(1).max(256).nullable(),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const AppInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  shell: z.enum(['electron', 'headless', 'cli']),
  platform: z.string(),
  dataDir: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const BackendSchema = z.enum(['cpu', 'cuda', 'vulkan', 'metal']);
export type Backend = z.infer<typeof BackendSchema>;

export const EngineStatusSchema = z.object({
  /** `starting` until llama.cpp's bindings are loaded; `unavailable` if they could not be. */
  state: z.enum(['starting', 'ready', 'unavailable']),
  backend: BackendSchema.nullable(),
  devices: z.array(z.string()),
  /** Why a GPU was not used although one was asked for, shown as a warning, not an error. */
  warning: z.string().nullable(),
  loadedModels: z.array(z.object({ id: z.string(), name: z.string() })),
  memory: z.object({
    ramTotalBytes: z.number().nonnegative(),
    ramFreeBytes: z.number().nonnegative(),
    vramTotalBytes: z.number().nonnegative().nullable(),
    vramUsedBytes: z.number().nonnegative().nullable(),
  }),
});
export type EngineStatus = z.infer<typeof EngineStatusSchema>;

const ModelReference = z
  .string()
  .min(1)
  .max(4096)
  .describe('A loaded model id, or the path of a GGUF file (loaded on demand).');

export const LoadedModelSchema = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  sizeBytes: z.number().nonnegative(),
  architecture: z.string(),
  contextSize: z.number().int().positive(),
  /** Parallel sequences of the model's context (comparison columns, summary chunks). */
  sequences: z.number().int().positive(),
  threads: z.number().int().positive(),
  loadMs: z.number().nonnegative(),
  trainedContextSize: z.number().int().nonnegative(),
});
export type LoadedModel = z.infer<typeof LoadedModelSchema>;

export const ModelInspectionSchema = z.object({
  path: z.string(),
  sizeBytes: z.number().nonnegative(),
  name: z.string(),
  architecture: z.string(),
  /** e.g. Q4_0, F16, MOSTLY_Q8_0; null when the file does not say. */
  fileType: z.string().nullable(),
  parameters: z.number().nonnegative().nullable(),
  trainedContextSize: z.number().int().nonnegative(),
  embeddingLength: z.number().int().nonnegative(),
  blockCount: z.number().int().nonnegative(),
  vocabularySize: z.number().int().nonnegative(),
  tensorCount: z.number().int().nonnegative(),
  hasChatTemplate: z.boolean(),
  /** Every metadata key with a printable value (long arrays are summarized). */
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  estimate: z.object({
    contextSize: z.number().int().positive(),
    modelRamBytes: z.number().nonnegative(),
    modelVramBytes: z.number().nonnegative(),
    contextRamBytes: z.number().nonnegative(),
    contextVramBytes: z.number().nonnegative(),
    freeRamBytes: z.number().nonnegative(),
    fits: z.boolean(),
    /** "needs 6.1 GB, 3.2 GB free" style, for people. */
    summary: z.string(),
  }),
});
export type ModelInspection = z.infer<typeof ModelInspectionSchema>;

export const SamplingSchema = z.object({
  /** 0 is greedy decoding. */
  temperature: z.number().min(0).max(5),
  topK: z.number().int().min(0).max(1000),
  topP: z.number().gt(0).max(1),
  minP: z.number().min(0).max(1),
  /** 1 turns the repeat penalty off. */
  repeatPenalty: z.number().min(1).max(5),
  presencePenalty: z.number().min(-2).max(2),
  frequencyPenalty: z.number().min(-2).max(2),
  /** How many of the last tokens the penalties look at. */
  penaltyLastTokens: z.number().int().min(0).max(4096),
  /** null draws a random seed; a number makes sampling reproducible. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullable(),
});
export type Sampling = z.infer<typeof SamplingSchema>;

/** The longest reply when a request does not say (runs, chat, the API). */
export const DEFAULT_MAX_TOKENS = 512;

export const DEFAULT_SAMPLING: Sampling = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  penaltyLastTokens: 64,
  seed: null,
};

/** Sampling plus the length and stop strings: what a conversation or a preset remembers. */
export const GenerationSettingsSchema = SamplingSchema.partial()
  .extend({
    maxTokens: z.number().int().min(1).max(131_072).optional(),
    stop: z.array(z.string().min(1).max(200)).max(16).optional(),
  })
  .strict();
export type GenerationSettings = z.infer<typeof GenerationSettingsSchema>;

/**
 * What a chat does when the conversation no longer fits the model's context: `shift` drops the
 * oldest turns (never the system prompt) before sending; `stop` refuses with CONTEXT_FULL.
 */
export const ContextOverflowSchema = z.enum(['shift', 'stop']);
export type ContextOverflow = z.infer<typeof ContextOverflowSchema>;

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(4 * 1024 * 1024),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const RunStartSchema = z
  .object({
    model: ModelReference,
    /** Plain completion: the model continues this text. */
    prompt: z.string().max(4 * 1024 * 1024).optional(),
    /** Chat: rendered with the model's chat template. */
    messages: z.array(ChatMessageSchema).min(1).max(10_000).optional(),
    /** Chat: the last message is the assistant's and the model goes on writing it. */
    continueLast: z.boolean().optional(),
    /**
     * Chat runs with the same key reuse the evaluated prefix of the previous turn (the KV
     * cache), so a second turn costs only its new message.
     */
    conversationKey: z.string().min(1).max(200).optional(),
    sampling: SamplingSchema.partial().optional(),
    maxTokens: z.number().int().min(1).max(131_072).optional(),
    /** Generation stops before any of these strings; the string is not part of the output. */
    stop: z.array(z.string().min(1).max(200)).max(16).optional(),
    /** Constrain the output to JSON matching this schema. */
    jsonSchema: z.record(z.string(), z.unknown()).optional(),
    /** For each generated token, also report its probability and the top-k alternatives. */
    probabilities: z.number().int().min(0).max(20).optional(),
  })
  .strict()
  .refine((input) => (input.prompt === undefined) !== (input.messages === undefined), {
    message: 'Give exactly one of prompt (completion) or messages (chat).',
  });
export type RunStart = z.input<typeof RunStartSchema>;

export const TokenProbabilitySchema = z.object({
  text: z.string(),
  probability: z.number().min(0).max(1),
  /** The most likely tokens at this position, most likely first (the chosen one included). */
  alternatives: z.array(z.object({ text: z.string(), probability: z.number().min(0).max(1) })),
});
export type TokenProbability = z.infer<typeof TokenProbabilitySchema>;

export const StopReasonSchema = z.enum(['endOfText', 'maxTokens', 'stopSequence', 'cancelled', 'contextFull']);
export type StopReason = z.infer<typeof StopReasonSchema>;

export const RunMetricsSchema = z.object({
  /** Time spent loading the model for this run (0 when it was already loaded). */
  loadMs: z.number().nonnegative(),
  timeToFirstTokenMs: z.number().nonnegative().nullable(),
  promptTokens: z.number().int().nonnegative(),
  /** Prompt tokens whose evaluation was reused from the previous turn. */
  reusedPromptTokens: z.number().int().nonnegative(),
  promptTokensPerSecond: z.number().nonnegative().nullable(),
  generatedTokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative().nullable(),
  totalMs: z.number().nonnegative(),
  threads: z.number().int().positive(),
});
export type RunMetrics = z.infer<typeof RunMetricsSchema>;

// The store: runs, search, trash, prompts, export and import.

export const RunKindSchema = z.enum(['chat', 'completion', 'summarize', 'translate', 'compare', 'batch', 'perplexity', 'api']);
export const RunStatusSchema = z.enum(['running', 'done', 'cancelled', 'error', 'interrupted']);
const JsonObjectSchema = z.record(z.string(), z.unknown());
/** An input the store keeps as JSON text: only JSON values get through. */
const JsonObjectInputSchema = z.record(z.string(), z.json());
const Timestamp = z.number().int().nonnegative().describe('milliseconds since 1970');

export const RunSummarySchema = z.object({
  id: z.string(),
  kind: RunKindSchema,
  modelId: z.string().nullable(),
  modelPath: z.string().nullable(),
  status: RunStatusSchema,
  inputPreview: z.string(),
  outputPreview: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  metrics: JsonObjectSchema.nullable(),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const RunRecordSchema = RunSummarySchema.omit({ inputPreview: true, outputPreview: true }).extend({
  parameters: JsonObjectSchema,
  input: z.string(),
  output: z.string(),
  promptVersionId: z.string().nullable(),
  conversationId: z.string().nullable(),
  messageId: z.string().nullable(),
  documentId: z.string().nullable(),
  updatedAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export const RunListQuerySchema = z
  .object({
    kind: RunKindSchema.optional(),
    status: RunStatusSchema.optional(),
    model: z.string().optional(),
    since: Timestamp.optional(),
    until: Timestamp.optional(),
    limit: z.number().int().min(1).max(500).optional(),
    cursor: z.string().max(500).optional(),
  })
  .strict();

const SnippetSchema = z.object({
  text: z.string(),
  /** Matched words as [start, end) offsets into `text`. */
  highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
});
const HitBase = { id: z.string(), score: z.number(), snippet: SnippetSchema, date: Timestamp };
export const SearchHitSchema = z.discriminatedUnion('kind', [
  z.object({
    ...HitBase,
    kind: z.literal('message'),
    conversationId: z.string(),
    conversationTitle: z.string(),
    role: z.string(),
    modelId: z.string().nullable(),
  }),
  z.object({ ...HitBase, kind: z.literal('run'), runKind: RunKindSchema, status: RunStatusSchema, modelId: z.string().nullable() }),
  z.object({ ...HitBase, kind: z.literal('prompt'), name: z.string() }),
]);
export type SearchHit = z.infer<typeof SearchHitSchema>;

export const TrashKindSchema = z.enum(['conversation', 'prompt', 'run', 'document']);
export const TrashItemSchema = z.object({ kind: TrashKindSchema, id: z.string(), title: z.string(), deletedAt: Timestamp });

export const PromptSchema = z.object({
  id: z.string(),
  name: z.string(),
  body: z.string(),
  version: z.number().int().positive(),
  variables: z.array(z.string()),
  tags: z.array(z.string()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});
export type Prompt = z.infer<typeof PromptSchema>;

export const PromptVersionSchema = z.object({
  id: z.string(),
  promptId: z.string(),
  version: z.number().int().positive(),
  body: z.string(),
  variables: z.array(z.string()),
  createdAt: Timestamp,
});
export type PromptVersion = z.infer<typeof PromptVersionSchema>;

const PromptBody = z.string().max(1024 * 1024);
const TagSchema = z.string().min(1).max(64);

const TableCounts = z.record(z.string(), z.number().int().nonnegative());

export const MessageRoleSchema = z.enum(['system', 'user', 'assistant']);
export const ConversationSchema = z.object({
  id: z.string(),
  title: z.string(),
  systemPrompt: z.string(),
  modelId: z.string().nullable(),
  modelPath: z.string().nullable(),
  /** GenerationSettings, as saved. */
  sampling: JsonObjectSchema,
  contextOverflow: ContextOverflowSchema,
  pinned: z.boolean(),
  activeLeafId: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});
export type Conversation = z.infer<typeof ConversationSchema>;

export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  parentId: z.string().nullable(),
  role: MessageRoleSchema,
  content: z.string(),
  modelId: z.string().nullable(),
  createdAt: Timestamp,
});
export type Message = z.infer<typeof MessageSchema>;

/** A message on the active path, with where it stands among its siblings (the "2 / 3" arrows). */
/** The run that wrote an assistant message: its state, settings and measurements. */
export const MessageRunSchema = z.object({
  id: z.string(),
  status: RunStatusSchema,
  modelId: z.string().nullable(),
  modelPath: z.string().nullable(),
  /** What the engine was asked: sampling, maxTokens, stop ... */
  parameters: JsonObjectSchema,
  /** RunMetrics plus stopReason once finished; null while running or after an error. */
  metrics: JsonObjectSchema.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type MessageRun = z.infer<typeof MessageRunSchema>;

/**
 * A message on the active path, with where it stands among its siblings (the "2 / 3" arrows).
 * For a reply still being written, `content` is the text so far (what the store has; the
 * run.delta events bring the rest).
 */
export const PathMessageSchema = MessageSchema.extend({
  siblingIndex: z.number().int().nonnegative(),
  siblingCount: z.number().int().positive(),
  run: MessageRunSchema.nullable(),
});
export type PathMessage = z.infer<typeof PathMessageSchema>;

const ConversationSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  pinned: z.boolean(),
  modelId: z.string().nullable(),
  messageCount: z.number().int().nonnegative(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** A reply being written: its message (empty at first) and the run writing it. */
export const ChatTurnSchema = z.object({
  assistantMessage: MessageSchema,
  runId: z.string(),
  modelId: z.string(),
  /** Oldest messages left out so the conversation fits the context (overflow policy "shift"). */
  droppedMessages: z.number().int().nonnegative(),
});
export type ChatTurn = z.infer<typeof ChatTurnSchema>;

export const PresetSchema = z.object({
  id: z.string(),
  name: z.string(),
  systemPrompt: z.string(),
  settings: JsonObjectSchema,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Preset = z.infer<typeof PresetSchema>;

export const LibraryModelSchema = z.object({
  /** The engine's model id (what runs and loads use). */
  id: z.string(),
  path: z.string(),
  name: z.string(),
  sha256: z.string().nullable(),
  metadata: JsonObjectSchema,
  sizeBytes: z.number().int().nonnegative(),
  addedAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  /** Whether the file is still there. */
  present: z.boolean(),
});
export type LibraryModel = z.infer<typeof LibraryModelSchema>;

export const DocumentSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** Of the original file, to recognize it when it is opened again. */
  sha256: z.string(),
  text: z.string(),
  chunking: JsonObjectSchema,
  createdAt: Timestamp,
  deletedAt: Timestamp.nullable(),
});
export type StoredDocument = z.infer<typeof DocumentSchema>;

export const DocumentSummarySchema = DocumentSchema.omit({ text: true }).extend({ textLength: z.number().int().nonnegative() });
export type DocumentSummary = z.infer<typeof DocumentSummarySchema>;

export const ComparisonSchema = z.object({
  id: z.string(),
  title: z.string(),
  input: z.string(),
  /** One object per column (model, sampling, run id ...). */
  columns: z.array(JsonObjectSchema),
  createdAt: Timestamp,
});
export type Comparison = z.infer<typeof ComparisonSchema>;

export const VerdictSchema = z.enum(['column', 'tie', 'neither']);
export const VoteSchema = z.object({
  id: z.string(),
  comparisonId: z.string(),
  verdict: VerdictSchema,
  /** The winning column when the verdict is `column`. */
  columnIndex: z.number().int().nonnegative().nullable(),
  note: z.string(),
  createdAt: Timestamp,
});
export type Vote = z.infer<typeof VoteSchema>;

const VoteNote = z.string().max(10_000).optional();

export const methods = {
  'app.info': method({
    summary: 'Name, version, shell and data directory of the running app.',
    input: NoInput,
    output: AppInfoSchema,
  }),
  'engine.status': method({
    summary: 'Inference backend, devices, loaded models and memory.',
    input: NoInput,
    output: EngineStatusSchema,
  }),
  'settings.get': method({
    summary: 'The current settings.',
    input: NoInput,
    output: SettingsSchema,
  }),
  'settings.update': method({
    summary: 'Change some settings; returns all of them.',
    input: SettingsSchema.partial().strict(),
    output: SettingsSchema,
  }),
  'models.inspect': method({
    summary: 'Read a GGUF file: its metadata and the memory it would need.',
    input: z.object({ path: z.string().min(1).max(4096), contextSize: z.number().int().min(16).max(1_048_576).optional() }).strict(),
    output: ModelInspectionSchema,
  }),
  'models.load': method({
    summary: 'Load a GGUF model after checking it fits in memory.',
    input: z
      .object({
        path: z.string().min(1).max(4096),
        contextSize: z.number().int().min(16).max(1_048_576).optional(),
        sequences: z.number().int().min(1).max(64).optional(),
        threads: z.number().int().min(1).max(256).optional(),
        /** Load even a model that crashed the app the last time it was loaded. */
        force: z.boolean().optional(),
      })
      .strict(),
    output: LoadedModelSchema,
  }),
  'models.unload': method({
    summary: 'Unload a model and free its memory; runs on it are cancelled.',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: z.object({ unloaded: z.boolean() }),
  }),
  'models.loaded': method({
    summary: 'The models loaded now, most recently used first.',
    input: NoInput,
    output: z.array(LoadedModelSchema),
  }),
  'runs.start': method({
    summary: 'Start generating; returns the run id at once, text follows as run.delta events.',
    input: RunStartSchema,
    output: z.object({ runId: z.string(), modelId: z.string() }),
  }),
  'runs.cancel': method({
    summary: 'Stop a run within one token, keeping the text it has.',
    input: z.object({ runId: z.string().min(1) }).strict(),
    output: z.object({ cancelled: z.boolean() }),
  }),
  'engine.perplexity': method({
    summary: 'Perplexity of a text under a model (sliding window for long texts).',
    input: z
      .object({
        model: ModelReference,
        text: z.string().min(1).max(16 * 1024 * 1024),
        /** Tokens of context each scored token sees at most; defaults to the context size. */
        window: z.number().int().min(2).max(1_048_576).optional(),
      })
      .strict(),
    output: z.object({
      perplexity: z.number().positive(),
      meanNegativeLogLikelihood: z.number().nonnegative(),
      scoredTokens: z.number().int().nonnegative(),
      windows: z.number().int().nonnegative(),
      ms: z.number().nonnegative(),
    }),
  }),
  'runs.list': method({
    summary: 'Runs, newest first, filtered by kind, status, model and date; paged with a cursor.',
    input: RunListQuerySchema,
    output: z.object({ items: z.array(RunSummarySchema), nextCursor: z.string().nullable() }),
  }),
  'runs.get': method({
    summary: 'One run with its whole input, output, parameters and metrics.',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: RunRecordSchema,
  }),
  'search.query': method({
    summary: 'Full-text search over messages, runs and prompts, best matches first, with highlighted snippets.',
    input: z
      .object({
        text: z.string().min(1).max(1000),
        kinds: z.array(z.enum(['message', 'run', 'prompt'])).min(1).optional(),
        model: z.string().optional(),
        runKind: RunKindSchema.optional(),
        since: Timestamp.optional(),
        until: Timestamp.optional(),
        limit: z.number().int().min(1).max(200).optional(),
      })
      .strict(),
    output: z.object({
      hits: z.array(SearchHitSchema),
      /** Finished runs not searchable yet (for a few seconds after a large import): "indexing…". */
      pendingRuns: z.number().int().nonnegative(),
    }),
  }),
  'trash.list': method({ summary: 'What is in the trash.', input: NoInput, output: z.array(TrashItemSchema) }),
  'trash.move': method({
    summary: 'Move a conversation, prompt, run or document to the trash (undo with trash.restore).',
    input: z.object({ kind: TrashKindSchema, id: z.string().min(1) }).strict(),
    output: z.object({ trashed: z.literal(true) }),
  }),
  'trash.restore': method({
    summary: 'Take an item out of the trash.',
    input: z.object({ kind: TrashKindSchema, id: z.string().min(1) }).strict(),
    output: z.object({ restored: z.literal(true) }),
  }),
  'trash.empty': method({
    summary: 'Delete everything in the trash for good.',
    input: NoInput,
    output: z.object({ deleted: TableCounts }),
  }),
  'prompts.create': method({
    summary: 'Save a prompt ({{variables}} are found in its body).',
    input: z.object({ name: z.string().min(1).max(200), body: PromptBody, tags: z.array(TagSchema).max(50).optional() }).strict(),
    output: PromptSchema,
  }),
  'prompts.list': method({
    summary: 'Saved prompts, optionally those with a tag.',
    input: z.object({ tag: z.string().optional() }).strict(),
    output: z.array(PromptSchema),
  }),
  'prompts.get': method({
    summary: 'A prompt with every version of its wording, oldest first.',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: PromptSchema.extend({ versions: z.array(PromptVersionSchema) }),
  }),
  'prompts.addVersion': method({
    summary: 'Save a new wording of a prompt; earlier versions stay for the runs that used them.',
    input: z.object({ id: z.string().min(1), body: PromptBody }).strict(),
    output: PromptVersionSchema,
  }),
  'prompts.rename': method({
    summary: 'Rename a prompt.',
    input: z.object({ id: z.string().min(1), name: z.string().min(1).max(200) }).strict(),
    output: PromptSchema,
  }),
  'prompts.tag': method({
    summary: 'Add a tag to a prompt (tags ignore case; adding one twice is harmless).',
    input: z.object({ id: z.string().min(1), tag: TagSchema }).strict(),
    output: PromptSchema,
  }),
  'prompts.untag': method({
    summary: 'Remove a tag from a prompt.',
    input: z.object({ id: z.string().min(1), tag: TagSchema }).strict(),
    output: PromptSchema,
  }),
  'conversations.create': method({
    summary: 'Start a conversation.',
    input: z.object({ title: z.string().max(500).optional(), systemPrompt: z.string().max(1024 * 1024).optional() }).strict(),
    output: ConversationSchema,
  }),
  'conversations.list': method({
    summary: 'Conversations: pinned ones, then grouped by when they were last touched.',
    input: NoInput,
    output: z.object({
      pinned: z.array(ConversationSummarySchema),
      periods: z.array(z.object({ period: z.string(), conversations: z.array(ConversationSummarySchema) })),
    }),
  }),
  'conversations.get': method({
    summary: 'A conversation and the messages on its active path (with their sibling positions).',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: z.object({ conversation: ConversationSchema, path: z.array(PathMessageSchema) }),
  }),
  'conversations.rename': method({
    summary: 'Give a conversation a new title.',
    input: z.object({ id: z.string().min(1), title: z.string().min(1).max(500) }).strict(),
    output: ConversationSchema,
  }),
  'conversations.pin': method({
    summary: 'Pin a conversation to the top of the list, or unpin it.',
    input: z.object({ id: z.string().min(1), pinned: z.boolean() }).strict(),
    output: ConversationSchema,
  }),
  'conversations.configure': method({
    summary: 'Change the system prompt, model or sampling of a conversation; null clears a model.',
    input: z
      .object({
        id: z.string().min(1),
        systemPrompt: z.string().max(1024 * 1024).optional(),
        modelId: z.string().min(1).max(4096).nullable().optional(),
        modelPath: z.string().min(1).max(4096).nullable().optional(),
        /** Replaces the conversation's generation settings as a whole (not merged with the old ones). */
        sampling: GenerationSettingsSchema.optional(),
        contextOverflow: ContextOverflowSchema.optional(),
      })
      .strict(),
    output: ConversationSchema,
  }),
  'conversations.setActiveLeaf': method({
    summary: 'Show the branch through a message (down to its newest leaf); returns the new active path.',
    input: z.object({ conversationId: z.string().min(1), messageId: z.string().min(1) }).strict(),
    output: z.object({ path: z.array(PathMessageSchema) }),
  }),
  'conversations.siblings': method({
    summary: 'A message and its siblings (same parent), oldest first, and where it stands among them.',
    input: z.object({ conversationId: z.string().min(1), messageId: z.string().min(1) }).strict(),
    output: z.object({ messages: z.array(MessageSchema), index: z.number().int().nonnegative() }),
  }),
  'conversations.addMessage': method({
    summary: 'Add a message under a parent (null for the first); a second child of a parent is a branch.',
    input: z
      .object({
        conversationId: z.string().min(1),
        parentId: z.string().min(1).nullable(),
        role: MessageRoleSchema,
        content: z.string().max(16 * 1024 * 1024),
      })
      .strict(),
    output: MessageSchema,
  }),
  'conversations.export': method({
    summary: 'A conversation as Markdown or as JSON (every branch).',
    input: z.object({ id: z.string().min(1), format: z.enum(['markdown', 'json']) }).strict(),
    output: z.object({ fileName: z.string(), mimeType: z.string(), text: z.string() }),
  }),
  'documents.add': method({
    summary: 'Keep the extracted text of a document, with the hash of its file and how it was chunked.',
    input: z
      .object({
        name: z.string().min(1).max(1000),
        sha256: z.string().regex(/^[0-9a-f]{64}$/u, 'a SHA-256 as 64 lowercase hex digits'),
        text: z.string().max(16 * 1024 * 1024),
        chunking: JsonObjectInputSchema.optional(),
      })
      .strict(),
    output: DocumentSchema,
  }),
  'documents.get': method({
    summary: 'One document with its whole text.',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: DocumentSchema,
  }),
  'documents.list': method({
    summary: 'Documents outside the trash, newest first, without their text.',
    input: NoInput,
    output: z.array(DocumentSummarySchema),
  }),
  'comparisons.create': method({
    summary: 'Save a side-by-side comparison: one input and 1 to 16 columns (model, sampling, run).',
    input: z
      .object({
        title: z.string().max(500).optional(),
        input: z.string().max(4 * 1024 * 1024),
        columns: z.array(JsonObjectInputSchema).min(1).max(16),
      })
      .strict(),
    output: ComparisonSchema,
  }),
  'comparisons.get': method({
    summary: 'A comparison with its votes, oldest first.',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: ComparisonSchema.extend({ votes: z.array(VoteSchema) }),
  }),
  'comparisons.list': method({
    summary: 'Comparisons, newest first.',
    input: z.object({ limit: z.number().int().min(1).max(500).optional() }).strict(),
    output: z.array(ComparisonSchema),
  }),
  'comparisons.vote': method({
    summary: 'Say which column of a comparison was better, or that they tie, or that neither was good.',
    input: z.discriminatedUnion('verdict', [
      z.object({ comparisonId: z.string().min(1), verdict: z.literal('column'), columnIndex: z.number().int().min(0).max(15), note: VoteNote }).strict(),
      z.object({ comparisonId: z.string().min(1), verdict: z.enum(['tie', 'neither']), note: VoteNote }).strict(),
    ]),
    output: VoteSchema,
  }),
  'chat.send': method({
    summary: "Add a person's message (under the active leaf, or parentId) and start the model's reply.",
    input: z
      .object({
        conversationId: z.string().min(1),
        content: z.string().min(1).max(4 * 1024 * 1024),
        /** Where the message goes; the active leaf when omitted, null for a first message. */
        parentId: z.string().min(1).nullable().optional(),
      })
      .strict(),
    output: ChatTurnSchema.extend({ userMessage: MessageSchema }),
  }),
  'chat.regenerate': method({
    summary: 'Write a new reply beside an assistant message (a sibling: the old one is kept).',
    input: z.object({ conversationId: z.string().min(1), messageId: z.string().min(1) }).strict(),
    output: ChatTurnSchema,
  }),
  'chat.edit': method({
    summary: "Edit a message as a new sibling; an edited person's message gets a new reply.",
    input: z
      .object({
        conversationId: z.string().min(1),
        messageId: z.string().min(1),
        content: z.string().min(1).max(4 * 1024 * 1024),
      })
      .strict(),
    output: z.object({ message: MessageSchema, reply: ChatTurnSchema.nullable() }),
  }),
  'chat.continue': method({
    summary: 'Go on writing an assistant message: a sibling that starts with its text.',
    input: z.object({ conversationId: z.string().min(1), messageId: z.string().min(1) }).strict(),
    output: ChatTurnSchema,
  }),
  'chat.contextUsage': method({
    summary: "Tokens the conversation (and a draft) would take in its model's context; null counts when the model is not loaded.",
    input: z.object({ conversationId: z.string().min(1), draft: z.string().max(4 * 1024 * 1024).optional() }).strict(),
    output: z.object({
      tokens: z.number().int().nonnegative().nullable(),
      contextSize: z.number().int().positive().nullable(),
      /** Tokens kept free for the reply (the max tokens setting, within the context). */
      reserved: z.number().int().nonnegative().nullable(),
      modelId: z.string().nullable(),
    }),
  }),
  'presets.list': method({ summary: 'Saved presets (system prompt and generation settings), by name.', input: NoInput, output: z.array(PresetSchema) }),
  'presets.save': method({
    summary: 'Create a preset, or replace one (with its id).',
    input: z
      .object({
        id: z.string().min(1).max(200).optional(),
        name: z.string().trim().min(1).max(200),
        systemPrompt: z.string().max(1024 * 1024),
        settings: GenerationSettingsSchema,
      })
      .strict(),
    output: PresetSchema,
  }),
  'presets.delete': method({
    summary: 'Delete a preset (conversations that used it keep their settings).',
    input: z.object({ id: z.string().min(1) }).strict(),
    output: z.object({ deleted: z.boolean() }),
  }),
  'models.library': method({
    summary: 'The models Emergent knows (the demo model among them), most recently used first.',
    input: NoInput,
    output: z.array(LibraryModelSchema),
  }),
  'models.add': method({
    summary: 'Add a GGUF file to the library (its metadata is read; nothing is copied).',
    input: z.object({ path: z.string().min(1).max(4096) }).strict(),
    output: LibraryModelSchema,
  }),
  'data.export': method({
    summary: 'All data as one versioned JSON archive.',
    input: NoInput,
    output: z.object({ archive: JsonObjectSchema }),
  }),
  'data.import': method({
    summary: 'Import an archive; ids are kept and rows already present are skipped.',
    input: z.object({ archive: z.unknown() }).strict(),
    output: z.object({ inserted: TableCounts, skipped: TableCounts }),
  }),
  'data.backup': method({
    summary: 'Write a consistent copy of the database to a file, while the app keeps running.',
    input: z.object({ path: z.string().min(1).max(4096) }).strict(),
    output: z.object({ path: z.string(), bytes: z.number().int().nonnegative() }),
  }),
} as const;

export const events = {
  'engine.state': EngineStatusSchema,
  'settings.changed': SettingsSchema,
  'models.progress': z.object({
    path: z.string(),
    stage: z.enum(['checking', 'loading', 'ready', 'failed']),
    /** 0..1; llama.cpp reports loading progress unreliably, so `ready` is the only sure 1. */
    progress: z.number().min(0).max(1),
  }),
  /** Text of a run, coalesced: about one event per 16 ms, never one per token. */
  'run.delta': z.object({
    runId: z.string(),
    text: z.string(),
    tokens: z.array(TokenProbabilitySchema).optional(),
  }),
  'run.done': z.object({
    runId: z.string(),
    text: z.string(),
    stopReason: StopReasonSchema,
    metrics: RunMetricsSchema,
  }),
  'run.error': z.object({
    runId: z.string(),
    /** What was generated before the failure; nothing is thrown away. */
    text: z.string(),
    error: z.object({ code: z.string(), message: z.string() }),
  }),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** What a caller passes (before defaults are applied). */
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
/** What the implementation receives (after validation and defaults). */
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(methods, value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.hasOwn(events, value);
}

/**
 * Largest serialized call a shell accepts. Documents travel as text, so this is generous;
 * anything bigger is refused with PAYLOAD_TOO_LARGE before it is parsed.
 */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The implementation every shell binds: one async function per method. */
export type ContractImplementation = {
  [M in MethodName]: (input: MethodParsedInput<M>) => Promise<MethodOutput<M>>;
};

/** How the core pushes events; each shell forwards them to its clients. */
export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;
