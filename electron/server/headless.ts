/**
 * The headless shell: the core plus the server, started together and stopped together.
 */
import { EmergentError } from '../common/errors.js';
import { createService, type Service } from '../core/service.js';
import { rendererDistDir } from '../core/version.js';
import { startServer, type RunningServer } from './server.js';

export interface HeadlessOptions {
  dataDir: string;
  host?: string;
  port?: number;
  rendererDir?: string;
}

export interface HeadlessShell {
  readonly server: RunningServer;
  readonly service: Service;
  close(): Promise<void>;
}

export async function startHeadless(options: HeadlessOptions): Promise<HeadlessShell> {
  const service = await createService({ dataDir: options.dataDir, shell: 'headless' });
  let server: RunningServer;
  try {
    server = await startServer({
      implementation: service.implementation,
      events: service.events,
      rendererDir: options.rendererDir ?? rendererDistDir(),
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
    });
  } catch (err) {
    await service.dispose();
    throw describeListenError(err, options);
  }
  let closing: Promise<void> | null = null;
  return {
    server,
    service,
    close() {
      closing ??= (async () => {
        await server.close();
        await service.dispose();
      })();
      return closing;
    },
  };
}

function describeListenError(err: unknown, options: HeadlessOptions): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new EmergentError('PORT_IN_USE', `Port ${options.port} is already in use. Choose another with --port, or --port 0 for any free port.`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new EmergentError('INVALID_INPUT', `Cannot listen on host ${options.host}: it is not an address of this machine.`);
  }
  if (err instanceof Error && err.message.includes('renderer is not built')) {
    return new EmergentError('RENDERER_NOT_BUILT', err.message);
  }
  return err;
}
