/**
 * The sequences of one model context, shared by runs. A conversation keeps "its" sequence
 * between turns so the evaluated prefix (the KV cache) is reused; when every sequence is busy,
 * runs wait in order. An idle conversation's sequence is taken over, least recently used
 * first, only when a run needs one.
 */
import type { LlamaContextSequence } from 'node-llama-cpp';

interface Slot {
  readonly sequence: LlamaContextSequence;
  busy: boolean;
  /** The conversation whose tokens the sequence holds, if any. */
  key: string | null;
  lastUsed: number;
}

interface Waiter {
  key: string | null;
  resolve: (lease: SequenceLease) => void;
  reject: (err: unknown) => void;
}

export interface SequenceLease {
  readonly sequence: LlamaContextSequence;
  /** True when the sequence already holds this conversation's previous turn. */
  readonly warm: boolean;
  release(): void;
}

export class SequenceSlots {
  private readonly slots: Slot[];
  private readonly waiting: Waiter[] = [];
  private clock = 0;
  private closed: unknown = null;

  constructor(sequences: readonly LlamaContextSequence[]) {
    this.slots = sequences.map((sequence) => ({ sequence, busy: false, key: null, lastUsed: 0 }));
  }

  get size(): number {
    return this.slots.length;
  }

  get busyCount(): number {
    return this.slots.filter((slot) => slot.busy).length;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a free sequence; an abort while waiting rejects with the signal's reason. */
  acquire(key: string | null = null, signal?: AbortSignal): Promise<SequenceLease> {
    if (this.closed !== null) return Promise.reject(this.closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const lease = this.tryAcquire(key);
    if (lease) return Promise.resolve(lease);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { key, resolve, reject };
      this.waiting.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.waiting.indexOf(waiter);
          if (index === -1) return;
          this.waiting.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Wakes every waiter with an error; used when the model is unloaded. */
  close(reason: unknown): void {
    this.closed = reason;
    for (const waiter of this.waiting.splice(0)) waiter.reject(reason);
  }

  private tryAcquire(key: string | null): SequenceLease | null {
    const free = this.slots.filter((slot) => !slot.busy);
    if (free.length === 0) return null;
    const own = key === null ? undefined : free.find((slot) => slot.key === key);
    // Prefer a sequence nobody's conversation lives in; then the least recently used.
    const chosen = own ?? free.find((slot) => slot.key === null) ?? free.reduce((a, b) => (a.lastUsed <= b.lastUsed ? a : b));
    const warm = own !== undefined;
    chosen.busy = true;
    chosen.key = key;
    chosen.lastUsed = ++this.clock;
    let released = false;
    return {
      sequence: chosen.sequence,
      warm,
      release: () => {
        if (released) return;
        released = true;
        chosen.busy = false;
        chosen.lastUsed = ++this.clock;
        this.wakeNext();
      },
    };
  }

  private wakeNext(): void {
    const waiter = this.waiting[0];
    if (!waiter) return;
    const lease = this.tryAcquire(waiter.key);
    if (!lease) return;
    this.waiting.shift();
    waiter.resolve(lease);
  }
}
