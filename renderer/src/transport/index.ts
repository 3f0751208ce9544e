import { BRIDGE_KEY, type EmergentBridge } from '../../../electron/common/bridge.js';
import { ContractClient } from '../../../electron/common/client.js';
import { IpcTransport } from './ipc.js';
import { WebSocketTransport, type ConnectionState } from './websocket.js';

export type { ConnectionState };

/** Where the state of a connection that can drop comes from (the headless shell's WebSocket). */
export interface ConnectionStateSource {
  onState(listener: (state: ConnectionState) => void): () => void;
}

export interface Connection {
  client: ContractClient;
  shell: 'electron' | 'headless';
  /** null inside Electron: the preload bridge cannot disconnect. */
  connection: ConnectionStateSource | null;
}

/** Electron's preload bridge when there is one, otherwise the headless shell's WebSocket. */
export function connect(): Connection {
  const bridge = (window as unknown as Record<string, EmergentBridge | undefined>)[BRIDGE_KEY];
  if (bridge) return { client: new ContractClient(new IpcTransport(bridge)), shell: 'electron', connection: null };
  const socket = WebSocketTransport.forPage(window.location);
  return { client: new ContractClient(socket), shell: 'headless', connection: socket };
}
