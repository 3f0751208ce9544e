/**
 * Keeps the engine's runs in the store. Text is written in batches, at most FLUSH_MS (or
 * FLUSH_CHARS of text) behind the stream, each batch one statement and so one transaction:
 * a crash loses at most the last batch, and the run is found `interrupted` at the next start.
 */
import type { RunRecorder } from './engine/runs.js';
import { isModelId, modelIdForReference } from './engine/model-pool.js';
import type { RunStore } from './store/runs.js';

const FLUSH_MS = 250;
const FLUSH_CHARS = 4096;

interface Pending {
  text: string;
  timer: NodeJS.Timeout | null;
  /** A write that failed on the timer (a full disk), thrown to the engine at the next call. */
  failure: unknown;
}

export class StoreRunRecorder implements RunRecorder {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly runs: RunStore,
    private readonly flushMs = FLUSH_MS,
  ) {}

  begin(run: Parameters<RunRecorder['begin']>[0]): void {
    this.runs.create({
      id: run.runId,
      kind: run.kind,
      modelId: modelIdForReference(run.modelReference),
      modelPath: isModelId(run.modelReference) ? null : run.modelReference,
      parameters: run.parameters as Parameters<RunStore['create']>[0]['parameters'],
      input: run.input,
      conversationId: run.links?.conversationId ?? null,
      messageId: run.links?.messageId ?? null,
    });
    this.pending.set(run.runId, { text: '', timer: null, failure: null });
  }

  append(runId: string, text: string): void {
    const pending = this.pending.get(runId);
    if (!pending) return;
    if (pending.failure !== null) throw pending.failure;
    pending.text += text;
    if (pending.text.length >= FLUSH_CHARS) {
      this.flush(runId);
      return;
    }
    pending.timer ??= setTimeout(() => {
      try {
        this.flush(runId);
      } catch (err) {
        pending.failure = err;
      }
    }, this.flushMs);
  }

  finish(runId: string, outcome: Parameters<RunRecorder['finish']>[1]): void {
    try {
      this.flush(runId);
    } finally {
      this.pending.delete(runId);
    }
    const metrics = outcome.status === 'error' ? null : { ...outcome.metrics, stopReason: outcome.stopReason };
    if (outcome.status === 'error') this.runs.finish(runId, { status: 'error', error: outcome.error });
    else this.runs.finish(runId, { status: outcome.status, metrics });
  }

  /** Writes what is waiting for every run; used at shutdown. */
  flushAll(): void {
    for (const runId of this.pending.keys()) this.flush(runId);
  }

  private flush(runId: string): void {
    const pending = this.pending.get(runId);
    if (!pending) return;
    if (pending.timer) clearTimeout(pending.timer);
    pending.timer = null;
    if (pending.text === '') return;
    const text = pending.text;
    pending.text = '';
    this.runs.appendOutput(runId, text);
  }
}
