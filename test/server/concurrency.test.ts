import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ContractClient, type ClientTransport } from '../../electron/common/client.js';
import type { Result } from '../../electron/common/errors.js';
import type { ServerMessage } from '../../electron/common/protocol.js';
import { startHeadless, type HeadlessShell } from '../../electron/server/headless.js';
import { tempDir } from '../helpers/service.js';

/** A client over its own WebSocket, as each browser tab has. */
async function tab(shell: HeadlessShell): Promise<{ client: ContractClient; close: () => void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${shell.server.port}/ws?token=${shell.server.token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type === 'result' && message.id !== null) pending.get(message.id)?.(message.result);
  });
  const transport: ClientTransport = {
    call: (method, input) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ type: 'call', id, method, input }));
      }),
    subscribe: () => () => {},
  };
  return { client: new ContractClient(transport), close: () => ws.close() };
}

let shell: HeadlessShell;
beforeAll(async () => {
  shell = await startHeadless({ dataDir: tempDir(), port: 0 });
});
afterAll(() => shell.close());

describe('two tabs writing at once', () => {
  it('loses nothing', async () => {
    const [one, two] = [await tab(shell), await tab(shell)];
    const writes = (name: string, client: ContractClient) =>
      Array.from({ length: 60 }, (_, i) => client.call('prompts.create', { name: `${name} ${i}`, body: `Summarize {{text}} for ${name} ${i}`, tags: [name] }));
    const created = await Promise.all([...writes('left', one.client), ...writes('right', two.client)]);
    expect(new Set(created.map((prompt) => prompt.id)).size).toBe(120);
    const all = await one.client.call('prompts.list', {});
    expect(all).toHaveLength(120);
    expect(await two.client.call('prompts.list', { tag: 'right' })).toHaveLength(60);
    expect(all.every((prompt) => prompt.variables.includes('text'))).toBe(true);
    one.close();
    two.close();
  });
});
