import type { EventName, EventPayload } from '../common/contract.js';

type RawListener = (event: string, payload: unknown) => void;

/** Where the core pushes events; every shell subscribes once and forwards to its clients. */
export class EventHub {
  private readonly listeners = new Set<RawListener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch (err) {
        // One broken subscriber (a closed socket, a destroyed window) must not starve the others.
        process.emitWarning(`An event listener for ${event} failed: ${String(err)}`);
      }
    }
  }

  subscribe(listener: RawListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
