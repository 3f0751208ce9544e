import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_MESSAGE_BYTES } from '../../electron/common/contract.js';
import { CLOSE_UNAUTHORIZED, WEBSOCKET_PATH, type ServerMessage } from '../../electron/common/protocol.js';
import type { Result } from '../../electron/common/errors.js';
import { startServer, type RunningServer } from '../../electron/server/server.js';
import { createTestService, tempDir } from '../helpers/service.js';

const { service } = await createTestService();
const rendererDir = tempDir('emergent-renderer-');
fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Emergent</title>');
fs.mkdirSync(path.join(rendererDir, 'assets'));
fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ implementation: service.implementation, events: service.events, rendererDir, port: 0 });
});
afterAll(async () => {
  await server.close();
  await service.dispose();
});

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(pathname: string, headers: Record<string, string> = {}, host = '127.0.0.1'): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port: server.port, path: pathname, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

/** A connected, authenticated socket with a helper that sends raw text and awaits the next result. */
async function openSocket(query = `?token=${server.token}`) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WEBSOCKET_PATH}${query}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const results: Extract<ServerMessage, { type: 'result' }>[] = [];
  const events: Extract<ServerMessage, { type: 'event' }>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type === 'result') results.push(message);
    else events.push(message);
    waiters.splice(0).forEach((wake) => wake());
  });
  const nextResult = async (): Promise<{ id: number | null; result: Result<unknown> }> => {
    for (;;) {
      const next = results.shift();
      if (next) return next;
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };
  const sendRaw = async (text: string) => {
    ws.send(text);
    return nextResult();
  };
  let nextId = 1;
  const call = (method: string, input: unknown) => sendRaw(JSON.stringify({ type: 'call', id: nextId++, method, input }));
  return { ws, call, sendRaw, events };
}

describe('contract over the real WebSocket server', () => {
  it('answers a valid call with its value and the caller\'s id', async () => {
    const { ws, sendRaw } = await openSocket();
    const reply = await sendRaw(JSON.stringify({ type: 'call', id: 41, method: 'app.info', input: {} }));
    expect(reply.id).toBe(41);
    expect(reply.result).toMatchObject({ ok: true, value: { name: 'Emergent', shell: 'headless' } });
    ws.close();
  });

  it('gives coded errors for bad payloads and keeps serving', async () => {
    const { ws, call, sendRaw } = await openSocket();
    expect((await call('settings.update', { theme: 7 })).result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect((await call('no.such', {})).result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect((await sendRaw('{not json')).result).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    // A call without a method is not a call.
    const noMethod = await sendRaw(JSON.stringify({ type: 'call', id: 9, input: {} }));
    expect(noMethod).toMatchObject({ id: 9, result: { ok: false, error: { code: 'INVALID_MESSAGE' } } });
    const big = await sendRaw(JSON.stringify({ type: 'call', id: 77, method: 'settings.update', input: { theme: 'x'.repeat(MAX_MESSAGE_BYTES) } }));
    expect(big).toMatchObject({ id: 77, result: { ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } } });
    // Still serving on the same socket, and to a new one.
    expect((await call('settings.get', {})).result).toMatchObject({ ok: true });
    const second = await openSocket();
    expect((await second.call('app.info', {})).result).toMatchObject({ ok: true });
    ws.close();
    second.ws.close();
  });

  it('pushes events to connected clients', async () => {
    const { ws, call, events } = await openSocket();
    await call('settings.update', { theme: 'light' });
    expect(events).toContainEqual({ type: 'event', event: 'settings.changed', payload: { theme: 'light', threads: null } });
    ws.close();
  });
});

describe('token', () => {
  it('refuses a WebSocket without the token or with a wrong one (401)', async () => {
    for (const query of ['', '?token=wrong', `?token=${server.token.slice(0, -1)}`]) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WEBSOCKET_PATH}${query}`);
      const status = await new Promise<number>((resolve) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => resolve(200));
        ws.once('error', () => {});
      });
      expect(status).toBe(401);
      ws.terminate();
    }
    expect(CLOSE_UNAUTHORIZED).toBeGreaterThanOrEqual(4000);
  });

  it('accepts the token as a bearer header', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WEBSOCKET_PATH}`, {
      headers: { Authorization: `Bearer ${server.token}` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
  });

  it('refuses a WebSocket opened by a page of another origin, even with the token', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WEBSOCKET_PATH}?token=${server.token}`, {
      headers: { Origin: 'http://evil.example' },
    });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(200));
      ws.once('error', () => {});
    });
    expect(status).toBe(403);
    ws.terminate();
  });

  it('refuses HTTP without the token (401) and serves the app with it', async () => {
    const refused = await get('/');
    expect(refused.status).toBe(401);
    expect(refused.body).not.toContain('<title>');
    expect((await get('/assets/app.js')).status).toBe(401);

    const first = await get(`/?token=${server.token}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = first.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);

    const page = await get('/', { Cookie: cookie.split(';')[0] ?? '' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Emergent</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const asset = await get('/assets/app.js', { Authorization: `Bearer ${server.token}` });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
  });

  it('does not serve files outside the renderer folder', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    expect((await get('/../package.json', auth)).status).toBe(404);
    expect((await get('/assets/..%2f..%2fpackage.json', auth)).status).toBe(404);
    // Extension-less paths fall back to the app, never to a file outside it.
    const escaped = await get('/%2e%2e/%2e%2e/%2e%2e/etc/passwd', auth);
    expect(escaped.body).not.toContain('root:');
    expect(escaped.body).toContain('<title>Emergent</title>');
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await get(`/?token=${server.token}`, { Host: `evil.example:${server.port}` });
    expect(res.status).toBe(403);
  });
});

describe('binding', () => {
  it('listens on 127.0.0.1 only by default', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{32}$`));
    const external = Object.values((await import('node:os')).networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (external) {
      // The same port on another address of this machine must not answer.
      await expect(get('/', {}, external.address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
    await expect(get('/', {}, '::1')).rejects.toBeDefined();
  });

  it('gives each launch a different token', async () => {
    const other = await startServer({ implementation: service.implementation, events: service.events, rendererDir, port: 0 });
    expect(other.token).not.toBe(server.token);
    expect(other.port).not.toBe(server.port);
    await other.close();
  });
});
