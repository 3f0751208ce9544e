import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/emergent.js', import.meta.url));
export const SERVE_LINE = /^Emergent is running at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))$/;

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `emergent ARGS` to completion. */
export function runEmergent(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface ServingProcess {
  child: ChildProcess;
  url: string;
  port: number;
  token: string;
  /** Everything printed on stdout so far (the contract is: exactly the one line). */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit status. */
  stop(): Promise<number | null>;
}

/** Starts `emergent serve ARGS` and resolves once it printed its line. */
export function startServing(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServingProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--no-open', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no line in 30 s; stderr: ${stderr}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0] ?? '';
      const match = SERVE_LINE.exec(line);
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      if (!match?.[1] || !match[2] || !match[3]) return reject(new Error(`unexpected first line: ${JSON.stringify(line)}`));
      resolve({
        child,
        url: match[1],
        port: Number(match[2]),
        token: match[3],
        stdout: () => stdout,
        stderr: () => stderr,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    child.on('exit', (status) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${status} before printing its line; stderr: ${stderr}`));
    });
  });
}
