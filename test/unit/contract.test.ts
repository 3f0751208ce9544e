import { afterAll, describe, expect, it } from 'vitest';
import { ContractClient } from '../../electron/common/client.js';
import { MAX_MESSAGE_BYTES, METHOD_NAMES, methods } from '../../electron/common/contract.js';
import { dispatchCall } from '../../electron/common/dispatch.js';
import { EmergentError } from '../../electron/common/errors.js';
import { createMemoryTransport } from '../../electron/common/memory-transport.js';
import { createTestService } from '../helpers/service.js';

const { service, dataDir } = await createTestService();
const transport = createMemoryTransport(service.implementation, service.events);
const client = new ContractClient(transport);

afterAll(() => service.dispose());

describe('contract over the in-memory pair', () => {
  it('returns the value of a valid call', async () => {
    const info = await client.call('app.info', {});
    expect(info).toMatchObject({ name: 'Emergent', shell: 'headless', dataDir });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('validates input and reports the field at fault', async () => {
    const result = await transport.call('settings.update', { theme: 42 });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(!result.ok && result.error.message).toContain('theme');
  });

  it('refuses fields the method does not take', async () => {
    const result = await transport.call('app.info', { surprise: true });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses an unknown method with UNKNOWN_METHOD', async () => {
    const result = await transport.call('models.explode', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it('refuses an oversized call with PAYLOAD_TOO_LARGE', async () => {
    const result = await transport.call('settings.update', { theme: 'x'.repeat(MAX_MESSAGE_BYTES + 1) });
    expect(result).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('keeps serving after bad calls', async () => {
    await transport.call('nope', null);
    await expect(client.call('settings.get', {})).resolves.toEqual({ theme: 'system', threads: null });
  });

  it('rejects with an EmergentError carrying the code', async () => {
    // @ts-expect-error: a wrong type on purpose, as a malformed renderer would send it
    const failing = client.call('settings.update', { theme: 'purple' });
    await expect(failing).rejects.toBeInstanceOf(EmergentError);
    await expect(failing).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('persists settings and pushes settings.changed', async () => {
    const seen: unknown[] = [];
    const off = client.on('settings.changed', (settings) => seen.push(settings));
    await expect(client.call('settings.update', { theme: 'dark' })).resolves.toEqual({ theme: 'dark', threads: null });
    expect(seen).toEqual([{ theme: 'dark', threads: null }]);
    off();
    await expect(client.call('settings.get', {})).resolves.toEqual({ theme: 'dark', threads: null });
  });

  it('reports the engine on the CPU once it is ready', async () => {
    await service.engine.start();
    const status = await client.call('engine.status', {});
    expect(status).toMatchObject({ state: 'ready', backend: 'cpu', loadedModels: [] });
    expect(status.memory.ramTotalBytes).toBeGreaterThan(0);
  });
});

describe('dispatch', () => {
  it('turns an implementation that breaks the output schema into INTERNAL, not a bad value', async () => {
    const broken = { ...service.implementation, 'settings.get': async () => ({ theme: 'neon' }) };
    // @ts-expect-error: the implementation is broken on purpose
    const result = await dispatchCall(broken, 'settings.get', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('turns a thrown error into a value without a stack trace', async () => {
    const throwing = {
      ...service.implementation,
      'app.info': async () => {
        throw new Error('disk on fire');
      },
    };
    const result = await dispatchCall(throwing, 'app.info', {});
    expect(result).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'Unexpected failure: disk on fire' } });
  });

  it('has a summary and schemas for every method', () => {
    for (const name of METHOD_NAMES) {
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(methods[name].summary.length).toBeGreaterThan(10);
    }
  });
});
