/**
 * The headless shell's server: the built renderer over HTTP and the contract over WebSocket,
 * both behind a random per-launch token, on 127.0.0.1 unless the person asks otherwise.
 *
 * The token arrives once in the URL that `serve` prints; the first page load trades it for a
 * SameSite=Strict, HttpOnly cookie (named per port: cookies ignore ports) and redirects to a
 * clean URL, so the token does not linger in the address bar or leak through Referer.
 * WebSocket upgrades carry the cookie, or `?token=` / `Authorization: Bearer` for scripts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { MAX_MESSAGE_BYTES, type ContractImplementation } from '../common/contract.js';
import { dispatchCall, describeIssues } from '../common/dispatch.js';
import {
  CallMessageSchema,
  TOKEN_COOKIE,
  TOKEN_PARAM,
  WEBSOCKET_PATH,
  type EventMessage,
  type ResultMessage,
} from '../common/protocol.js';
import type { ErrorValue } from '../common/errors.js';
import { CONTENT_SECURITY_POLICY } from '../common/security.js';

export interface EventSource {
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
}

export interface ServerOptions {
  implementation: ContractImplementation;
  events: EventSource;
  /** Folder with the built renderer (index.html and assets). */
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** Frames larger than this are cut off by the socket itself (close 1009); smaller oversized ones get PAYLOAD_TOO_LARGE. */
const HARD_FRAME_LIMIT = MAX_MESSAGE_BYTES * 2;
/** A client that stops reading is dropped rather than buffering events without bound. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}


export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const tokenBuffer = Buffer.from(token);
  const rendererDir = path.resolve(options.rendererDir);
  if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error(`The renderer is not built (${rendererDir} has no index.html). Run \`npm run build\` first.`);
  }

  let port = 0;
  const cookieName = () => `${TOKEN_COOKIE}_${port}`;

  const tokenMatches = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const given = Buffer.from(candidate);
    return given.length === tokenBuffer.length && crypto.timingSafeEqual(given, tokenBuffer);
  };

  const isAuthorized = (req: http.IncomingMessage, url: URL): boolean => {
    if (tokenMatches(url.searchParams.get(TOKEN_PARAM))) return true;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && tokenMatches(auth.slice('Bearer '.length))) return true;
    return tokenMatches(readCookie(req.headers.cookie, cookieName()));
  };

  // DNS rebinding defence: a page on evil.example resolving to 127.0.0.1 sends its own Host.
  const allowedHost = (hostHeader: string | undefined): boolean => {
    if (!hostHeader) return false;
    const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${formatHost(host)}:${port}`]);
    return allowed.has(hostHeader.toLowerCase());
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    setCommonHeaders(res);
    if (!allowedHost(req.headers.host)) return sendText(res, 403, 'Forbidden: unexpected Host header.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
    if (!isAuthorized(req, url)) {
      return sendText(
        res,
        401,
        'Unauthorized. Open the address Emergent printed when it started (it carries a token that changes each launch).',
      );
    }
    if (url.searchParams.has(TOKEN_PARAM)) {
      // Trade the URL token for a cookie and drop it from the address bar.
      res.setHeader('Set-Cookie', `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      url.searchParams.delete(TOKEN_PARAM);
      res.statusCode = 302;
      res.setHeader('Location', url.pathname + url.search);
      res.end();
      return;
    }
    serveStatic(rendererDir, url.pathname, req, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_LIMIT });
  const clients = new Set<WebSocket>();

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== WEBSOCKET_PATH) return refuse(404, 'Not Found');
    if (!allowedHost(req.headers.host)) return refuse(403, 'Forbidden');
    // Browsers always send Origin; a page from another origin must not drive the workbench.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHost(hostOfOrigin(origin))) {
      return refuse(403, 'Forbidden');
    }
    if (!isAuthorized(req, url)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
      ws.on('message', (data: RawData, isBinary: boolean) => {
        void handleMessage(ws, data, isBinary);
      });
    });
  });

  const handleMessage = async (ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> => {
    const send = (message: ResultMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const fail = (id: number | null, error: ErrorValue) => send({ type: 'result', id, result: { ok: false, error } });
    const bytes = rawLength(data);
    const text = isBinary ? null : rawToString(data);
    if (bytes > MAX_MESSAGE_BYTES) {
      return fail(text === null ? null : peekId(text), {
        code: 'PAYLOAD_TOO_LARGE',
        message: `The message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}.`,
      });
    }
    if (text === null) return fail(null, { code: 'INVALID_MESSAGE', message: 'Messages must be JSON text frames.' });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail(null, { code: 'INVALID_MESSAGE', message: 'The message is not valid JSON.' });
    }
    const call = CallMessageSchema.safeParse(json);
    if (!call.success) {
      return fail(peekId(text), { code: 'INVALID_MESSAGE', message: `Not a call: ${describeIssues(call.error)}` });
    }
    const result = await dispatchCall(options.implementation, call.data.method, call.data.input);
    send({ type: 'result', id: call.data.id, result });
  };

  const unsubscribe = options.events.subscribe((event, payload) => {
    if (clients.size === 0) return;
    const frame = JSON.stringify({ type: 'event', event, payload } satisfies EventMessage);
    for (const ws of clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.terminate();
        continue;
      }
      ws.send(frame);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${formatHost(host)}:${port}/?${TOKEN_PARAM}=${token}`,
    host,
    port,
    token,
    async close() {
      unsubscribe();
      for (const ws of clients) ws.close(1001, 'Emergent is shutting down');
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function setCommonHeaders(res: http.ServerResponse): void {
  res.setHeader('Content-Security-Policy', `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}

function serveStatic(root: string, pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return sendText(res, 400, 'Bad path.');
  }
  let file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  if (file !== root && !file.startsWith(root + path.sep)) return sendText(res, 404, 'Not found.');
  let stat = statOrNull(file);
  if (stat?.isDirectory()) {
    file = path.join(file, 'index.html');
    stat = statOrNull(file);
  }
  if (!stat) {
    // Client-side routes (no extension) get the app; missing assets get a 404.
    if (path.extname(decoded) !== '') return sendText(res, 404, 'Not found.');
    file = path.join(root, 'index.html');
    stat = statOrNull(file);
    if (!stat) return sendText(res, 404, 'Not found.');
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream');
  res.setHeader('Content-Length', stat.size);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  fs.createReadStream(file).pipe(res);
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function hostOfOrigin(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' ? url.host : '';
  } catch {
    return '';
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** Our clients write `{"type":"call","id":N,...`; recover the id of a message we will not parse. */
function peekId(text: string): number | null {
  const match = /"id"\s*:\s*(\d{1,15})/.exec(text.slice(0, 200));
  return match?.[1] === undefined ? null : Number(match[1]);
}
