/**
 * The sandboxed preload: exposes `window.emergent` with one function per contract method and
 * one `subscribe`. Never ipcRenderer itself. Bundled to CommonJS (sandboxed preloads cannot
 * load ES modules or node_modules).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_KEY, IPC_EVENT_CHANNEL, ipcChannelFor } from '../common/bridge.js';
import { METHOD_NAMES } from '../common/contract.js';

const bridge: Record<string, unknown> = {};
for (const method of METHOD_NAMES) {
  bridge[method] = (input: unknown) => ipcRenderer.invoke(ipcChannelFor(method), input);
}
bridge['subscribe'] = (event: string, listener: (payload: unknown) => void) => {
  const onEvent = (_ipcEvent: IpcRendererEvent, name: unknown, payload: unknown) => {
    if (name === event) listener(payload);
  };
  ipcRenderer.on(IPC_EVENT_CHANNEL, onEvent);
  return () => {
    ipcRenderer.removeListener(IPC_EVENT_CHANNEL, onEvent);
  };
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
