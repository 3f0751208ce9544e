import { defaultDataDir } from '../../core/paths.js';
import { startHeadless } from '../../server/headless.js';
import { DATA_DIR_OPTION, HELP_OPTION, integerOption, stringOption, type Command } from '../command.js';
import { openBrowser } from '../open-browser.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the whole workbench to your browser (and the contract over WebSocket) on this machine.',
  usage: 'emergent serve [--port N] [--host 127.0.0.1] [--data-dir DIR] [--no-open]',
  options: {
    port: { type: 'string', valueName: 'N', description: 'Port to listen on; 0 picks a free one (default 0).' },
    host: { type: 'string', valueName: 'HOST', description: 'Address to bind (default 127.0.0.1, this machine only).' },
    ...DATA_DIR_OPTION,
    'no-open': { type: 'boolean', description: 'Do not open a browser.' },
    ...HELP_OPTION,
  },
  details:
    'Prints one line, `Emergent is running at http://HOST:PORT/?token=TOKEN`, on standard output.\n' +
    'The token changes at every launch; requests without it are refused. Ctrl+C stops the server.',
  async run(args) {
    const port = integerOption(args, 'port', 0, 65535) ?? 0;
    const host = stringOption(args, 'host') ?? '127.0.0.1';
    const dataDir = stringOption(args, 'data-dir') ?? defaultDataDir();
    if (!LOOPBACK.has(host)) {
      process.stderr.write(
        `Warning: listening on ${host} lets other machines that can reach it use Emergent (with the token).\n`,
      );
    }
    const shell = await startHeadless({ dataDir, host, port });
    process.stdout.write(`Emergent is running at ${shell.server.url}\n`);
    process.stderr.write(`Data: ${dataDir}\n`);
    if (args.values['no-open'] !== true) openBrowser(shell.server.url);

    // Our handlers stay installed until the shell is closed: node-llama-cpp's dependencies use
    // signal-exit, which re-raises a signal (exit 143) once it is the only listener left.
    let onSignal: () => void = () => {};
    await new Promise<void>((resolve) => {
      onSignal = resolve;
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    process.stderr.write('Stopping Emergent...\n');
    await shell.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return 0;
  },
};
