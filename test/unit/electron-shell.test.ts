/**
 * The Electron shell's logic, run in plain Node (the Electron binary cannot be downloaded on
 * the build machines). ipcMain is replaced by a thin recorder of handlers: the binding's
 * validation and sender checks are what is under test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IPC_EVENT_CHANNEL, ipcChannelFor } from '../../electron/common/bridge.js';
import { METHOD_NAMES } from '../../electron/common/contract.js';
import type { Result } from '../../electron/common/errors.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/common/security.js';
import { bindContractToIpc, forwardEvents, type InvokeEventLike, type IpcMainLike } from '../../electron/main/ipc.js';
import { isAppDownload, isAppUrl, isExternalLinkAllowed, isTrustedSender, resolveAppFile } from '../../electron/main/policy.js';
import { createTestService } from '../helpers/service.js';

type Handler = (event: InvokeEventLike, input: unknown) => Promise<Result<unknown>>;

class RecordingIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: InvokeEventLike, input: unknown): Promise<Result<unknown>> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, input);
  }
}

const { service } = await createTestService('electron');
afterAll(() => service.dispose());

describe('IPC binding', () => {
  const mainFrame = { url: 'app://emergent/index.html' };
  const ipc = new RecordingIpcMain();
  const unbind = bindContractToIpc(ipc, service.implementation, (event) => isTrustedSender(event.senderFrame, mainFrame));

  it('registers exactly one handler per contract method', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual(METHOD_NAMES.map(ipcChannelFor).sort());
  });

  it('answers our window with values and validates input', async () => {
    await expect(ipc.invoke(ipcChannelFor('app.info'), { senderFrame: mainFrame }, {})).resolves.toMatchObject({
      ok: true,
      value: { shell: 'electron' },
    });
    await expect(ipc.invoke(ipcChannelFor('settings.update'), { senderFrame: mainFrame }, { theme: [] })).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });

  it('refuses other frames, navigated frames and missing frames with FORBIDDEN_SENDER', async () => {
    for (const senderFrame of [{ url: 'app://emergent/index.html' }, { url: 'https://evil.example/' }, null]) {
      await expect(ipc.invoke(ipcChannelFor('settings.get'), { senderFrame }, {})).resolves.toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN_SENDER' },
      });
    }
    const navigatedAway = { url: 'https://evil.example/' };
    expect(isTrustedSender(navigatedAway, navigatedAway)).toBe(false);
  });

  it('removes its handlers when unbound', () => {
    unbind();
    expect(ipc.handlers.size).toBe(0);
  });

  it('forwards core events to a live window and skips a destroyed one', async () => {
    const sent: unknown[][] = [];
    let destroyed = false;
    const target = { isDestroyed: () => destroyed, send: (...args: unknown[]) => sent.push(args) };
    const stop = forwardEvents(service.events, () => target);
    await service.implementation['settings.update']({ theme: 'dark' });
    destroyed = true;
    await service.implementation['settings.update']({ theme: 'light' });
    stop();
    expect(sent).toEqual([[IPC_EVENT_CHANNEL, 'settings.changed', { theme: 'dark', threads: null }]]);
  });
});

describe('window policy', () => {
  it('treats only app://emergent as our renderer', () => {
    expect(isAppUrl('app://emergent/index.html')).toBe(true);
    expect(isAppUrl('app://other/index.html')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('lets the window download only blobs it made itself (an export)', () => {
    expect(isAppDownload('blob:app://emergent/0b6e3a5c-2f0e-4c43-9a7e-1f2d3c4b5a69')).toBe(true);
    for (const url of ['https://example.com/model.gguf', 'blob:https://example.com/x', 'blob:app://other/x', 'app://emergent/index.html', 'data:text/plain,hi', 'blob:']) {
      expect(isAppDownload(url), url).toBe(false);
    }
  });

  it('opens only https links externally', () => {
    expect(isExternalLinkAllowed('https://huggingface.co/')).toBe(true);
    for (const url of ['http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share']) {
      expect(isExternalLinkAllowed(url)).toBe(false);
    }
  });

  it('maps app:// paths into the renderer folder and nowhere else', () => {
    const root = path.resolve('/srv/renderer');
    expect(resolveAppFile(root, 'app://emergent/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://emergent/assets/a.js')).toBe(path.join(root, 'assets', 'a.js'));
    expect(resolveAppFile(root, 'app://emergent/chat')).toBe(path.join(root, 'index.html'));
    const escaped = resolveAppFile(root, 'app://emergent/..%2f..%2fetc%2fpasswd');
    expect(escaped === null || escaped.startsWith(root + path.sep)).toBe(true);
  });

  it('uses one Content-Security-Policy in the header and in index.html', () => {
    const html = fs.readFileSync(new URL('../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });
});
