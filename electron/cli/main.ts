/**
 * `emergent`: the command line on the same core as the app.
 */
import { EmergentError, isErrorCode } from '../common/errors.js';
import { readPackageVersion } from '../core/version.js';
import { formatCommandHelp, parseCommandArgs, resolveSubcommand, type Command } from './command.js';
import { chatCommand } from './commands/chat.js';
import { backupCommand, exportCommand, importCommand, runsCommand, searchCommand } from './commands/data.js';
import { makeModelCommand } from './commands/make-model.js';
import { modelsCommand } from './commands/models-inspect.js';
import { perplexityCommand } from './commands/perplexity.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';

export const COMMANDS: readonly Command[] = [
  serveCommand,
  runCommand,
  chatCommand,
  perplexityCommand,
  modelsCommand,
  makeModelCommand,
  runsCommand,
  searchCommand,
  exportCommand,
  importCommand,
  backupCommand,
];

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'Usage: emergent <command> [options]',
    '',
    'Emergent: an offline workbench for local language models.',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  --version   Print the version.',
    '  --help      Show this help; `emergent <command> --help` shows a command\'s.',
    '',
  ].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const top = first === 'help' ? COMMANDS.find((command) => command.name === rest[0]) : undefined;
    const named = top && resolveSubcommand(top, rest.slice(1)).command;
    process.stdout.write(named ? formatCommandHelp(named) : generalHelp());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${readPackageVersion()}\n`);
    return 0;
  }
  const top = COMMANDS.find((candidate) => candidate.name === first);
  if (!top) {
    throw new EmergentError('INVALID_INPUT', `Unknown command ${JSON.stringify(first)}. Run \`emergent --help\` for the list.`);
  }
  const { command, argv: commandArgv } = resolveSubcommand(top, rest);
  const args = parseCommandArgs(command, commandArgv);
  if (args.values['help'] === true) {
    process.stdout.write(formatCommandHelp(command));
    return 0;
  }
  return command.run(args);
}

/** Errors go to stderr as `error CODE: message` (scripts match on the code) with exit status 1. */
export function reportCliError(err: unknown): number {
  if (err instanceof EmergentError || (err instanceof Error && isErrorCode((err as { code?: unknown }).code))) {
    const code = (err as EmergentError).code;
    process.stderr.write(`error ${code}: ${err.message}\n`);
    return code === 'INVALID_INPUT' ? 2 : 1;
  }
  process.stderr.write(`error INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}
