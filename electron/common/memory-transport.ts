/**
 * A client transport that talks to an implementation in the same process, through the same
 * dispatch and the same JSON serialization as the real shells. Tests use it to exercise the
 * contract without a socket; the CLI uses it to run commands on the core directly.
 */
import type { ClientTransport } from './client.js';
import type { ContractImplementation } from './contract.js';
import { dispatchCall } from './dispatch.js';
import { MAX_MESSAGE_BYTES } from './contract.js';
import type { Result } from './errors.js';

export interface EventSource {
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
}

export function createMemoryTransport(implementation: ContractImplementation, events: EventSource): ClientTransport {
  return {
    async call(method, input): Promise<Result<unknown>> {
      const text = JSON.stringify(input ?? {});
      if (text.length > MAX_MESSAGE_BYTES) {
        return {
          ok: false,
          error: { code: 'PAYLOAD_TOO_LARGE', message: `The call is larger than ${MAX_MESSAGE_BYTES} bytes.` },
        };
      }
      const result = await dispatchCall(implementation, method, JSON.parse(text));
      return JSON.parse(JSON.stringify(result)) as Result<unknown>;
    },
    subscribe(listener) {
      return events.subscribe((event, payload) => listener(event, JSON.parse(JSON.stringify(payload))));
    },
  };
}
