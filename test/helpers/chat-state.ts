/**
 * What the renderer's ChatState tests share: the real core behind an in-memory client, frames
 * and timers that run when the test says, and a record of the calls the state made.
 */
import type { ClientTransport } from '../../electron/common/client.js';
import { ContractClient } from '../../electron/common/client.js';
import { createMemoryTransport } from '../../electron/common/memory-transport.js';
import type { Service } from '../../electron/core/service.js';
import type { ChatTimers } from '../../renderer/src/panels/chat/chat-state.svelte.js';

/** Animation frames that run only when the test calls `run()`. */
export class ManualFrames {
  queue: (() => void)[] = [];
  requested = 0;

  readonly schedule = (callback: () => void): void => {
    this.requested++;
    this.queue.push(callback);
  };

  run(): void {
    const due = this.queue;
    this.queue = [];
    for (const callback of due) callback();
  }
}

/** setTimeout for ChatState, run only when the test calls `runAll()`. */
export class ManualTimers implements ChatTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 1;

  set(callback: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  runAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.callback();
  }
}

export interface RecordedCall {
  method: string;
  input: unknown;
}

/** A client on the service's in-memory transport that also lists every call made through it. */
export function recordingClient(service: Service): { client: ContractClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const inner = createMemoryTransport(service.implementation, service.events);
  const transport: ClientTransport = {
    call(method, input) {
      calls.push({ method, input });
      return inner.call(method, input);
    },
    subscribe: (listener) => inner.subscribe(listener),
  };
  return { client: new ContractClient(transport), calls };
}

/** Resolves when `check` holds, polling; fails after `ms`. */
export async function eventually(check: () => boolean, ms = 10_000, what = 'the condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
