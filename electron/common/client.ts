/**
 * The typed client every caller uses (the renderer, the CLI's remote commands, tests), over any
 * transport: Electron's preload bridge, a WebSocket, or the in-memory pair.
 */
import type { EventName, EventPayload, MethodInput, MethodName, MethodOutput } from './contract.js';
import { EmergentError, type Result } from './errors.js';

export interface ClientTransport {
  call(method: string, input: unknown): Promise<Result<unknown>>;
  /** Receives every event the core pushes; returns an unsubscribe function. */
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
}

type Listener = (payload: never) => void;

export class ContractClient {
  private readonly listeners = new Map<string, Set<Listener>>();
  private unsubscribeTransport: (() => void) | null = null;

  constructor(private readonly transport: ClientTransport) {}

  /** Calls a method; resolves with its value or rejects with an EmergentError carrying the code. */
  async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
    const result = await this.transport.call(method, input);
    if (!result.ok) throw EmergentError.fromValue(result.error);
    // The core validated the value against the contract's output schema before sending it.
    return result.value as MethodOutput<M>;
  }

  /** Like `call`, but returns the result value instead of throwing. */
  async tryCall<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodOutput<M>>> {
    return (await this.transport.call(method, input)) as Result<MethodOutput<M>>;
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    this.ensureSubscribed();
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const stored = listener as Listener;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  dispose(): void {
    this.unsubscribeTransport?.();
    this.unsubscribeTransport = null;
    this.listeners.clear();
  }

  private ensureSubscribed(): void {
    if (this.unsubscribeTransport) return;
    this.unsubscribeTransport = this.transport.subscribe((event, payload) => {
      for (const listener of this.listeners.get(event) ?? []) {
        (listener as (payload: unknown) => void)(payload);
      }
    });
  }
}
