import fs from 'node:fs';
import { EmergentError } from '../../common/errors.js';
import { DATA_DIR_OPTION, HELP_OPTION, integerOption, stringOption, type Command } from '../command.js';
import { openLocalCore, VERBOSE_OPTION } from '../local-core.js';

export const perplexityCommand: Command = {
  name: 'perplexity',
  summary: 'Perplexity of a text file under a model (lower: the model finds the text more likely).',
  usage: 'emergent perplexity --model FILE --text FILE [--window N] [--json]',
  options: {
    model: { type: 'string', valueName: 'FILE', description: 'The GGUF model file.' },
    text: { type: 'string', valueName: 'FILE', description: 'A UTF-8 text file to score.' },
    window: { type: 'string', valueName: 'N', description: 'Tokens of context per window (default: the context size).' },
    threads: { type: 'string', valueName: 'N', description: 'CPU threads (default: chosen from the cores and the model size).' },
    json: { type: 'boolean', description: 'Print one JSON object.' },
    ...DATA_DIR_OPTION,
    ...VERBOSE_OPTION,
    ...HELP_OPTION,
  },
  async run(args) {
    const modelPath = stringOption(args, 'model');
    const textPath = stringOption(args, 'text');
    if (modelPath === undefined || textPath === undefined) {
      throw new EmergentError('INVALID_INPUT', '--model FILE and --text FILE are required. See `emergent perplexity --help`.');
    }
    let text: string;
    try {
      text = fs.readFileSync(textPath, 'utf8');
    } catch {
      throw new EmergentError('INVALID_INPUT', `Cannot read the text file ${textPath}.`);
    }
    const window = integerOption(args, 'window', 2, 1_048_576);
    const threads = integerOption(args, 'threads', 1, 256);
    const core = await openLocalCore(args);
    try {
      const model = await core.client.call('models.load', { path: modelPath, ...(threads === undefined ? {} : { threads }) });
      const result = await core.client.call('engine.perplexity', { model: model.id, text, ...(window === undefined ? {} : { window }) });
      if (args.values['json'] === true) {
        process.stdout.write(`${JSON.stringify({ model: { id: model.id, name: model.name, path: model.path }, ...result }, null, 2)}\n`);
      } else {
        process.stdout.write(
          `perplexity ${result.perplexity.toFixed(4)} over ${result.scoredTokens} tokens ` +
            `(${result.windows} window${result.windows === 1 ? '' : 's'}, ${(result.ms / 1000).toFixed(2)} s)\n`,
        );
      }
      return 0;
    } finally {
      await core.close();
    }
  },
};
