import type { EventPayload, RunStart, TokenProbability } from '../../common/contract.js';
import { EmergentError } from '../../common/errors.js';
import { DATA_DIR_OPTION, HELP_OPTION, integerOption, numberOption, stringOption, type Command } from '../command.js';
import { openLocalCore, VERBOSE_OPTION } from '../local-core.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'Generate text with a model and stream it to standard output.',
  usage:
    'emergent run --model FILE --prompt TEXT [--system TEXT] [--max-tokens N] [--temperature T] [--seed S] ' +
    '[--threads N] [--probabilities K] [--json]',
  options: {
    model: { type: 'string', valueName: 'FILE', description: 'The GGUF model file.' },
    prompt: { type: 'string', valueName: 'TEXT', description: 'The text to continue, or with --system/--chat, your message.' },
    system: { type: 'string', valueName: 'TEXT', description: "A system prompt; the prompt is then sent through the model's chat template." },
    chat: { type: 'boolean', description: "Send the prompt through the model's chat template (implied by --system)." },
    'max-tokens': { type: 'string', valueName: 'N', description: 'Stop after N generated tokens (default 512).' },
    temperature: { type: 'string', valueName: 'T', description: '0 is greedy; higher is more varied (default 0.8).' },
    'top-k': { type: 'string', valueName: 'K', description: 'Sample from the K most likely tokens (default 40).' },
    'top-p': { type: 'string', valueName: 'P', description: 'Nucleus sampling threshold (default 0.95).' },
    'min-p': { type: 'string', valueName: 'P', description: 'Drop tokens less likely than P times the best (default 0.05).' },
    'repeat-penalty': { type: 'string', valueName: 'R', description: 'Penalty for repeating recent tokens; 1 is off (default 1.1).' },
    seed: { type: 'string', valueName: 'S', description: 'Seed for reproducible sampling.' },
    stop: { type: 'string', valueName: 'TEXT', description: 'Stop before this text (may be given several times with a comma list).' },
    threads: { type: 'string', valueName: 'N', description: 'CPU threads (default: chosen from the cores and the model size).' },
    'context-size': { type: 'string', valueName: 'N', description: 'Context size in tokens (default: the model\'s, at most 4096).' },
    probabilities: { type: 'string', valueName: 'K', description: 'Report each token\'s probability and the top K alternatives.' },
    json: { type: 'boolean', description: 'Print one JSON object (text, tokens, metrics) instead of streaming.' },
    ...DATA_DIR_OPTION,
    ...VERBOSE_OPTION,
    ...HELP_OPTION,
  },
  details:
    'Without --system or --chat the model continues the prompt as plain text. Exit status 0 when the run\n' +
    'finishes (also when stopped with Ctrl+C), 1 with `error CODE: message` on standard error when it fails.',
  async run(args) {
    const modelPath = stringOption(args, 'model');
    const prompt = stringOption(args, 'prompt');
    if (modelPath === undefined) throw new EmergentError('INVALID_INPUT', '--model FILE is required. See `emergent run --help`.');
    if (prompt === undefined) throw new EmergentError('INVALID_INPUT', '--prompt TEXT is required. See `emergent run --help`.');
    const system = stringOption(args, 'system');
    const chat = system !== undefined || args.values['chat'] === true;
    const json = args.values['json'] === true;
    const probabilities = integerOption(args, 'probabilities', 0, 20);
    const threads = integerOption(args, 'threads', 1, 256);
    const contextSize = integerOption(args, 'context-size', 16, 1_048_576);
    const sampling: NonNullable<RunStart['sampling']> = {};
    const temperature = numberOption(args, 'temperature', 0, 5);
    if (temperature !== undefined) sampling.temperature = temperature;
    const topK = integerOption(args, 'top-k', 0, 1000);
    if (topK !== undefined) sampling.topK = topK;
    const topP = numberOption(args, 'top-p', 0.001, 1);
    if (topP !== undefined) sampling.topP = topP;
    const minP = numberOption(args, 'min-p', 0, 1);
    if (minP !== undefined) sampling.minP = minP;
    const repeatPenalty = numberOption(args, 'repeat-penalty', 1, 5);
    if (repeatPenalty !== undefined) sampling.repeatPenalty = repeatPenalty;
    const seed = integerOption(args, 'seed', 0, 2 ** 32 - 1);
    if (seed !== undefined) sampling.seed = seed;
    const stop = stringOption(args, 'stop')?.split(',').filter((item) => item !== '');
    const maxTokens = integerOption(args, 'max-tokens', 1, 131_072);

    const core = await openLocalCore(args);
    try {
      const model = await core.client.call('models.load', {
        path: modelPath,
        ...(threads === undefined ? {} : { threads }),
        ...(contextSize === undefined ? {} : { contextSize }),
      });
      const request: RunStart = {
        model: model.id,
        ...(chat
          ? { messages: [...(system === undefined ? [] : [{ role: 'system' as const, content: system }]), { role: 'user' as const, content: prompt }] }
          : { prompt }),
        sampling,
        ...(maxTokens === undefined ? {} : { maxTokens }),
        ...(stop && stop.length > 0 ? { stop } : {}),
        ...(probabilities === undefined ? {} : { probabilities }),
      };

      const tokens: TokenProbability[] = [];
      let runId: string | null = null;
      const finished = new Promise<EventPayload<'run.done'>>((resolve, reject) => {
        core.client.on('run.delta', (delta) => {
          if (delta.runId !== runId) return;
          if (delta.tokens) tokens.push(...delta.tokens);
          if (!json) process.stdout.write(delta.text);
        });
        core.client.on('run.done', (done) => {
          if (done.runId === runId) resolve(done);
        });
        core.client.on('run.error', (failure) => {
          if (failure.runId !== runId) return;
          if (!json && failure.text !== '') process.stdout.write('\n');
          reject(new EmergentError(failure.error.code as EmergentError['code'], failure.error.message));
        });
      });
      ({ runId } = await core.client.call('runs.start', request));

      // Ctrl+C stops the answer (keeping its text); a second Ctrl+C exits at once.
      let interrupted = false;
      const onInterrupt = () => {
        if (interrupted) process.exit(130);
        interrupted = true;
        if (runId !== null) void core.client.call('runs.cancel', { runId });
      };
      process.on('SIGINT', onInterrupt);
      try {
        const done = await finished;
        if (json) {
          const output = {
            model: { id: model.id, name: model.name, path: model.path },
            text: done.text,
            stopReason: done.stopReason,
            metrics: done.metrics,
            ...(probabilities !== undefined && probabilities > 0 ? { tokens } : {}),
          };
          process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
        } else {
          process.stdout.write('\n');
          const m = done.metrics;
          const speed = m.tokensPerSecond === null ? '' : `, ${m.tokensPerSecond.toFixed(1)} tok/s`;
          process.stderr.write(`[${m.generatedTokens} tokens${speed}, stopped: ${done.stopReason}]\n`);
        }
      } finally {
        process.off('SIGINT', onInterrupt);
      }
      return 0;
    } finally {
      await core.close();
    }
  },
};
