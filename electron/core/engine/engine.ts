/**
 * The one llama.cpp instance of the process, the models loaded on it, and the runs on them.
 * llama.cpp starts in the background (loading the native bindings takes ~0.6 s on a 2-core
 * machine), prefers a GPU and falls back to the CPU with a warning rather than failing.
 */
import os from 'node:os';
import path from 'node:path';
import type { Llama } from 'node-llama-cpp';
import type { Backend, EngineStatus, EventName, EventPayload, LoadedModel, ModelInspection } from '../../common/contract.js';
import { EmergentError } from '../../common/errors.js';
import { inspectModel } from '../models/inspect.js';
import { ModelPool, type LoadRequest } from './model-pool.js';
import { measurePerplexity, type PerplexityResult } from './perplexity.js';
import { RunManager, type RunRecorder, type RunRequest } from './runs.js';

export interface EngineOptions {
  /** 'auto' tries CUDA, Vulkan or Metal first; false forces the CPU. */
  gpu?: 'auto' | false;
  /** Where the engine remembers models that crashed on load. */
  stateDir: string;
  /** Where llama.cpp's own log lines go (they are diagnostic, never user-facing). */
  log?: (level: string, message: string) => void;
  /** Core events: engine state, load progress, run deltas. */
  emit?: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
  /** The Settings thread override, read at each model load. */
  threadsOverride?: () => number | null;
  /** Tests shrink the memory the pool believes it has. */
  availableMemory?: () => number;
  /** Where runs are kept (the store); none in tests of the engine alone. */
  recorder?: RunRecorder;
}

/** llama.cpp lines kept to explain a failure (its errors often say only "failed to load"). */
const LOG_LINES_KEPT = 200;
/**
 * llama.dispose() can wait forever after llama.cpp failed inside a load and the garbage
 * collector ran (seen with node-llama-cpp 3.21.1); shutting down must not hang on it.
 */
const DISPOSE_TIMEOUT_MS = 5_000;

interface Started {
  llama: Llama;
  pool: ModelPool;
  runs: RunManager;
}

export class Engine {
  private started: Started | null = null;
  private state: EngineStatus['state'] = 'starting';
  private warning: string | null = null;
  private starting: Promise<void> | null = null;
  private readonly recentLog: string[] = [];
  /** How many lines were ever logged: marks for "the lines since this load began". */
  private logCount = 0;

  constructor(private readonly options: EngineOptions) {}

  /** Starts loading llama.cpp; safe to call many times. Never rejects: failure is a state. */
  start(): Promise<void> {
    this.starting ??= this.load();
    return this.starting;
  }

  async status(): Promise<EngineStatus> {
    const llama = this.started?.llama ?? null;
    let vramTotalBytes: number | null = null;
    let vramUsedBytes: number | null = null;
    let devices: string[] = [];
    if (llama && llama.gpu !== false) {
      const vram = await llama.getVramState();
      vramTotalBytes = vram.total;
      vramUsedBytes = vram.used;
      devices = await llama.getGpuDeviceNames();
    }
    return {
      state: this.state,
      backend: llama ? backendOf(llama) : null,
      devices,
      warning: this.warning,
      loadedModels: (this.started?.pool.list() ?? []).map(({ id, name }) => ({ id, name })),
      memory: { ramTotalBytes: os.totalmem(), ramFreeBytes: os.freemem(), vramTotalBytes, vramUsedBytes },
    };
  }

  async inspect(modelPath: string, contextSize?: number): Promise<ModelInspection> {
    const { llama } = await this.ready();
    return inspectModel(llama, modelPath, contextSize === undefined ? {} : { contextSize });
  }

  async loadModel(request: LoadRequest): Promise<LoadedModel> {
    const { pool } = await this.ready();
    const entry = await pool.load(request);
    await this.announce();
    return entry.info;
  }

  async unloadModel(id: string): Promise<boolean> {
    const { pool } = await this.ready();
    const unloaded = await pool.unload(
      id,
      new EmergentError('MODEL_DISPOSED', 'The model was unloaded while the run was using it; the text so far is kept.'),
    );
    if (unloaded) await this.announce();
    return unloaded;
  }

  async loadedModels(): Promise<LoadedModel[]> {
    return this.started?.pool.list() ?? [];
  }

  async startRun(request: RunRequest): Promise<{ runId: string; modelId: string }> {
    const { runs } = await this.ready();
    return runs.start(request);
  }

  /**
   * Tokens a prompt or chat would take in a model's context, rendered with its template. With
   * `load: false` (the context meter, on each keystroke) a model that is not loaded gives null;
   * with `load: true` (before sending) the model is loaded as a run would load it.
   */
  async countTokens(
    reference: string,
    request: Pick<RunRequest, 'prompt' | 'messages' | 'continueLast'>,
    options: { load: boolean },
  ): Promise<{ tokens: number; contextSize: number; modelId: string } | null> {
    let entry;
    let runs;
    if (options.load) {
      const started = await this.ready();
      const acquired = await started.pool.acquireModel(reference);
      if (acquired.loaded) await this.announce();
      ({ entry } = acquired);
      runs = started.runs;
    } else {
      entry = this.started?.pool.find(reference);
      runs = this.started?.runs;
      if (!entry || !runs) return null;
    }
    return { tokens: runs.countPromptTokens(entry.model, request), contextSize: entry.info.contextSize, modelId: entry.info.id };
  }

  cancelRun(runId: string): boolean {
    return this.started?.runs.cancel(runId) ?? false;
  }

  async perplexity(reference: string, text: string, window?: number): Promise<PerplexityResult & { ms: number }> {
    const { pool } = await this.ready();
    const { entry, loaded } = await pool.acquireModel(reference);
    if (loaded) await this.announce();
    const started = performance.now();
    const controller = new AbortController();
    entry.runs.add(controller);
    const lease = await entry.slots.acquire(null, controller.signal);
    try {
      const result = await measurePerplexity(entry.model, lease.sequence, text, window ?? entry.info.contextSize, controller.signal);
      return { ...result, ms: performance.now() - started };
    } finally {
      lease.release();
      entry.runs.delete(controller);
    }
  }

  async dispose(): Promise<void> {
    await this.starting;
    const started = this.started;
    this.started = null;
    if (!started) return;
    await started.pool.disposeAll();
    await Promise.race([started.llama.dispose(), new Promise((resolve) => setTimeout(resolve, DISPOSE_TIMEOUT_MS).unref())]);
  }

  private async ready(): Promise<Started> {
    await this.start();
    if (!this.started) {
      throw new EmergentError('ENGINE_UNAVAILABLE', this.warning ?? 'llama.cpp is not available on this machine.');
    }
    return this.started;
  }

  private async announce(): Promise<void> {
    this.options.emit?.('engine.state', await this.status());
  }

  private async load(): Promise<void> {
    const log = (level: string, message: string) => {
      this.recentLog.push(`[${level}] ${message}`);
      this.logCount++;
      if (this.recentLog.length > LOG_LINES_KEPT) this.recentLog.shift();
      (this.options.log ?? ((l: string, m: string) => process.stderr.write(`[llama.cpp ${l}] ${m}\n`)))(level, message);
    };
    try {
      const lib = await import('node-llama-cpp');
      const common = {
        build: 'never' as const,
        logLevel: lib.LlamaLogLevel.warn,
        logger: (level: unknown, message: string) => log(String(level), message),
      };
      const gpu = this.options.gpu ?? 'auto';
      let llama: Llama;
      try {
        llama = await lib.getLlama({ ...common, gpu });
      } catch (err) {
        if (gpu === false) throw err;
        this.warning = `The GPU could not be used (${errorMessage(err)}); running on the CPU.`;
        llama = await lib.getLlama({ ...common, gpu: false });
      }
      const emit = this.options.emit;
      const pool = new ModelPool(llama, {
        stateDir: path.join(this.options.stateDir),
        logMark: () => this.logCount,
        logSince: (mark) => this.recentLog.slice(Math.max(0, this.recentLog.length - (this.logCount - mark))),
        onProgress: (modelPath, stage, progress) => emit?.('models.progress', { path: modelPath, stage, progress }),
        ...(this.options.threadsOverride ? { threadsOverride: this.options.threadsOverride } : {}),
        ...(this.options.availableMemory ? { availableMemory: this.options.availableMemory } : {}),
      });
      const runs = new RunManager(llama, pool, (event, payload) => emit?.(event, payload), this.options.recorder ?? null);
      this.started = { llama, pool, runs };
      this.state = 'ready';
    } catch (err) {
      this.state = 'unavailable';
      this.warning = `llama.cpp could not be loaded: ${errorMessage(err)}`;
    }
    await this.announce();
  }
}

function backendOf(llama: Llama): Backend {
  return llama.gpu === false ? 'cpu' : llama.gpu;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
