/**
 * `emergent chat`: an interactive chat in the terminal, kept in the same store as the app's
 * (the conversation shows up in the Chat panel). Replies stream as they are written; Ctrl+C
 * stops a reply (its text is kept), and Ctrl+C at the prompt, or twice, exits.
 *
 * Lines also come from a pipe (`echo "hi" | emergent chat --model m.gguf`): each is sent once
 * the previous reply has finished, and the command ends after the last one.
 */
import path from 'node:path';
import readline from 'node:readline';
import type { EventPayload, GenerationSettings } from '../../common/contract.js';
import { EmergentError } from '../../common/errors.js';
import { DATA_DIR_OPTION, HELP_OPTION, integerOption, numberOption, stringOption, type Command } from '../command.js';
import { openLocalCore, VERBOSE_OPTION, type LocalCore } from '../local-core.js';

const HELP_LINES = [
  'Type a message and press Enter. Commands:',
  '  /regen   write the last reply again (the old one is kept as a branch)',
  '  /new     start a new conversation',
  '  /exit    leave (Ctrl+D, or Ctrl+C at the prompt, too)',
];

type Outcome = { kind: 'done'; payload: EventPayload<'run.done'> } | { kind: 'error'; payload: EventPayload<'run.error'> };

export const chatCommand: Command = {
  name: 'chat',
  summary: 'Chat with a model in the terminal; the conversation is saved like the app’s.',
  usage: 'emergent chat --model FILE [--system TEXT] [--conversation ID] [--max-tokens N] [--temperature T] [--seed S] [--context-size N]',
  options: {
    model: { type: 'string', valueName: 'FILE', description: 'The GGUF model file.' },
    system: { type: 'string', valueName: 'TEXT', description: 'A system prompt for a new conversation.' },
    conversation: { type: 'string', valueName: 'ID', description: 'Go on with a saved conversation (its model is used when --model is left out).' },
    'max-tokens': { type: 'string', valueName: 'N', description: 'Longest reply, in tokens (default 512).' },
    temperature: { type: 'string', valueName: 'T', description: '0 is greedy; higher is more varied (default 0.8).' },
    seed: { type: 'string', valueName: 'S', description: 'Seed for reproducible sampling.' },
    'context-size': { type: 'string', valueName: 'N', description: "Context size in tokens (default: the model's, at most 4096)." },
    ...DATA_DIR_OPTION,
    ...VERBOSE_OPTION,
    ...HELP_OPTION,
  },
  details: [...HELP_LINES, '', 'Replies go to standard output; prompts, speeds and notes to standard error.'].join('\n'),
  async run(args) {
    const modelOption = stringOption(args, 'model');
    const resume = stringOption(args, 'conversation');
    if (modelOption === undefined && resume === undefined) {
      throw new EmergentError('INVALID_INPUT', '--model FILE is required (or --conversation ID to go on with one). See `emergent chat --help`.');
    }
    const settings: GenerationSettings = {};
    const maxTokens = integerOption(args, 'max-tokens', 1, 131_072);
    if (maxTokens !== undefined) settings.maxTokens = maxTokens;
    const temperature = numberOption(args, 'temperature', 0, 5);
    if (temperature !== undefined) settings.temperature = temperature;
    const seed = integerOption(args, 'seed', 0, 2 ** 32 - 1);
    if (seed !== undefined) settings.seed = seed;
    const contextSize = integerOption(args, 'context-size', 16, 1_048_576);

    const core = await openLocalCore(args);
    try {
      return await new TerminalChat(core, { modelOption, resume, system: stringOption(args, 'system'), settings, contextSize }).run();
    } finally {
      await core.close();
    }
  },
};

interface ChatOptions {
  modelOption: string | undefined;
  resume: string | undefined;
  system: string | undefined;
  settings: GenerationSettings;
  contextSize: number | undefined;
}

class TerminalChat {
  private conversationId = '';
  private modelPath = '';
  /** The run being streamed, and how it ends. */
  private current: { runId: string; stopping: boolean; ended: Promise<Outcome>; end: (outcome: Outcome) => void } | null = null;
  private readonly outcomes = new Map<string, Outcome>();
  private readonly interactive = process.stdin.isTTY === true;
  private exitRequested = false;

  constructor(
    private readonly core: LocalCore,
    private readonly options: ChatOptions,
  ) {}

  async run(): Promise<number> {
    const { client } = this.core;
    client.on('run.delta', (delta) => {
      if (delta.runId === this.current?.runId) process.stdout.write(delta.text);
    });
    const settle = (outcome: Outcome) => {
      if (outcome.payload.runId === this.current?.runId) this.current.end(outcome);
      else this.outcomes.set(outcome.payload.runId, outcome);
    };
    client.on('run.done', (payload) => settle({ kind: 'done', payload }));
    client.on('run.error', (payload) => settle({ kind: 'error', payload }));

    await this.open();
    const lines = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: this.interactive });
    // Ctrl+C: stop the reply being written; at the prompt, or a second time, leave.
    const onInterrupt = () => {
      if (this.current !== null && !this.current.stopping) {
        this.current.stopping = true;
        void client.tryCall('runs.cancel', { runId: this.current.runId });
        return;
      }
      this.exitRequested = true;
      lines.close();
    };
    lines.on('SIGINT', onInterrupt);
    process.on('SIGINT', onInterrupt);
    try {
      this.prompt(lines);
      for await (const line of lines) {
        const text = line.trim();
        if (text === '/exit' || text === '/quit') break;
        if (text === '/help') process.stderr.write(`${HELP_LINES.join('\n')}\n`);
        else if (text === '/new') await this.newConversation();
        else if (text === '/regen') await this.regenerate();
        else if (text !== '') await this.send(text);
        if (this.exitRequested) break;
        this.prompt(lines);
      }
    } finally {
      process.off('SIGINT', onInterrupt);
      lines.close();
    }
    process.stderr.write(`\nSaved as conversation ${this.conversationId}.\n`);
    return 0;
  }

  private async open(): Promise<void> {
    const { client } = this.core;
    if (this.options.resume !== undefined) {
      const { conversation } = await client.call('conversations.get', { id: this.options.resume });
      this.conversationId = conversation.id;
      this.modelPath = this.options.modelOption === undefined ? (conversation.modelPath ?? '') : path.resolve(this.options.modelOption);
      if (this.modelPath === '') throw new EmergentError('NO_MODEL_CHOSEN', 'That conversation has no model; give one with --model FILE.');
    } else {
      this.modelPath = path.resolve(this.options.modelOption ?? '');
    }
    process.stderr.write(`Loading ${path.basename(this.modelPath)}…\n`);
    const model = await client.call('models.load', { path: this.modelPath, ...(this.options.contextSize === undefined ? {} : { contextSize: this.options.contextSize }) });
    process.stderr.write(`${model.name}: ${model.contextSize.toLocaleString('en')} tokens of context, ${model.threads} thread${model.threads === 1 ? '' : 's'}. /help for commands.\n`);
    if (this.options.resume === undefined) await this.newConversation();
    else await this.configure(undefined);
  }

  private async newConversation(): Promise<void> {
    const conversation = await this.core.client.call('conversations.create', {});
    this.conversationId = conversation.id;
    await this.configure(this.options.system ?? '');
    process.stderr.write(`New conversation ${conversation.id}.\n`);
  }

  private async configure(systemPrompt: string | undefined): Promise<void> {
    const { conversation } = await this.core.client.call('conversations.get', { id: this.conversationId });
    await this.core.client.call('conversations.configure', {
      id: this.conversationId,
      modelPath: this.modelPath,
      ...(systemPrompt === undefined ? {} : { systemPrompt }),
      sampling: { ...conversation.sampling, ...this.options.settings },
    });
  }

  private async send(content: string): Promise<void> {
    const result = await this.core.client.tryCall('chat.send', { conversationId: this.conversationId, content });
    if (!result.ok) return this.report(result.error);
    if (result.value.droppedMessages > 0) {
      process.stderr.write(`(The ${result.value.droppedMessages} oldest messages were left out to fit the context.)\n`);
    }
    await this.stream(result.value.runId);
  }

  private async regenerate(): Promise<void> {
    const { path: messages } = await this.core.client.call('conversations.get', { id: this.conversationId });
    const last = messages.findLast((message) => message.role === 'assistant');
    if (last === undefined) {
      process.stderr.write('There is no reply to write again yet.\n');
      return;
    }
    const result = await this.core.client.tryCall('chat.regenerate', { conversationId: this.conversationId, messageId: last.id });
    if (!result.ok) return this.report(result.error);
    await this.stream(result.value.runId);
  }

  private async stream(runId: string): Promise<void> {
    let end: (outcome: Outcome) => void = () => {};
    const ended = new Promise<Outcome>((resolve) => (end = resolve));
    this.current = { runId, stopping: false, ended, end };
    const early = this.outcomes.get(runId);
    if (early) end(early);
    this.outcomes.delete(runId);
    const outcome = await ended;
    this.current = null;
    process.stdout.write('\n');
    if (outcome.kind === 'error') {
      this.report(outcome.payload.error);
      return;
    }
    const { metrics, stopReason } = outcome.payload;
    const speed = metrics.tokensPerSecond === null ? '' : `, ${metrics.tokensPerSecond.toFixed(1)} tok/s`;
    const reason = stopReason === 'cancelled' ? 'stopped' : stopReason === 'contextFull' ? 'the context is full' : stopReason;
    process.stderr.write(`[${metrics.generatedTokens} tokens${speed}; ${reason}]\n`);
  }

  private prompt(lines: readline.Interface): void {
    if (this.interactive) {
      lines.setPrompt('you> ');
      lines.prompt();
    }
  }

  private report(error: { code: string; message: string }): void {
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
  }
}
