/**
 * The renderer's transport in a browser served by the headless shell: the contract over one
 * WebSocket to the same origin. The server authenticates the socket with the cookie it set when
 * the page was opened with its token. Calls made while (re)connecting wait for the socket.
 */
import type { ClientTransport } from '../../../electron/common/client.js';
import type { Result } from '../../../electron/common/errors.js';
import { MAX_MESSAGE_BYTES } from '../../../electron/common/contract.js';
import { WEBSOCKET_PATH, type ServerMessage } from '../../../electron/common/protocol.js';

type Pending = (result: Result<unknown>) => void;

export type ConnectionState = 'connecting' | 'open' | 'closed';

export class WebSocketTransport implements ClientTransport {
  private socket: WebSocket | null = null;
  private opened: Promise<WebSocket> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: string, payload: unknown) => void>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();

  constructor(private readonly url: string) {}

  static forPage(location: Location): WebSocketTransport {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocketTransport(`${scheme}//${location.host}${WEBSOCKET_PATH}`);
  }

  call(method: string, input: unknown): Promise<Result<unknown>> {
    const id = this.nextId++;
    const text = JSON.stringify({ type: 'call', id, method, input });
    if (text.length > MAX_MESSAGE_BYTES) {
      return Promise.resolve({
        ok: false,
        error: { code: 'PAYLOAD_TOO_LARGE', message: `The call is larger than ${MAX_MESSAGE_BYTES} bytes.` },
      });
    }
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.connect().then(
        (socket) => socket.send(text),
        () => this.settle(id, { ok: false, error: { code: 'TRANSPORT_CLOSED', message: 'Emergent is not reachable.' } }),
      );
    });
  }

  subscribe(listener: (event: string, payload: unknown) => void): () => void {
    this.listeners.add(listener);
    void this.connect().catch(() => {});
    return () => {
      this.listeners.delete(listener);
    };
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  private connect(): Promise<WebSocket> {
    this.opened ??= new Promise<WebSocket>((resolve, reject) => {
      this.emitState('connecting');
      const socket = new WebSocket(this.url);
      socket.addEventListener('open', () => {
        this.socket = socket;
        this.emitState('open');
        resolve(socket);
      });
      socket.addEventListener('message', (message: MessageEvent<string>) => this.receive(message.data));
      socket.addEventListener('close', () => {
        this.socket = null;
        this.opened = null;
        this.emitState('closed');
        for (const id of [...this.pending.keys()]) {
          this.settle(id, { ok: false, error: { code: 'TRANSPORT_CLOSED', message: 'The connection to Emergent closed.' } });
        }
        reject(new Error('closed'));
      });
    });
    return this.opened;
  }

  private receive(text: string): void {
    const message = JSON.parse(text) as ServerMessage;
    if (message.type === 'event') {
      for (const listener of this.listeners) listener(message.event, message.payload);
    } else if (message.id !== null) {
      this.settle(message.id, message.result);
    }
  }

  private settle(id: number, result: Result<unknown>): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(result);
  }

  private emitState(state: ConnectionState): void {
    for (const listener of this.stateListeners) listener(state);
  }
}
