import type { ModelInspection } from '../../common/contract.js';
import { EmergentError } from '../../common/errors.js';
import { formatBytes } from '../../common/format.js';
import { commandGroup, DATA_DIR_OPTION, HELP_OPTION, integerOption, type Command } from '../command.js';
import { openLocalCore, VERBOSE_OPTION } from '../local-core.js';

export const modelsInspectCommand: Command = {
  name: 'models inspect',
  summary: 'What a GGUF file holds and the memory it would need here, without loading it.',
  usage: 'emergent models inspect FILE [--context-size N] [--json]',
  options: {
    'context-size': { type: 'string', valueName: 'N', description: "Estimate for a context of N tokens (default: the model's, at most 4096)." },
    json: { type: 'boolean', description: 'Print one JSON object (every field, all metadata) instead of a summary.' },
    ...DATA_DIR_OPTION,
    ...VERBOSE_OPTION,
    ...HELP_OPTION,
  },
  details: 'A file that cannot be used ends with `error CODE: message` on standard error and exit status 1.',
  async run(args) {
    const [file, ...extra] = args.positionals;
    if (file === undefined) throw new EmergentError('INVALID_INPUT', 'Name the model file: `emergent models inspect FILE`.');
    if (extra.length > 0) throw new EmergentError('INVALID_INPUT', `Inspect one file at a time; ${JSON.stringify(extra[0])} is one too many.`);
    const contextSize = integerOption(args, 'context-size', 16, 1_048_576);
    const core = await openLocalCore(args);
    try {
      const inspection = await core.client.call('models.inspect', { path: file, ...(contextSize === undefined ? {} : { contextSize }) });
      process.stdout.write(args.values['json'] === true ? `${JSON.stringify(inspection, null, 2)}\n` : formatInspection(inspection));
      return 0;
    } finally {
      await core.close();
    }
  },
};

export const modelsCommand: Command = commandGroup('models', 'Look into model files.', [modelsInspectCommand]);

/** The summary a person reads: what the model is, then whether it fits. */
export function formatInspection(inspection: ModelInspection): string {
  const { estimate } = inspection;
  const rows: [string, string][] = [
    ['file', `${inspection.path} (${formatBytes(inspection.sizeBytes)})`],
    ['architecture', inspection.architecture],
    ['parameters', inspection.parameters === null ? 'unknown' : formatCount(inspection.parameters)],
    ['quantization', inspection.fileType ?? 'not stated'],
    ['context', `trained on ${inspection.trainedContextSize} tokens`],
    [
      'shape',
      `${inspection.blockCount} block${inspection.blockCount === 1 ? '' : 's'}, width ${inspection.embeddingLength}, ` +
        `vocabulary ${inspection.vocabularySize}, ${inspection.tensorCount} tensors`,
    ],
    ['chat template', inspection.hasChatTemplate ? 'yes' : 'no'],
    ['memory', `${estimate.summary} (${estimate.contextSize}-token context)${estimate.fits ? '' : ': does not fit'}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [inspection.name, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), ''].join('\n');
}

/** 970426368 -> "970.4M", 24736 -> "24.7K". */
function formatCount(count: number): string {
  for (const [unit, size] of [['B', 1e9], ['M', 1e6], ['K', 1e3]] as const) {
    if (count >= size) return `${(count / size).toFixed(1)}${unit}`;
  }
  return String(count);
}
