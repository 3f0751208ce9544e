/**
 * Generation as runs: `start` returns an id at once; text follows as coalesced `run.delta`
 * events, then one `run.done` (with metrics) or `run.error` (with the partial text).
 * `cancel` stops a run within one token and keeps its text.
 *
 * Runs evaluate tokens on a sequence of the model's context directly (not through
 * LlamaCompletion/LlamaChat) so that one loop serves completion and chat, reports token
 * probabilities, and reuses the evaluated prefix of a conversation's previous turn.
 */
import crypto from 'node:crypto';
import {
  LlamaGrammarEvaluationState,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import {
  DEFAULT_MAX_TOKENS,
  DEFAULT_SAMPLING,
  type ChatMessage,
  type EventName,
  type EventPayload,
  type RunMetrics,
  type Sampling,
  type StopReason,
  type TokenProbability,
} from '../../common/contract.js';
import { EmergentError, toErrorValue } from '../../common/errors.js';
import { DeltaCoalescer } from './delta-coalescer.js';
import { findJsonSchemaProblem } from './json-schema.js';
import { modelIdForReference, type LoadedEntry, type ModelPool } from './model-pool.js';
import type { SequenceLease } from './sequence-slots.js';
import { TokenTextStream } from './text-stream.js';

export interface RunRequest {
  model: string;
  prompt?: string | undefined;
  messages?: ChatMessage[] | undefined;
  /** The last message is the assistant's; the model goes on writing it. */
  continueLast?: boolean | undefined;
  conversationKey?: string | undefined;
  sampling?: Partial<Sampling> | undefined;
  maxTokens?: number | undefined;
  stop?: string[] | undefined;
  jsonSchema?: Record<string, unknown> | undefined;
  probabilities?: number | undefined;
  /** Where the run belongs in the store (a chat reply's conversation and message). */
  links?: RunLinks | undefined;
}

export interface RunLinks {
  conversationId?: string;
  messageId?: string;
}

type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/**
 * Where runs are kept (the store). The engine reports each run's start, its text as it grows
 * and its end; the recorder decides how to batch writes. A recorder that throws (a full disk)
 * ends the run with that error; the streamed text is still in the events.
 */
export interface RunRecorder {
  begin(run: { runId: string; kind: 'completion' | 'chat'; modelReference: string; parameters: Record<string, unknown>; input: string; links?: RunLinks }): void;
  append(runId: string, text: string): void;
  finish(
    runId: string,
    outcome:
      | { status: 'done' | 'cancelled'; stopReason: StopReason; metrics: RunMetrics; modelId: string | null }
      | { status: 'error'; error: { code: string; message: string }; modelId: string | null },
  ): void;
}


/** The reason a run's controller is aborted when a person cancels it. */
class RunCancelled extends Error {
  override readonly name = 'RunCancelled';
}

export class RunManager {
  private readonly active = new Map<string, AbortController>();
  private readonly chatWrappers = new WeakMap<LlamaModel, ChatWrapper>();

  constructor(
    private readonly llama: Llama,
    private readonly pool: ModelPool,
    private readonly emit: Emit,
    private readonly recorder: RunRecorder | null = null,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  /** Validates what can be checked at once and starts the run in the background. */
  start(request: RunRequest): { runId: string; modelId: string } {
    const loaded = this.pool.find(request.model);
    const modelId = loaded?.info.id ?? modelIdForReference(request.model);
    const runId = `run-${crypto.randomUUID()}`;
    const controller = new AbortController();
    this.active.set(runId, controller);
    // After the caller has its run id: events never arrive before the answer to runs.start.
    setImmediate(() => {
      void this.execute(runId, request, controller).finally(() => this.active.delete(runId));
    });
    return { runId, modelId };
  }

  /** Recording the end of a failed run must not hide the failure itself. */
  private recordSafely(write: () => void): void {
    try {
      write();
    } catch (err) {
      process.emitWarning(`A run's end could not be recorded: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  cancel(runId: string): boolean {
    const controller = this.active.get(runId);
    if (!controller) return false;
    if (!controller.signal.aborted) controller.abort(new RunCancelled('Cancelled.'));
    return true;
  }

  /** The whole life of one run; every outcome ends in exactly one run.done or run.error. */
  private async execute(runId: string, request: RunRequest, controller: AbortController): Promise<void> {
    const started = performance.now();
    let text = '';
    let lease: SequenceLease | null = null;
    const progress = newProgress();
    let entry: LoadedEntry | null = null;
    const coalescer = new DeltaCoalescer((delta) => this.emit('run.delta', { runId, ...delta }));
    const recorder = this.recorder;
    try {
      recorder?.begin({
        runId,
        kind: request.messages ? 'chat' : 'completion',
        modelReference: request.model,
        parameters: {
          sampling: { ...DEFAULT_SAMPLING, ...request.sampling },
          maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
          ...(request.stop ? { stop: request.stop } : {}),
          ...(request.jsonSchema ? { jsonSchema: request.jsonSchema } : {}),
          ...(request.probabilities ? { probabilities: request.probabilities } : {}),
          ...(request.conversationKey ? { conversationKey: request.conversationKey } : {}),
          ...(request.continueLast ? { continueLast: true } : {}),
        },
        input: request.prompt ?? JSON.stringify(request.messages ?? []),
        ...(request.links ? { links: request.links } : {}),
      });
      const loadStarted = performance.now();
      const acquired = await this.pool.acquireModel(request.model);
      entry = acquired.entry;
      progress.loadMs = acquired.loaded ? performance.now() - loadStarted : 0;
      progress.threads = acquired.entry.info.threads;
      this.pool.touch(entry);
      entry.runs.add(controller);
      throwIfAborted(controller.signal);
      lease = await entry.slots.acquire(request.conversationKey ?? null, controller.signal);

      const result = await this.generate(entry, lease.sequence, request, controller.signal, progress, (piece, token) => {
        text += piece;
        coalescer.add(piece, token);
        if (piece !== '') recorder?.append(runId, piece);
      });
      coalescer.flush();
      const metrics: RunMetrics = { ...measure(progress, performance.now()), loadMs: progress.loadMs, totalMs: performance.now() - started };
      recorder?.finish(runId, { status: 'done', stopReason: result.stopReason, metrics, modelId: entry.info.id });
      this.emit('run.done', { runId, text, stopReason: result.stopReason, metrics });
    } catch (err) {
      coalescer.flush();
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
      const modelId = entry?.info.id ?? null;
      if (reason instanceof RunCancelled) {
        // What was measured up to the cancel: a stopped reply still has its speed and counts.
        const metrics: RunMetrics = { ...measure(progress, performance.now()), loadMs: progress.loadMs, totalMs: performance.now() - started };
        this.recordSafely(() => recorder?.finish(runId, { status: 'cancelled', stopReason: 'cancelled', metrics, modelId }));
        this.emit('run.done', { runId, text, stopReason: 'cancelled', metrics });
      } else {
        const error = toErrorValue(asEngineError(reason));
        this.recordSafely(() => recorder?.finish(runId, { status: 'error', error, modelId }));
        this.emit('run.error', { runId, text, error });
      }
    } finally {
      lease?.release();
      entry?.runs.delete(controller);
    }
  }

  private async generate(
    entry: LoadedEntry,
    sequence: LlamaContextSequence,
    request: RunRequest,
    signal: AbortSignal,
    progress: Progress,
    onText: (text: string, token?: TokenProbability) => void,
  ): Promise<{ stopReason: StopReason }> {
    const { model } = entry;
    const sampling: Sampling = { ...DEFAULT_SAMPLING, ...request.sampling };
    const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
    const topK = request.probabilities ?? 0;
    const rendered = this.render(model, request);
    const promptTokens = rendered.tokens;
    const contextSize = sequence.contextSize;
    if (promptTokens.length >= contextSize - 1) {
      throw new EmergentError(
        'CONTEXT_TOO_LARGE',
        `The prompt is ${promptTokens.length} tokens; the context holds ${contextSize}. ` +
          'Shorten the input or load the model with a larger context size.',
      );
    }

    // Reuse what the sequence already evaluated (the previous turn of this conversation).
    const reused = Math.min(sequence.compareContextTokens(promptTokens).firstDifferentIndex, promptTokens.length - 1);
    if (sequence.nextTokenIndex > reused) {
      await sequence.eraseContextTokenRanges([{ start: reused, end: sequence.nextTokenIndex }]);
    }
    const toEvaluate = promptTokens.slice(reused);

    const grammarEvaluationState = request.jsonSchema ? await this.jsonGrammar(model, request.jsonSchema) : undefined;
    const recent: Token[] = [];
    const penalize = sampling.repeatPenalty !== 1 || sampling.presencePenalty !== 0 || sampling.frequencyPenalty !== 0;
    const stream = new TokenTextStream(
      (tokens, context) => model.detokenize(tokens as Token[], false, context as Token[]),
      [...(request.stop ?? []), ...rendered.stopStrings],
      promptTokens,
    );

    progress.promptTokens = promptTokens.length;
    progress.reusedPromptTokens = reused;
    progress.evaluationStarted = performance.now();
    // The generator ends by itself when the model emits end-of-text (yieldEogToken is off
    // in node-llama-cpp by default, so the EOG token is never seen here).
    let stopReason: StopReason = 'endOfText';
    const iterator = sequence.evaluateWithMetadata(
      toEvaluate,
      { probabilities: topK > 0 },
      {
        temperature: sampling.temperature,
        topK: sampling.topK,
        topP: sampling.topP,
        minP: sampling.minP,
        seed: sampling.seed ?? crypto.randomInt(0, 2 ** 31),
        ...(grammarEvaluationState ? { grammarEvaluationState } : {}),
        ...(penalize
          ? {
              repeatPenalty: {
                punishTokens: () => recent,
                penalty: sampling.repeatPenalty,
                presencePenalty: sampling.presencePenalty,
                frequencyPenalty: sampling.frequencyPenalty,
              },
            }
          : {}),
        // Stop at a full context rather than shifting it silently; the chat layer decides what to drop.
        contextShift: { size: 0, strategy: 'eraseBeginning' },
      },
    );
    try {
      for await (const output of iterator) {
        progress.firstTokenAt ??= performance.now();
        if (signal.aborted) throw signal.reason;
        const token = output.token;
        if (model.isEogToken(token)) {
          stopReason = 'endOfText';
          break;
        }
        const generated = ++progress.generated;
        if (sampling.penaltyLastTokens > 0) {
          recent.push(token);
          if (recent.length > sampling.penaltyLastTokens) recent.shift();
        }
        const step = stream.push(token);
        const distribution: unknown = 'probabilities' in output ? output.probabilities : undefined;
        const probability = distribution instanceof Map ? describeProbabilities(model, token, distribution as Map<Token, number>, topK) : undefined;
        if (step.text !== '' || probability) onText(step.text, probability);
        if (step.stopped) {
          stopReason = 'stopSequence';
          break;
        }
        if (generated >= maxTokens) {
          stopReason = 'maxTokens';
          break;
        }
        if (sequence.nextTokenIndex >= contextSize - 1) {
          stopReason = 'contextFull';
          break;
        }
      }
    } finally {
      // Ends the generator without evaluating the last sampled token.
      await iterator.return(undefined);
    }
    const rest = stream.flush();
    if (rest !== '') onText(rest);

    return { stopReason };
  }

  /** How many tokens a request's prompt takes, rendered exactly as a run would render it. */
  countPromptTokens(model: LlamaModel, request: Pick<RunRequest, 'prompt' | 'messages' | 'continueLast'>): number {
    return this.render(model, request).tokens.length;
  }

  /** The tokens to evaluate, and any stop strings the chat template implies. */
  private render(model: LlamaModel, request: Pick<RunRequest, 'prompt' | 'messages' | 'continueLast'>): { tokens: Token[]; stopStrings: string[] } {
    if (request.prompt !== undefined) {
      const tokens = model.tokenize(request.prompt);
      const bos = model.tokens.bos;
      return { tokens: model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens, stopStrings: [] };
    }
    const wrapper = this.chatWrapperFor(model);
    const history: ChatHistoryItem[] = (request.messages ?? []).map((message) =>
      message.role === 'assistant'
        ? { type: 'model', response: [message.content] }
        : { type: message.role, text: message.content },
    );
    // The last model turn is rendered open: an empty one is the template's "assistant, your
    // turn" prefix; a continued one is the reply so far, which the model goes on writing.
    const last = history.at(-1);
    if (!(request.continueLast === true && last?.type === 'model')) history.push({ type: 'model', response: [] });
    const state = wrapper.generateContextState({ chatHistory: history });
    const stopStrings = state.stopGenerationTriggers
      .filter((trigger) => trigger.values.every((value) => typeof value === 'string'))
      .map((trigger) => trigger.values.join(''))
      .filter((trigger) => trigger.length > 0);
    return { tokens: state.contextText.tokenize(model.tokenizer), stopStrings };
  }

  private chatWrapperFor(model: LlamaModel): ChatWrapper {
    let wrapper = this.chatWrappers.get(model);
    if (!wrapper) {
      // Resolving probes the template (about a second); do it once per model.
      wrapper = resolveChatWrapper(model);
      this.chatWrappers.set(model, wrapper);
    }
    return wrapper;
  }

  private async jsonGrammar(model: LlamaModel, schema: Record<string, unknown>): Promise<LlamaGrammarEvaluationState> {
    const problem = findJsonSchemaProblem(schema);
    if (problem !== null) throw new EmergentError('INVALID_JSON_SCHEMA', `The JSON schema cannot be used: ${problem}.`);
    try {
      const grammar = await this.llama.createGrammarForJsonSchema(schema as Parameters<Llama['createGrammarForJsonSchema']>[0]);
      return new LlamaGrammarEvaluationState({ model, grammar });
    } catch (err) {
      throw new EmergentError('INVALID_JSON_SCHEMA', `The JSON schema cannot be used: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function describeProbabilities(model: LlamaModel, chosen: Token, probabilities: Map<Token, number>, topK: number): TokenProbability {
  const alternatives: TokenProbability['alternatives'] = [];
  for (const [token, probability] of probabilities) {
    if (alternatives.length >= topK) break;
    alternatives.push({ text: model.detokenize([token], true), probability: clampProbability(probability) });
  }
  return {
    text: model.detokenize([chosen], true),
    probability: clampProbability(probabilities.get(chosen) ?? 0),
    alternatives,
  };
}

function clampProbability(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** What a run has measured so far; a cancelled run reports it as it stands. */
interface Progress {
  loadMs: number;
  threads: number;
  promptTokens: number;
  reusedPromptTokens: number;
  evaluationStarted: number | null;
  firstTokenAt: number | null;
  generated: number;
}

function newProgress(): Progress {
  return { loadMs: 0, threads: 1, promptTokens: 0, reusedPromptTokens: 0, evaluationStarted: null, firstTokenAt: null, generated: 0 };
}

function measure(progress: Progress, now: number): Omit<RunMetrics, 'loadMs' | 'totalMs'> {
  const { evaluationStarted, firstTokenAt, generated } = progress;
  const promptSeconds = firstTokenAt === null || evaluationStarted === null ? null : (firstTokenAt - evaluationStarted) / 1000;
  const generationSeconds = firstTokenAt === null ? null : (now - firstTokenAt) / 1000;
  const evaluated = progress.promptTokens - progress.reusedPromptTokens;
  return {
    timeToFirstTokenMs: promptSeconds === null ? null : promptSeconds * 1000,
    promptTokens: progress.promptTokens,
    reusedPromptTokens: progress.reusedPromptTokens,
    promptTokensPerSecond: promptSeconds !== null && promptSeconds > 0 ? evaluated / promptSeconds : null,
    generatedTokens: generated,
    // The first token's time belongs to the prompt; the rest measure generation.
    tokensPerSecond: generationSeconds !== null && generationSeconds > 0 && generated > 1 ? (generated - 1) / generationSeconds : null,
    threads: progress.threads,
  };
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** node-llama-cpp reports use after dispose with DisposedError; anything else passes through. */
function asEngineError(err: unknown): unknown {
  if (err instanceof EmergentError) return err;
  if (err instanceof Error && (err.name === 'DisposedError' || /disposed/i.test(err.message))) {
    return new EmergentError('MODEL_DISPOSED', 'The model was unloaded while the run was using it; the text so far is kept.');
  }
  return err;
}
