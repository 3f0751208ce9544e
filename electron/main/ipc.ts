/**
 * The contract over Electron IPC, written once: one `ipcMain.handle` per method. Every call is
 * checked for its sender, then validated and dispatched exactly as the WebSocket shell does.
 */
import { IPC_EVENT_CHANNEL, ipcChannelFor } from '../common/bridge.js';
import { METHOD_NAMES, type ContractImplementation } from '../common/contract.js';
import { dispatchCall } from '../common/dispatch.js';
import type { Result } from '../common/errors.js';

/** The part of Electron's IpcMainInvokeEvent the binding reads. */
export interface InvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

/** The part of Electron's ipcMain the binding uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, input: unknown) => Promise<Result<unknown>>): void;
  removeHandler(channel: string): void;
}

export function bindContractToIpc(
  ipcMain: IpcMainLike,
  implementation: ContractImplementation,
  isTrusted: (event: InvokeEventLike) => boolean,
): () => void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(ipcChannelFor(method), async (event, input) => {
      if (!isTrusted(event)) {
        return { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Calls are accepted only from the Emergent window.' } };
      }
      return dispatchCall(implementation, method, input);
    });
  }
  return () => {
    for (const method of METHOD_NAMES) ipcMain.removeHandler(ipcChannelFor(method));
  };
}

export interface EventTargetLike {
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
}

/** Forwards core events to the window; a destroyed window is skipped, not an error. */
export function forwardEvents(
  events: { subscribe(listener: (event: string, payload: unknown) => void): () => void },
  target: () => EventTargetLike | null,
): () => void {
  return events.subscribe((event, payload) => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, event, payload);
  });
}
