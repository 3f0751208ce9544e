/**
 * Engine benchmarks: the app path (contract call -> engine -> coalesced events) against bare
 * node-llama-cpp on the same model and settings, in the same process and run.
 */
import os from 'node:os';
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { ContractClient } from '../electron/common/client.js';
import type { ChatMessage, EventPayload, RunStart } from '../electron/common/contract.js';
import { createMemoryTransport } from '../electron/common/memory-transport.js';
import { createService, type Service } from '../electron/core/service.js';
import { median, type BenchSection } from './report.js';

const GREEDY = { temperature: 0, repeatPenalty: 1 } as const;

export interface EngineBenchOptions {
  modelPath: string;
  repeats: number;
  generateTokens: number;
  dataDir: string;
}

interface Timed {
  ttftMs: number;
  totalMs: number;
  tokens: number;
}

/** One app-path run, timed from outside as a client sees it. */
async function appRun(client: ContractClient, request: RunStart): Promise<Timed & { done: EventPayload<'run.done'> }> {
  let runId = '';
  let firstDeltaAt: number | null = null;
  let resolveDone: (done: EventPayload<'run.done'>) => void = () => {};
  let rejectDone: (err: Error) => void = () => {};
  const done = new Promise<EventPayload<'run.done'>>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const stops = [
    client.on('run.delta', (delta) => {
      if (delta.runId === runId) firstDeltaAt ??= performance.now();
    }),
    client.on('run.done', (event) => {
      if (event.runId === runId) resolveDone(event);
    }),
    client.on('run.error', (event) => {
      if (event.runId === runId) rejectDone(new Error(`${event.error.code}: ${event.error.message}`));
    }),
  ];
  const started = performance.now();
  try {
    ({ runId } = await client.call('runs.start', request));
    const result = await done;
    const finished = performance.now();
    return { ttftMs: (firstDeltaAt ?? finished) - started, totalMs: finished - started, tokens: result.metrics.generatedTokens, done: result };
  } finally {
    for (const stop of stops) stop();
  }
}

/** One bare LlamaCompletion run, timed the same way. */
async function bareRun(completion: LlamaCompletion, prompt: string, maxTokens: number): Promise<Timed> {
  let first: number | null = null;
  let tokens = 0;
  const started = performance.now();
  await completion.generateCompletion(prompt, {
    maxTokens,
    temperature: 0,
    repeatPenalty: false,
    onToken: (chunk) => {
      first ??= performance.now();
      tokens += chunk.length;
    },
  });
  const finished = performance.now();
  return { ttftMs: (first ?? finished) - started, totalMs: finished - started, tokens };
}

const tokensPerSecond = (run: Timed) => run.tokens / (run.totalMs / 1000);

async function bareTokensPerSecond(model: LlamaModel, threads: number | undefined, prompt: string, maxTokens: number, repeats: number): Promise<number> {
  const context = await model.createContext({ contextSize: 512, sequences: 1, ...(threads === undefined ? {} : { threads }) });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const speeds: number[] = [];
    for (let i = 0; i < repeats; i++) speeds.push(tokensPerSecond(await bareRun(completion, `${i} ${prompt}`, maxTokens)));
    return median(speeds);
  } finally {
    await context.dispose();
  }
}

export async function benchEngine(options: EngineBenchOptions): Promise<BenchSection[]> {
  const { modelPath, repeats, generateTokens } = options;
  const prompt = 'Once upon a time, there was a little';

  // Start-up: import -> engine ready, as the app pays it.
  const startupStarted = performance.now();
  const service: Service = await createService({ dataDir: options.dataDir, shell: 'headless', engine: { gpu: false, log: () => {} } });
  await service.engine.start();
  const startupMs = performance.now() - startupStarted;
  const client = new ContractClient(createMemoryTransport(service.implementation, service.events));

  const llama: Llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  try {
    const loaded = await client.call('models.load', { path: modelPath, contextSize: 2048 });
    const threads = loaded.threads;
    const bareModel = await llama.loadModel({ modelPath });

    // 1. Generation throughput and time to first token, app path vs bare, same threads.
    const bareContext = await bareModel.createContext({ contextSize: 2048, sequences: 1, threads });
    const completion = new LlamaCompletion({ contextSequence: bareContext.getSequence() });
    await bareRun(completion, prompt, 8);
    await appRun(client, { model: loaded.id, prompt, sampling: GREEDY, maxTokens: 8 });
    const app: Timed[] = [];
    const bare: Timed[] = [];
    for (let i = 0; i < repeats; i++) {
      // Alternate, so drift in machine load hits both paths alike.
      bare.push(await bareRun(completion, `${i} ${prompt}`, generateTokens));
      app.push(await appRun(client, { model: loaded.id, prompt: `${i} ${prompt}`, sampling: GREEDY, maxTokens: generateTokens }));
    }
    await bareContext.dispose();
    const appSpeed = median(app.map(tokensPerSecond));
    const bareSpeed = median(bare.map(tokensPerSecond));
    const appTtft = median(app.map((run) => run.ttftMs));
    const bareTtft = median(bare.map((run) => run.ttftMs));

    // 2. Out-of-the-box threads (the engine's choice) vs the best found by sweeping, and the library default.
    const sweep: { threads: number; tokensPerSecond: number }[] = [];
    for (let t = 1; t <= Math.max(1, llama.cpuMathCores); t++) {
      sweep.push({ threads: t, tokensPerSecond: await bareTokensPerSecond(bareModel, t, prompt, generateTokens, Math.max(3, Math.ceil(repeats / 2))) });
    }
    const best = sweep.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
    const ours = sweep.find((entry) => entry.threads === threads)?.tokensPerSecond ?? 0;
    // The library default spins max(4, cores) threads; a few tokens are enough to see it.
    const libraryDefault = await bareTokensPerSecond(bareModel, undefined, prompt, 6, 1);

    // 3. Chat: the second turn evaluates only its new message, also after switching away and back.
    const turn = async (key: string, messages: ChatMessage[]) =>
      appRun(client, { model: loaded.id, messages, conversationKey: key, sampling: GREEDY, maxTokens: 16 });
    const systemPrompt: ChatMessage = { role: 'system', content: 'You are a helpful assistant who tells short stories to children.' };
    const firstUser: ChatMessage = { role: 'user', content: 'Tell me about a cat who lived in a small house near the sea.' };
    const secondUser: ChatMessage = { role: 'user', content: 'And what did the cat do the next morning?' };
    const turnTwo: EventPayload<'run.done'>[] = [];
    let turnOne: EventPayload<'run.done'> | null = null;
    for (let i = 0; i < repeats; i++) {
      // Each repeat starts from an empty context: only conversations A and B hold cells, as in use.
      await client.call('models.unload', { id: loaded.id });
      await client.call('models.load', { path: modelPath, contextSize: 2048 });
      const first = (await turn(`bench-a-${i}`, [systemPrompt, firstUser])).done;
      turnOne ??= first;
      await turn(`bench-b-${i}`, [systemPrompt, { role: 'user', content: 'Something else entirely, about a dog.' }]);
      turnTwo.push((await turn(`bench-a-${i}`, [systemPrompt, firstUser, { role: 'assistant', content: first.text }, secondUser])).done);
    }
    const turn2 = turnTwo[0] ?? (await turn('bench-a', [systemPrompt, firstUser])).done;
    const turn2Ttft = median(turnTwo.map((done) => done.metrics.timeToFirstTokenMs ?? Number.NaN));
    const newTokens = turn2.metrics.promptTokens - turn2.metrics.reusedPromptTokens;
    // What evaluating just those tokens costs on a bare sequence (plus sampling the first token).
    const newMessageOnly = await bareNewTokensTtft(bareModel, threads, turn2.metrics.reusedPromptTokens, newTokens, repeats);

    const loadStarted = performance.now();
    const reloadModel = await llama.loadModel({ modelPath });
    const loadMs = performance.now() - loadStarted;
    await reloadModel.dispose();
    await bareModel.dispose();

    return [
      {
        title: 'Generation: app path vs bare node-llama-cpp',
        note: `${generateTokens} tokens, greedy, ${threads} thread(s), median of ${repeats}; app path = contract call -> engine -> coalesced events, timed by the client`,
        rows: [
          { metric: 'generated tok/s (end to end)', app: appSpeed, bare: bareSpeed, ratio: appSpeed / bareSpeed, target: '>= 0.9' },
          { metric: 'time to first token, ms', app: appTtft, bare: bareTtft, ratio: appTtft / bareTtft, target: 'overhead <= 5 ms', extra: `overhead ${(appTtft - bareTtft).toFixed(2)} ms` },
        ],
      },
      {
        title: 'Threads: out of the box vs best',
        note: `bare LlamaCompletion, ${generateTokens} tokens; engine chose ${threads}; library default = node-llama-cpp's own (max(4, cores)), ${os.cpus().length} logical CPUs`,
        rows: [
          ...sweep.map((entry) => ({ metric: `threads ${entry.threads} tok/s`, app: entry.tokensPerSecond })),
          { metric: 'out of the box (engine choice) vs best', app: ours, bare: best.tokensPerSecond, ratio: ours / best.tokensPerSecond, target: '>= 0.9' },
          { metric: 'library default vs best', app: libraryDefault, bare: best.tokensPerSecond, ratio: libraryDefault / best.tokensPerSecond },
        ],
      },
      {
        title: 'Chat: second turn reuses the first',
        note: `on a freshly loaded model: conversation A turn 1, conversation B turn 1, then A turn 2 (switching away and back); median of ${repeats}; ${loaded.sequences} sequences per context`,
        rows: [
          { metric: 'turn 2 prompt tokens (reused)', app: turn2.metrics.promptTokens, extra: `${turn2.metrics.reusedPromptTokens} reused, ${newTokens} new` },
          { metric: 'turn 2 TTFT vs new message alone, ms', app: turn2Ttft, bare: newMessageOnly, ratio: turn2Ttft / newMessageOnly, target: '<= 1.2' },
          { metric: 'turn 1 TTFT, ms (whole prompt)', app: turnOne?.metrics.timeToFirstTokenMs ?? Number.NaN, extra: `${turnOne?.metrics.promptTokens ?? 0} tokens` },
        ],
      },
      {
        title: 'Start-up and load',
        note: 'engine ready = node-llama-cpp imported and llama.cpp bindings loaded',
        rows: [
          { metric: 'start-up to engine ready, ms', app: startupMs },
          { metric: 'model load, ms (app, incl. fit check and context)', app: loaded.loadMs },
          { metric: 'model load, ms (bare loadModel)', app: loadMs },
        ],
      },
    ];
  } finally {
    client.dispose();
    await service.dispose();
    await llama.dispose();
  }
}

/** Time to evaluate `count` new tokens after `prefix` already-evaluated ones, and sample one. */
async function bareNewTokensTtft(model: LlamaModel, threads: number, prefix: number, count: number, repeats: number): Promise<number> {
  const context = await model.createContext({ contextSize: 2048, sequences: 1, threads });
  try {
    const sequence = context.getSequence();
    const filler = model.tokenize('the cat sat on the mat and the dog ran to the sea. '.repeat(64)).slice(0, prefix + count);
    const prefixTokens = filler.slice(0, prefix) as Token[];
    const newTokens = filler.slice(prefix) as Token[];
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      await sequence.clearHistory();
      await sequence.evaluateWithoutGeneratingNewTokens(prefixTokens);
      const started = performance.now();
      const iterator = sequence.evaluate(newTokens, { temperature: 0 });
      await iterator.next();
      times.push(performance.now() - started);
      await iterator.return(undefined);
    }
    return median(times);
  } finally {
    await context.dispose();
  }
}
