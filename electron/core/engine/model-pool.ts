/**
 * The loaded models: each with one context whose sequences runs share. Memory is estimated
 * before loading (node-llama-cpp's GgufInsights) and a model that does not fit is refused
 * with the estimate rather than crashing the process; idle models are unloaded least recently
 * used first to make room. A model whose load killed the process is remembered and not
 * loaded again without `force`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GgufInsights, readGgufFileInfo, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp';
import type { LoadedModel } from '../../common/contract.js';
import { EmergentError } from '../../common/errors.js';
import { formatBytes } from '../../common/format.js';
import { checkModelFile, classifyModelError, llamaLogSettled } from './model-errors.js';
import { SequenceSlots } from './sequence-slots.js';
import { chooseThreads } from './threads.js';

export interface LoadRequest {
  path: string;
  contextSize?: number | undefined;
  sequences?: number | undefined;
  threads?: number | undefined;
  force?: boolean | undefined;
}

export interface LoadedEntry {
  readonly info: LoadedModel;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly slots: SequenceSlots;
  /** Runs on this model; unloading cancels them. */
  readonly runs: Set<AbortController>;
  lastUsed: number;
}

export interface ModelPoolOptions {
  /** Where the crash marker and the list of models that crashed live. */
  stateDir: string;
  /** llama.cpp's log lines since `mark` (a value it returned before), which often hold the real reason of a failure. */
  logSince: (mark: number) => string[];
  /** A mark for `logSince`: lines logged from now on. */
  logMark: () => number;
  onProgress?: (path: string, stage: 'checking' | 'loading' | 'ready' | 'failed', progress: number) => void;
  /** The Settings override, read at each load. */
  threadsOverride?: () => number | null;
  /** Free memory as the pool sees it; tests shrink it to exercise the refusal. */
  availableMemory?: () => number;
}

const DEFAULT_CONTEXT_SIZE = 4096;
const LARGE_MODEL_BYTES = 1024 ** 3;

/** The same file under any path (relative, symlinked) is the same model. */
export function modelIdFor(resolvedPath: string): string {
  return `m-${crypto.createHash('sha256').update(resolvedPath).digest('hex').slice(0, 12)}`;
}

const MODEL_ID = /^m-[0-9a-f]{12}$/;

/** True when a reference names a model by id rather than by its file. */
export function isModelId(reference: string): boolean {
  return MODEL_ID.test(reference);
}

/** The id a reference (an id, or a path to a GGUF file) will have once loaded. */
export function modelIdForReference(reference: string): string {
  if (MODEL_ID.test(reference)) return reference;
  return modelIdFor(resolvePath(reference) ?? path.resolve(reference));
}

export class ModelPool {
  private readonly entries = new Map<string, LoadedEntry>();
  private readonly loading = new Map<string, Promise<LoadedEntry>>();
  private readonly crashed: Set<string>;
  private clock = 0;

  constructor(
    private readonly llama: Llama,
    private readonly options: ModelPoolOptions,
  ) {
    fs.mkdirSync(options.stateDir, { recursive: true });
    this.crashed = new Set(this.readCrashed());
    // A marker left behind means the last load never finished: the process died in it.
    const marker = this.markerFile();
    if (fs.existsSync(marker)) {
      try {
        const { path: crashedPath } = JSON.parse(fs.readFileSync(marker, 'utf8')) as { path: string };
        this.crashed.add(crashedPath);
        this.writeCrashed();
      } catch {
        // An unreadable marker names no model; nothing to remember.
      }
      fs.rmSync(marker, { force: true });
    }
  }

  list(): LoadedModel[] {
    return [...this.entries.values()].sort((a, b) => b.lastUsed - a.lastUsed).map((entry) => entry.info);
  }

  /** A loaded model by id or by path. */
  find(reference: string): LoadedEntry | undefined {
    const byId = this.entries.get(reference);
    if (byId) return byId;
    const resolved = resolvePath(reference);
    return resolved === null ? undefined : this.entries.get(modelIdFor(resolved));
  }

  /**
   * The model a run names: a loaded one by id or path, or the file at that path loaded now.
   * `loaded` says whether this call paid for loading it.
   */
  async acquireModel(reference: string): Promise<{ entry: LoadedEntry; loaded: boolean }> {
    const found = this.find(reference);
    if (found) return { entry: found, loaded: false };
    if (MODEL_ID.test(reference)) {
      throw new EmergentError('MODEL_NOT_LOADED', `No model with id ${reference} is loaded. Load it first, or name its file.`);
    }
    return { entry: await this.load({ path: reference }), loaded: true };
  }

  touch(entry: LoadedEntry): void {
    entry.lastUsed = ++this.clock;
  }

  crashedBefore(): string[] {
    return [...this.crashed];
  }

  async load(request: LoadRequest): Promise<LoadedEntry> {
    const resolved = resolvePath(request.path);
    if (resolved === null) throw new EmergentError('MODEL_NOT_FOUND', `No file at ${request.path}. Check the path.`);
    const id = modelIdFor(resolved);
    const existing = this.entries.get(id);
    if (existing) {
      this.touch(existing);
      return existing;
    }
    const inFlight = this.loading.get(id);
    if (inFlight) return inFlight;
    const promise = this.loadNew(id, resolved, request).finally(() => this.loading.delete(id));
    this.loading.set(id, promise);
    return promise;
  }

  async unload(id: string, reason: EmergentError): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    entry.slots.close(reason);
    for (const run of entry.runs) run.abort(reason);
    await entry.context.dispose();
    await entry.model.dispose();
    return true;
  }

  async disposeAll(): Promise<void> {
    const reason = new EmergentError('MODEL_DISPOSED', 'Emergent is shutting down.');
    await Promise.all([...this.loading.values()].map((loading) => loading.catch(() => undefined)));
    for (const id of [...this.entries.keys()]) await this.unload(id, reason);
  }

  private async loadNew(id: string, resolved: string, request: LoadRequest): Promise<LoadedEntry> {
    const report = this.options.onProgress ?? (() => {});
    report(resolved, 'checking', 0);
    const logMark = this.options.logMark();
    try {
      if (this.crashed.has(resolved) && request.force !== true) {
        throw new EmergentError(
          'MODEL_CRASHED_BEFORE',
          `Loading ${path.basename(resolved)} stopped Emergent the last time it was tried, so it is not loaded automatically. ` +
            'Load it again with force to try anyway.',
        );
      }
      await checkModelFile(resolved);
      let fileInfo;
      try {
        // 'filesystem': the reader also accepts URLs and would fetch them.
        fileInfo = await readGgufFileInfo(resolved, { readTensorInfo: true, sourceType: 'filesystem' });
      } catch (err) {
        await llamaLogSettled(() => this.options.logMark());
        throw classifyModelError(err, resolved, this.options.logSince(logMark));
      }
      const sizeBytes = fs.statSync(resolved).size;
      const insights = await GgufInsights.from(fileInfo, this.llama);
      const trained = insights.trainContextSize ?? DEFAULT_CONTEXT_SIZE;
      const contextSize = request.contextSize ?? Math.min(trained || DEFAULT_CONTEXT_SIZE, DEFAULT_CONTEXT_SIZE);
      const sequences = request.sequences ?? (sizeBytes < LARGE_MODEL_BYTES ? 4 : 2);
      const parameters = fileInfo.tensorInfo?.reduce((sum, tensor) => sum + tensor.dimensions.reduce<number>((n, d) => n * Number(d), 1), 0) ?? null;
      const threads = chooseThreads({
        physicalCores: this.llama.cpuMathCores,
        parameters,
        fileSizeBytes: sizeBytes,
        override: request.threads ?? this.options.threadsOverride?.() ?? null,
      });

      const needed =
        insights.estimateModelResourceRequirements({ gpuLayers: 0 }).cpuRam +
        insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: 0, sequences }).cpuRam;
      await this.makeRoomFor(needed, resolved);

      report(resolved, 'loading', 0);
      fs.writeFileSync(this.markerFile(), JSON.stringify({ path: resolved, startedAt: new Date().toISOString() }));
      const started = performance.now();
      let model: LlamaModel;
      let context: LlamaContext;
      try {
        model = await this.llama.loadModel({
          modelPath: resolved,
          // The fit was checked above, against what this machine has free now.
          gpuLayers: this.llama.gpu === false ? 0 : 'auto',
          onLoadProgress: (progress) => report(resolved, 'loading', Math.min(progress, 0.99)),
        });
        try {
          context = await model.createContext({ contextSize, sequences, threads, batchSize: Math.min(512, contextSize) });
        } catch (err) {
          await model.dispose();
          throw err;
        }
      } catch (err) {
        await llamaLogSettled(() => this.options.logMark());
        throw classifyModelError(err, resolved, this.options.logSince(logMark));
      } finally {
        fs.rmSync(this.markerFile(), { force: true });
      }
      const loadMs = performance.now() - started;
      if (this.crashed.delete(resolved)) this.writeCrashed();

      const sequenceList = Array.from({ length: sequences }, () => context.getSequence());
      const info: LoadedModel = {
        id,
        name: fileInfo.metadata.general?.name ?? path.basename(resolved, '.gguf'),
        path: resolved,
        sizeBytes,
        architecture: String(fileInfo.metadata.general?.architecture ?? 'unknown'),
        contextSize: context.contextSize,
        sequences,
        threads,
        loadMs,
        trainedContextSize: trained,
      };
      const entry: LoadedEntry = { info, model, context, slots: new SequenceSlots(sequenceList), runs: new Set(), lastUsed: ++this.clock };
      this.entries.set(id, entry);
      report(resolved, 'ready', 1);
      return entry;
    } catch (err) {
      report(resolved, 'failed', 0);
      throw err;
    }
  }

  /** Unloads idle models, least recently used first, until `needed` bytes fit; else refuses. */
  private async makeRoomFor(needed: number, resolved: string): Promise<void> {
    const available = () => (this.options.availableMemory ?? availableMemoryBytes)();
    const idle = [...this.entries.values()].filter((entry) => entry.runs.size === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    while (needed > available() && idle.length > 0) {
      const victim = idle.shift();
      if (victim) await this.unload(victim.info.id, new EmergentError('MODEL_DISPOSED', 'Unloaded to make room for another model.'));
    }
    const free = available();
    if (needed > free) {
      throw new EmergentError(
        'INSUFFICIENT_MEMORY',
        `${path.basename(resolved)} needs ${formatBytes(needed)}, ${formatBytes(free)} free. ` +
          'Unload another model, close other programs, or choose a smaller context or quantization.',
      );
    }
  }

  private markerFile(): string {
    return path.join(this.options.stateDir, 'loading.json');
  }

  private crashedFile(): string {
    return path.join(this.options.stateDir, 'crashed-models.json');
  }

  private readCrashed(): string[] {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(this.crashedFile(), 'utf8'));
      return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
    } catch {
      return [];
    }
  }

  private writeCrashed(): void {
    fs.writeFileSync(this.crashedFile(), `${JSON.stringify([...this.crashed], null, 2)}\n`);
  }
}

function resolvePath(candidate: string): string | null {
  try {
    return fs.realpathSync(path.resolve(candidate));
  } catch {
    return null;
  }
}

/** Memory the system can give us now: MemAvailable on Linux (counts reclaimable cache), else free. */
export function availableMemoryBytes(): number {
  if (process.platform === 'linux') {
    try {
      const match = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
      if (match?.[1]) return Number(match[1]) * 1024;
    } catch {
      // fall through
    }
  }
  return os.freemem();
}
