/**
 * A real `emergent serve` child process and Debian's Chromium, for tests and benches that drive
 * the renderer the way a person does.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ADDRESS_LINE = /^Emergent is running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)$/;

export interface Served {
  address: string;
  stderr(): string;
  /** SIGTERM, then the exit status. */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies at once, as in a crash or a power cut. */
  kill(): Promise<void>;
}

export function serve(dataDir: string): Promise<Served> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, ['bin/emergent.js', 'serve', '--port', '0', '--no-open'], {
    cwd: ROOT,
    env: { ...process.env, EMERGENT_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      const address = ADDRESS_LINE.exec(line)?.[1];
      if (address === undefined) return reject(new Error(`serve printed ${JSON.stringify(line)} instead of its address`));
      resolve({
        address,
        stderr: () => stderr,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before printing its address:\n${stderr}`)));
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Collects console errors, page errors, failed requests and dialogs of a page. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed request: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}
