/**
 * The shape every `emergent` command has: a name, a usage line, its options (for parsing and for
 * `--help`), and what it does. Options are parsed with node:util's parseArgs.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EmergentError } from '../common/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  valueName?: string;
  short?: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Longer text printed under the options by --help. */
  details?: string;
  /**
   * Commands under this one, named with their parent's name (`models inspect` under `models`) and
   * chosen by the word after it; see resolveSubcommand. The parent runs when no word matches.
   */
  subcommands?: readonly Command[];
  run(args: ParsedArgs): Promise<number>;
}

/** The command the leading words of `argv` name under `command`, and the arguments left for it. */
export function resolveSubcommand(command: Command, argv: readonly string[]): { command: Command; argv: string[] } {
  const [word, ...rest] = argv;
  const subcommand = command.subcommands?.find((candidate) => candidate.name === `${command.name} ${word}`);
  return subcommand ? resolveSubcommand(subcommand, rest) : { command, argv: [...argv] };
}

/** A command that only groups others: run without a known subcommand, it says which there are. */
export function commandGroup(name: string, summary: string, subcommands: readonly Command[]): Command {
  const words = subcommands.map((subcommand) => subcommand.name.slice(name.length + 1));
  return {
    name,
    summary,
    usage: `emergent ${name} <${words.join('|')}> ...`,
    options: { ...HELP_OPTION },
    subcommands,
    async run(args) {
      const [word] = args.positionals;
      const known = words.map((candidate) => `\`emergent ${name} ${candidate}\``).join(', ');
      throw new EmergentError(
        'INVALID_INPUT',
        `${word === undefined ? 'Name a command' : `Unknown command "${name} ${word}"`}: ${known}. See \`emergent ${name} --help\`.`,
      );
    },
  };
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new EmergentError('INVALID_INPUT', `${message}\nSee \`emergent ${command.name} --help\`.`);
  }
}

export function formatCommandHelp(command: Command): string {
  const lines = [`Usage: ${command.usage}`, '', command.summary, ''];
  const entries = Object.entries(command.options);
  if (entries.length > 0) {
    lines.push('Options:');
    const labels = entries.map(([name, spec]) => {
      const flag = `${spec.short === undefined ? '' : `-${spec.short}, `}--${name}`;
      return spec.type === 'string' ? `${flag} ${spec.valueName ?? 'VALUE'}` : flag;
    });
    const width = Math.max(...labels.map((label) => label.length));
    entries.forEach(([, spec], index) => {
      lines.push(`  ${(labels[index] ?? '').padEnd(width)}  ${spec.description}`);
    });
    lines.push('');
  }
  if (command.subcommands !== undefined && command.subcommands.length > 0) {
    const width = Math.max(...command.subcommands.map((subcommand) => subcommand.name.length));
    lines.push('Commands:', ...command.subcommands.map((subcommand) => `  ${subcommand.name.padEnd(width)}  ${subcommand.summary}`), '');
  }
  if (command.details !== undefined) lines.push(command.details, '');
  return lines.join('\n');
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function integerOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EmergentError('INVALID_INPUT', `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}.`);
  }
  return value;
}

export const HELP_OPTION: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'Show this help.' },
};

export const DATA_DIR_OPTION: Record<string, OptionSpec> = {
  'data-dir': {
    type: 'string',
    valueName: 'DIR',
    description: 'Where Emergent keeps its data (default: $EMERGENT_DATA_DIR, else the desktop app\'s folder).',
  },
};

export function numberOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new EmergentError('INVALID_INPUT', `--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(text)}.`);
  }
  return value;
}
