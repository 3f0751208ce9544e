/**
 * The core as CLI commands use it: a service on the data dir, called through the contract's
 * client over the in-memory transport, so commands exercise the same validation as the app.
 */
import { ContractClient } from '../common/client.js';
import { createMemoryTransport } from '../common/memory-transport.js';
import { defaultDataDir } from '../core/paths.js';
import { createService, type Service } from '../core/service.js';
import { stringOption, type OptionSpec, type ParsedArgs } from './command.js';

export interface LocalCore {
  client: ContractClient;
  service: Service;
  close(): Promise<void>;
}

export const VERBOSE_OPTION: Record<string, OptionSpec> = {
  verbose: { type: 'boolean', description: "Also print llama.cpp's own log lines (to standard error)." },
};

export async function openLocalCore(args: ParsedArgs): Promise<LocalCore> {
  const dataDir = stringOption(args, 'data-dir') ?? defaultDataDir();
  const verbose = args.values['verbose'] === true;
  const service = await createService({
    dataDir,
    shell: 'cli',
    engine: { log: (level, message) => verbose && process.stderr.write(`[llama.cpp ${level}] ${message}\n`) },
  });
  const client = new ContractClient(createMemoryTransport(service.implementation, service.events));
  return {
    client,
    service,
    async close() {
      client.dispose();
      await service.dispose();
    },
  };
}
