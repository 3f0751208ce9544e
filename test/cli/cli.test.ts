import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { COMMANDS } from '../../electron/cli/main.js';
import { runEmergent, startServing } from '../helpers/cli.js';
import { tempDir } from '../helpers/service.js';

const version = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Calls one contract method over the served WebSocket, as a script would. */
async function callOver<T>(url: string, method: string): Promise<T> {
  const { port, searchParams } = new URL(url);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${searchParams.get('token') ?? ''}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  // Events (engine.state, ...) may come first; the answer is the `result` with our id.
  const reply = new Promise<{ result: { ok: true; value: T } }>((resolve) =>
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: number; result: { ok: true; value: T } };
      if (message.type === 'result' && message.id === 1) resolve(message);
    }),
  );
  ws.send(JSON.stringify({ type: 'call', id: 1, method, input: {} }));
  const message = await reply;
  ws.close();
  return message.result.value;
}

const appInfoOver = (url: string) => callOver<{ dataDir: string; shell: string }>(url, 'app.info');

describe('emergent CLI', () => {
  it('prints its version', async () => {
    const result = await runEmergent(['--version']);
    expect(result).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('has --help for itself and every command', async () => {
    const general = await runEmergent(['--help']);
    expect(general.status).toBe(0);
    for (const command of COMMANDS) {
      expect(general.stdout).toContain(command.name);
      const own = await runEmergent([command.name, '--help']);
      expect(own.status).toBe(0);
      expect(own.stdout).toContain(`Usage: ${command.usage}`);
      for (const option of Object.keys(command.options)) expect(own.stdout).toContain(`--${option}`);
    }
  });

  it('refuses an unknown flag and a bad port with a coded error and status 2', async () => {
    const unknownFlag = await runEmergent(['serve', '--prot', '8080']);
    expect(unknownFlag.status).toBe(2);
    expect(unknownFlag.stderr).toMatch(/^error INVALID_INPUT: .*--prot/);
    const badPort = await runEmergent(['serve', '--port', 'eighty']);
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toMatch(/^error INVALID_INPUT: --port must be a whole number/);
    const unknownCommand = await runEmergent(['explode']);
    expect(unknownCommand.status).toBe(2);
  });

  it('serve prints exactly one line, uses EMERGENT_DATA_DIR, and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    const serving = await startServing([], { EMERGENT_DATA_DIR: dataDir });
    expect(serving.stdout()).toBe(`Emergent is running at ${serving.url}\n`);
    expect(await appInfoOver(serving.url)).toMatchObject({ dataDir, shell: 'headless' });
    // Stop only once llama.cpp is loaded: its dependencies hook SIGTERM too.
    while ((await callOver<{ state: string }>(serving.url, 'engine.status')).state === 'starting') {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await serving.stop()).toBe(0);
    expect(serving.stdout().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('serve --data-dir wins over EMERGENT_DATA_DIR', async () => {
    const fromEnv = tempDir();
    const fromFlag = path.join(tempDir(), 'nested', 'data');
    const serving = await startServing(['--data-dir', fromFlag], { EMERGENT_DATA_DIR: fromEnv });
    expect((await appInfoOver(serving.url)).dataDir).toBe(fromFlag);
    expect(fs.existsSync(fromFlag)).toBe(true);
    expect(await serving.stop()).toBe(0);
  });

  it('serve on a port in use fails with PORT_IN_USE', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const result = await runEmergent(['serve', '--port', String(port), '--no-open'], { EMERGENT_DATA_DIR: tempDir() });
    blocker.close();
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`error PORT_IN_USE: Port ${port} is already in use`));
  });
});
