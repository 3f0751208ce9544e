/**
 * The engine through the contract, on real llama.cpp running models the project builds
 * itself. The bigram model's greedy output is known in advance (electron/core/models), so
 * every generated character is checked against an oracle computed in plain TypeScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractClient } from '../../electron/common/client.js';
import { createMemoryTransport } from '../../electron/common/memory-transport.js';
import { bigramGreedyChain, bigramPerplexity } from '../../electron/core/models/bigram-model.js';
import { createService, type Service } from '../../electron/core/service.js';
import { GREEDY, runToEnd, writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const CORPUS =
  'the cat sat on the mat. the dog ran to the cat. a hat is on the cat and the dog has a bone.\n' +
  'what a day it is for the cat and the dog!\n';
/** Greedy decoding of this one loops forever ("ab ab ab..."), for runs that must be cut short. */
const LOOPING_CORPUS = 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc';

let service: Service;
let client: ContractClient;
let modelPath: string;
let loopingModelPath: string;

beforeAll(async () => {
  service = await createService({ dataDir: tempDir(), shell: 'headless', engine: { gpu: false, log: () => {} } });
  client = new ContractClient(createMemoryTransport(service.implementation, service.events));
  modelPath = await writeBigramModel(CORPUS, 'animals');
  loopingModelPath = await writeBigramModel(LOOPING_CORPUS, 'looping', 4096);
});

afterAll(async () => {
  await service.dispose();
});

describe('loading', () => {
  it('inspects a model before loading it: metadata and the memory it needs', async () => {
    const inspection = await client.call('models.inspect', { path: modelPath });
    expect(inspection).toMatchObject({ name: 'animals', architecture: 'llama', hasChatTemplate: true, blockCount: 1 });
    expect(inspection.vocabularySize).toBe(3 + 256 + new Set(CORPUS).size);
    expect(inspection.estimate.fits).toBe(true);
    expect(inspection.estimate.modelRamBytes).toBeGreaterThan(0);
    expect(inspection.estimate.summary).toMatch(/needs .* free/);
    await expect(client.tryCall('models.inspect', { path: '/no/such.gguf' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'MODEL_NOT_FOUND' },
    });
  });

  it('loads a model with the engine choosing 1 thread for a tiny model', async () => {
    const model = await client.call('models.load', { path: modelPath });
    expect(model).toMatchObject({ name: 'animals', architecture: 'llama', threads: 1 });
    expect(model.sequences).toBeGreaterThanOrEqual(2);
    expect((await client.call('models.loaded', {})).map((loaded) => loaded.id)).toContain(model.id);
    const status = await client.call('engine.status', {});
    expect(status.loadedModels).toContainEqual({ id: model.id, name: 'animals' });
  });

  it('loading the same file twice returns the same model', async () => {
    const first = await client.call('models.load', { path: modelPath });
    const second = await client.call('models.load', { path: `${modelPath}/../${modelPath.split('/').pop() ?? ''}` });
    expect(second.id).toBe(first.id);
  });
});

describe('generation', () => {
  it('follows the bigram argmax chain character for character', async () => {
    for (const prompt of ['the ', 'a h', 'what', 'd', 'xyz', 'the cat and the dog ']) {
      const outcome = await runToEnd(client, { model: modelPath, prompt, sampling: GREEDY, maxTokens: 60 });
      expect(outcome.error).toBeNull();
      const expected = bigramGreedyChain(CORPUS, prompt, 60);
      expect(outcome.done?.text, `prompt ${JSON.stringify(prompt)}`).toBe(expected);
      expect(outcome.streamed).toBe(expected);
    }
  });

  it('stops at the end of the text and says so (not maxTokens)', async () => {
    const ending = await writeBigramModel('ab.\n', 'ending');
    const outcome = await runToEnd(client, { model: ending, prompt: 'a', sampling: GREEDY, maxTokens: 50 });
    expect(outcome.done?.text).toBe(bigramGreedyChain('ab.\n', 'a', 50));
    expect(outcome.done?.text).toBe('b.\n');
    expect(outcome.done?.stopReason).toBe('endOfText');
    expect(outcome.done?.metrics.generatedTokens).toBe(3);
  });

  it('stops at max tokens and says so', async () => {
    const outcome = await runToEnd(client, { model: loopingModelPath, prompt: 'a', sampling: GREEDY, maxTokens: 7 });
    expect(outcome.done?.stopReason).toBe('maxTokens');
    expect(outcome.done?.metrics.generatedTokens).toBe(7);
    expect(outcome.done?.text).toBe(bigramGreedyChain(LOOPING_CORPUS, 'a', 7));
  });

  it('stops before a stop sequence and leaves it out', async () => {
    const expected = bigramGreedyChain(CORPUS, 'the ', 60);
    const stop = expected.slice(6, 9);
    const outcome = await runToEnd(client, { model: modelPath, prompt: 'the ', sampling: GREEDY, maxTokens: 60, stop: [stop] });
    expect(outcome.done?.stopReason).toBe('stopSequence');
    expect(outcome.done?.text).toBe(expected.slice(0, expected.indexOf(stop)));
    expect(outcome.streamed).toBe(outcome.done?.text);
  });

  it('reproduces a sampled run with the same seed, and varies with another', async () => {
    const sample = (seed: number) =>
      runToEnd(client, { model: modelPath, prompt: 'the ', sampling: { temperature: 1.5, topK: 0, topP: 1, minP: 0, seed }, maxTokens: 40 });
    const [a, b, c] = [await sample(7), await sample(7), await sample(8)];
    expect(a.done?.text).toBe(b.done?.text);
    expect(a.done?.text).not.toBe(c.done?.text);
    // Sampling at temperature 1.5 must actually leave the greedy chain.
    expect(a.done?.text).not.toBe(bigramGreedyChain(CORPUS, 'the ', 40));
  });

  it('cancels mid-run within a token, keeping the text so far', async () => {
    let cancelAt: number | null = null;
    const outcome = await runToEnd(
      client,
      { model: loopingModelPath, prompt: 'a', sampling: GREEDY, maxTokens: 3000 },
      (_delta, runId) => {
        if (cancelAt !== null) return;
        cancelAt = Date.now();
        void client.call('runs.cancel', { runId });
      },
    );
    expect(outcome.done?.stopReason).toBe('cancelled');
    const text = outcome.done?.text ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(3000);
    expect(bigramGreedyChain(LOOPING_CORPUS, 'a', 3000).startsWith(text)).toBe(true);
    expect(outcome.streamed).toBe(text);
  });

  it('cancelling an unknown run says so', async () => {
    await expect(client.call('runs.cancel', { runId: 'run-nope' })).resolves.toEqual({ cancelled: false });
  });

  it('runs two generations in parallel on one model', async () => {
    const events: string[] = [];
    const track = (name: string) => (_delta: unknown) => events.push(`${name}:delta`);
    const [one, two] = await Promise.all([
      runToEnd(client, { model: loopingModelPath, prompt: 'a', sampling: GREEDY, maxTokens: 400 }, track('one')),
      runToEnd(client, { model: loopingModelPath, prompt: 'b', sampling: GREEDY, maxTokens: 400 }, track('two')),
    ]);
    expect(one.done?.text).toBe(bigramGreedyChain(LOOPING_CORPUS, 'a', 400));
    expect(two.done?.text).toBe(bigramGreedyChain(LOOPING_CORPUS, 'b', 400));
    // Interleaved deltas: neither waited for the other to finish.
    const firstTwo = events.indexOf('two:delta');
    const lastOne = events.lastIndexOf('one:delta');
    expect(firstTwo).toBeGreaterThanOrEqual(0);
    expect(firstTwo).toBeLessThan(lastOne);
  });

  it('queues runs beyond the sequences and finishes them all', async () => {
    const model = await client.call('models.load', { path: loopingModelPath });
    const count = model.sequences + 2;
    const outcomes = await Promise.all(
      Array.from({ length: count }, () => runToEnd(client, { model: model.id, prompt: 'a', sampling: GREEDY, maxTokens: 50 })),
    );
    for (const outcome of outcomes) expect(outcome.done?.text).toBe(bigramGreedyChain(LOOPING_CORPUS, 'a', 50));
  });

  it('coalesces deltas instead of sending one per token', async () => {
    const outcome = await runToEnd(client, { model: loopingModelPath, prompt: 'a', sampling: GREEDY, maxTokens: 2000 });
    expect(outcome.done?.metrics.generatedTokens).toBe(2000);
    expect(outcome.deltas.length).toBeLessThan(2000 / 4);
  });

  it('reports metrics', async () => {
    const outcome = await runToEnd(client, { model: modelPath, prompt: 'the cat ', sampling: GREEDY, maxTokens: 30 });
    const metrics = outcome.done?.metrics;
    expect(metrics?.promptTokens).toBe('the cat '.length + 1);
    expect(metrics?.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(metrics?.tokensPerSecond).toBeGreaterThan(0);
    expect(metrics?.threads).toBe(1);
    expect(metrics?.totalMs).toBeGreaterThanOrEqual(metrics?.timeToFirstTokenMs ?? 0);
  });

  it('constrains output to a JSON schema', async () => {
    const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] } }, required: ['answer'] };
    const outcome = await runToEnd(client, { model: modelPath, prompt: 'the ', sampling: GREEDY, maxTokens: 40, jsonSchema: schema });
    expect(outcome.error).toBeNull();
    const parsed = JSON.parse(outcome.done?.text ?? '') as { answer: string };
    expect(['yes', 'no']).toContain(parsed.answer);
  });

  it('refuses a JSON schema it cannot use with INVALID_JSON_SCHEMA', async () => {
    const outcome = await runToEnd(client, { model: modelPath, prompt: 'a', jsonSchema: { type: 'no-such-type' } });
    expect(outcome.error?.error.code).toBe('INVALID_JSON_SCHEMA');
  });
});

describe('runs in the store', () => {
  it('keeps every run with its output, parameters, status and metrics', async () => {
    const outcome = await runToEnd(client, { model: modelPath, prompt: 'the ', sampling: GREEDY, maxTokens: 20 });
    const stored = service.store.runs.get(outcome.runId);
    expect(stored).toMatchObject({ kind: 'completion', status: 'done', input: 'the ', output: outcome.done?.text, modelPath });
    expect(stored?.parameters).toMatchObject({ maxTokens: 20, sampling: { temperature: 0 } });
    expect(stored?.metrics).toMatchObject({ generatedTokens: outcome.done?.metrics.generatedTokens, stopReason: outcome.done?.stopReason });
  });

  it('keeps a cancelled run as cancelled with its partial text, and a failed one with its error', async () => {
    const cancelled = await runToEnd(client, { model: loopingModelPath, prompt: 'a', sampling: GREEDY, maxTokens: 3000 }, (_d, runId) => {
      void client.call('runs.cancel', { runId });
    });
    expect(service.store.runs.get(cancelled.runId)).toMatchObject({ status: 'cancelled', output: cancelled.done?.text });
    const failed = await runToEnd(client, { model: '/no/such/model.gguf', prompt: 'a' });
    expect(service.store.runs.get(failed.runId)).toMatchObject({ status: 'error', error: { code: 'MODEL_NOT_FOUND' } });
  });
});

describe('chat', () => {
  it('chats through the model template and reuses the previous turn', async () => {
    const first = await runToEnd(client, {
      model: modelPath,
      messages: [
        { role: 'system', content: 'be brief.' },
        { role: 'user', content: 'the cat' },
      ],
      conversationKey: 'conversation-1',
      sampling: GREEDY,
      maxTokens: 20,
    });
    expect(first.error).toBeNull();
    expect(first.done?.metrics.reusedPromptTokens).toBe(0);
    const answer = first.done?.text ?? '';
    const second = await runToEnd(client, {
      model: modelPath,
      messages: [
        { role: 'system', content: 'be brief.' },
        { role: 'user', content: 'the cat' },
        { role: 'assistant', content: answer },
        { role: 'user', content: 'and the dog' },
      ],
      conversationKey: 'conversation-1',
      sampling: GREEDY,
      maxTokens: 20,
    });
    const metrics = second.done?.metrics;
    // Everything up to the end of the first prompt is reused; only the new turn is evaluated.
    expect(metrics?.reusedPromptTokens).toBeGreaterThanOrEqual(first.done?.metrics.promptTokens ?? Infinity);
    expect(metrics?.reusedPromptTokens).toBeLessThan(metrics?.promptTokens ?? 0);
  });
});

describe('probabilities and perplexity', () => {
  it('reports each token with its probability and ranked alternatives', async () => {
    const outcome = await runToEnd(client, {
      model: modelPath,
      prompt: 'the ',
      sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, repeatPenalty: 1, seed: 3 },
      maxTokens: 25,
      probabilities: 5,
    });
    const tokens = outcome.deltas.flatMap((delta) => delta.tokens ?? []);
    expect(tokens).toHaveLength(25);
    expect(tokens.map((token) => token.text).join('')).toBe(outcome.done?.text);
    for (const token of tokens) {
      expect(token.alternatives).toHaveLength(5);
      const total = token.alternatives.reduce((sum, alternative) => sum + alternative.probability, 0);
      expect(total).toBeLessThanOrEqual(1 + 1e-6);
      for (let i = 1; i < token.alternatives.length; i++) {
        expect(token.alternatives[i - 1]?.probability ?? 0).toBeGreaterThanOrEqual(token.alternatives[i]?.probability ?? 0);
      }
      // The chosen token sits in the ranking exactly where its probability puts it.
      const rank = token.alternatives.filter((alternative) => alternative.probability > token.probability).length;
      if (rank < token.alternatives.length) expect(token.alternatives[rank]?.probability).toBeCloseTo(token.probability, 9);
    }
  });

  it('measures the perplexity of the corpus under its own bigram model', async () => {
    const text = 'the cat sat on the mat. the dog ran to the cat.\n';
    const result = await client.call('engine.perplexity', { model: modelPath, text });
    const expected = bigramPerplexity(CORPUS, text);
    expect(Math.abs(result.perplexity / expected - 1)).toBeLessThan(1e-3);
    expect(result.windows).toBe(1);
  });

  it('uses a sliding window for a text longer than the window, scoring each token once', async () => {
    const text = CORPUS.repeat(3);
    const whole = await client.call('engine.perplexity', { model: modelPath, text });
    const windowed = await client.call('engine.perplexity', { model: modelPath, text, window: 40 });
    expect(windowed.windows).toBeGreaterThan(1);
    expect(windowed.scoredTokens).toBe(whole.scoredTokens);
    // A bigram model needs one token of context, so the windows change nothing.
    expect(Math.abs(windowed.perplexity / whole.perplexity - 1)).toBeLessThan(1e-3);
  });
});

describe('bad input keeps the engine serving', () => {
  it('refuses a prompt larger than the context with CONTEXT_TOO_LARGE', async () => {
    const small = await writeBigramModel(CORPUS, 'small-context', 64);
    const model = await client.call('models.load', { path: small, contextSize: 64 });
    const outcome = await runToEnd(client, { model: model.id, prompt: 'the cat '.repeat(20) });
    expect(outcome.error?.error.code).toBe('CONTEXT_TOO_LARGE');
    await client.call('models.unload', { id: model.id });
  });

  it('refuses a model id that is not loaded with MODEL_NOT_LOADED', async () => {
    const outcome = await runToEnd(client, { model: 'm-000000000000', prompt: 'a' });
    expect(outcome.error?.error.code).toBe('MODEL_NOT_LOADED');
  });

  it('ends a run whose model is unloaded with MODEL_DISPOSED and keeps its text', async () => {
    const model = await client.call('models.load', { path: loopingModelPath });
    let unloading: Promise<unknown> | null = null;
    const outcome = await runToEnd(client, { model: model.id, prompt: 'a', sampling: GREEDY, maxTokens: 3000 }, () => {
      unloading ??= client.call('models.unload', { id: model.id });
    });
    await unloading;
    expect(outcome.error?.error.code).toBe('MODEL_DISPOSED');
    expect(outcome.error?.text.length).toBeGreaterThan(0);
    expect(bigramGreedyChain(LOOPING_CORPUS, 'a', 3000).startsWith(outcome.error?.text ?? 'x')).toBe(true);
    // And the next run loads it again and works.
    const after = await runToEnd(client, { model: loopingModelPath, prompt: 'a', sampling: GREEDY, maxTokens: 5 });
    expect(after.done?.text).toBe(bigramGreedyChain(LOOPING_CORPUS, 'a', 5));
  });

  it('reports a missing file as MODEL_NOT_FOUND, then serves the next run', async () => {
    const outcome = await runToEnd(client, { model: '/no/such/model.gguf', prompt: 'a' });
    expect(outcome.error?.error.code).toBe('MODEL_NOT_FOUND');
    await expect(client.tryCall('models.load', { path: '/no/such/model.gguf' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'MODEL_NOT_FOUND' },
    });
    const after = await runToEnd(client, { model: modelPath, prompt: 'the ', sampling: GREEDY, maxTokens: 10 });
    expect(after.done?.text).toBe(bigramGreedyChain(CORPUS, 'the ', 10));
  });
});

describe('memory and crashes', () => {
  it('refuses a model that does not fit, with the estimate', async () => {
    const dataDir = tempDir();
    const tight = await createService({
      dataDir,
      shell: 'headless',
      engine: { gpu: false, log: () => {}, availableMemory: () => 1_000_000 },
    });
    const tightClient = new ContractClient(createMemoryTransport(tight.implementation, tight.events));
    try {
      const result = await tightClient.tryCall('models.load', { path: modelPath });
      expect(result).toMatchObject({ ok: false, error: { code: 'INSUFFICIENT_MEMORY' } });
      expect(!result.ok && result.error.message).toMatch(/needs [\d.]+ [KMG]?B, 1\.0 MB free/);
    } finally {
      await tight.dispose();
    }
  });

  it('remembers a model whose load killed the process and loads it only with force', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dataDir = tempDir();
    // What a load leaves behind when the process dies in the middle of it.
    fs.mkdirSync(path.join(dataDir, 'engine'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'engine', 'loading.json'), JSON.stringify({ path: fs.realpathSync(modelPath) }));
    const restarted = await createService({ dataDir, shell: 'headless', engine: { gpu: false, log: () => {} } });
    const restartedClient = new ContractClient(createMemoryTransport(restarted.implementation, restarted.events));
    try {
      await expect(restartedClient.tryCall('models.load', { path: modelPath })).resolves.toMatchObject({
        ok: false,
        error: { code: 'MODEL_CRASHED_BEFORE' },
      });
      await expect(restartedClient.call('models.load', { path: modelPath, force: true })).resolves.toMatchObject({ name: 'animals' });
      // A successful load clears the memory of the crash.
      expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'engine', 'crashed-models.json'), 'utf8'))).toEqual([]);
    } finally {
      await restarted.dispose();
    }
  });
});
