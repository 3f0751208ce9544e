/**
 * What the Electron preload exposes to the renderer as `window.emergent`: one function per
 * contract method (never ipcRenderer itself) and one `subscribe`.
 */
import type { MethodName } from './contract.js';
import type { Result } from './errors.js';

export const IPC_CALL_PREFIX = 'emergent:call:';
export const IPC_EVENT_CHANNEL = 'emergent:event';
export const BRIDGE_KEY = 'emergent';

export type EmergentBridge = {
  readonly [M in MethodName]: (input: unknown) => Promise<Result<unknown>>;
} & {
  subscribe(event: string, listener: (payload: unknown) => void): () => void;
};

export function ipcChannelFor(method: MethodName): string {
  return `${IPC_CALL_PREFIX}${method}`;
}
