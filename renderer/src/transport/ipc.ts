/** The renderer's transport inside Electron: the preload's bridge (see electron/preload). */
import type { EmergentBridge } from '../../../electron/common/bridge.js';
import type { ClientTransport } from '../../../electron/common/client.js';
import { EVENT_NAMES, isMethodName } from '../../../electron/common/contract.js';
import type { Result } from '../../../electron/common/errors.js';

export class IpcTransport implements ClientTransport {
  constructor(private readonly bridge: EmergentBridge) {}

  call(method: string, input: unknown): Promise<Result<unknown>> {
    if (!isMethodName(method)) {
      return Promise.resolve({ ok: false, error: { code: 'UNKNOWN_METHOD', message: `There is no method ${method}.` } });
    }
    return this.bridge[method](input);
  }

  subscribe(listener: (event: string, payload: unknown) => void): () => void {
    const unsubscribers = EVENT_NAMES.map((event) => this.bridge.subscribe(event, (payload) => listener(event, payload)));
    return () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
  }
}
