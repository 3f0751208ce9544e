import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getLlama,
  JinjaTemplateChatWrapper,
  LlamaChatSession,
  LlamaCompletion,
  LlamaLogLevel,
  resolveChatWrapper,
} from 'node-llama-cpp';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';
import {
  bigramEmbeddingWidth,
  bigramGreedyChain,
  bigramPerplexity,
  bigramTable,
  bigramTokenLogProbabilities,
  BIGRAM_RMS_NORM_EPSILON,
  buildBigramModel,
} from '../../electron/core/models/bigram-model.js';
import {
  BOS_TOKEN_ID,
  buildCharacterVocabulary,
  EOS_TOKEN_ID,
  tokenizeLikeLlama,
} from '../../electron/core/models/character-vocabulary.js';
import {
  dequantizeQ4_0,
  dequantizeQ8_0,
  encodeTensorValues,
  float16BitsToFloat32,
  writeGguf,
} from '../../electron/core/models/gguf-writer.js';
import type { GgmlTensorType, GgufFileDescription } from '../../electron/core/models/gguf-writer.js';

const LINES_CORPUS =
  'the cat sat on the mat.\nthe dog ate a hot dog.\nto be or not to be, that is the question.\n' +
  'a bird in the hand is worth two in the bush.\nwhat is done is done.\n';
const UNICODE_CORPUS = 'héllo wörld, çà va? 🙂 ok — naïve café 🙂🙂\n';
/** x is followed by b, a and } once each: a tie the greedy sampler breaks towards the lowest token id (a). */
const TIE_CORPUS = 'xbxax}';

// llama.cpp held to the bigram oracle; the oracle itself is tested in test/unit/bigram-oracle.test.ts.

let directory = '';
let llama: Llama;
const models: LlamaModel[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-bigram-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
afterAll(async () => {
  for (const model of models) await model.dispose();
  await llama?.dispose();
  await rm(directory, { recursive: true, force: true });
});

async function load(name: string, description: GgufFileDescription): Promise<LlamaModel> {
  const modelPath = join(directory, `${name}.gguf`);
  await writeGguf(modelPath, description);
  const model = await llama.loadModel({ modelPath });
  models.push(model);
  return model;
}

/**
 * llama.cpp's distribution of the next token after each prefix of `tokens`, as natural logs over
 * the whole vocabulary. Greedy sampling (temperature 0) leaves every candidate and its logit
 * untouched, so node-llama-cpp's probabilities are exactly the softmax of the model's logits.
 */
async function llamaNextTokenLogProbabilities(
  model: LlamaModel,
  tokens: readonly number[],
  vocabularySize: number,
): Promise<Map<Token, number>[]> {
  const context = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const outputs = await context
      .getSequence()
      .controlledEvaluate(
        tokens.map((token) => [token as Token, { generateNext: { probabilities: true, options: { temperature: 0 } } }] as const),
      );
    // The result is sparse where no output was asked for: index every position, so a gap fails here.
    return tokens.map((_, index) => {
      const probabilities = outputs[index]?.next.probabilities;
      if (probabilities === undefined) throw new Error(`no probabilities after token ${index}`);
      if (probabilities.size !== vocabularySize) {
        throw new Error(`${probabilities.size} probabilities after token ${index}, the vocabulary has ${vocabularySize}`);
      }
      return new Map([...probabilities].map(([token, probability]) => [token, Math.log(probability)]));
    });
  } finally {
    await context.dispose();
  }
}

/** log-softmax in float64 of logits indexed by token id. */
function logSoftmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const logSum = max + Math.log(logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0));
  return logits.map((logit) => logit - logSum);
}

describe('bigram model in llama.cpp (node-llama-cpp, CPU)', () => {
  it('tokenizes exactly as the oracle assumes (no space prefix, byte fallback)', async () => {
    const model = await load('tokenize', buildBigramModel(UNICODE_CORPUS));
    const vocabulary = buildCharacterVocabulary(UNICODE_CORPUS);
    for (const text of ['héllo', ' wörld 🙂', 'unknown ✓ Ω', 'a\nb', '🙂🙂 ', '']) {
      expect(Array.from(model.tokenize(text, false)), text).toEqual(tokenizeLikeLlama(vocabulary, text, false));
      expect(model.detokenize(model.tokenize(text, false))).toBe(text);
    }
    expect(model.tokens.bos).toBe(BOS_TOKEN_ID);
    expect(model.tokens.eos).toBe(EOS_TOKEN_ID);
    expect(model.tokens.nl).toBe(3 + 0x0a);
  });

  it.each([
    ['lines', LINES_CORPUS, ['the', 'a', 'q', 'x', 'é', 'what', 'g.', '\n', 'Zebra 🙂', '']],
    ['unicode', UNICODE_CORPUS, ['h', 'wö', '🙂', 'ç', 'Ω', 'naïve ']],
    ['tie', TIE_CORPUS, ['x', 'a', 'b', 'q', '}']],
  ] as const)('greedy completion equals the bigram chain character for character (%s corpus)', async (name, corpus, prompts) => {
    const model = await load(`greedy-${name}`, buildBigramModel(corpus, { name }));
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const maxTokens = 60;
    let stoppedAtEndOfText = 0;
    for (const prompt of prompts) {
      const result = await completion.generateCompletionWithMeta(prompt, { temperature: 0, maxTokens, repeatPenalty: false });
      const expected = bigramGreedyChain(corpus, prompt, maxTokens);
      expect(result.response, `prompt ${JSON.stringify(prompt)}`).toBe(expected);
      const expectedStop = Array.from(expected).length < maxTokens ? 'eogToken' : 'maxTokens';
      expect(result.metadata.stopReason).toBe(expectedStop);
      if (expectedStop === 'eogToken') stoppedAtEndOfText++;
    }
    if (name === 'lines') expect(stoppedAtEndOfText).toBeGreaterThan(0);
    await context.dispose();
  });

  it('predicts exactly the bigram distribution, so perplexity matches the oracle', async () => {
    const model = await load('perplexity', buildBigramModel(LINES_CORPUS));
    const table = bigramTable(LINES_CORPUS);
    const text = 'the hat is on the cat. what a question!\n';
    const tokens = tokenizeLikeLlama(table.vocabulary, text, true);
    const distributions = await llamaNextTokenLogProbabilities(model, tokens, table.vocabulary.tokens.length);
    expect(distributions).toHaveLength(tokens.length);
    let llamaLogSum = 0;
    for (const [index, logProbabilities] of distributions.entries()) {
      const expected = table.logProbabilities[table.contextOfToken(tokens[index] ?? -1)] ?? new Float64Array();
      for (const [token, logProbability] of logProbabilities) {
        expect(Math.abs(logProbability - (expected[token] ?? 0)), `token ${token} after position ${index}`).toBeLessThan(1e-3);
      }
      const following = tokens[index + 1];
      if (following !== undefined) llamaLogSum += logProbabilities.get(following as Token) ?? Number.NaN;
    }
    const llamaPerplexity = Math.exp(-llamaLogSum / (tokens.length - 1));
    const oraclePerplexity = bigramPerplexity(LINES_CORPUS, text);
    expect(oraclePerplexity).toBeGreaterThan(1);
    expect(Math.abs(llamaPerplexity / oraclePerplexity - 1)).toBeLessThan(1e-4);
    const oracleLogs = bigramTokenLogProbabilities(table, tokens);
    expect(Math.exp(-oracleLogs.reduce((a, b) => a + b, 0) / oracleLogs.length)).toBeCloseTo(oraclePerplexity, 12);
  });

  it.each(['f16', 'q8_0', 'q4_0'] as const)(
    'llama.cpp reads %s output weights as the writer encoded them',
    async (type: GgmlTensorType) => {
      const description = buildBigramModel(LINES_CORPUS);
      const output = description.tensors.find((tensor) => tensor.name === 'output.weight');
      if (output === undefined) throw new Error('no output tensor');
      const quantized = { ...description, tensors: description.tensors.map((t) => (t === output ? { ...t, type } : t)) };
      const model = await load(`output-${type}`, quantized);

      const values = Float32Array.from([...output.data()].flatMap((chunk) => Array.from(chunk)));
      const encoded = encodeTensorValues(type, values);
      const decoded =
        type === 'q8_0'
          ? dequantizeQ8_0(encoded)
          : type === 'q4_0'
            ? dequantizeQ4_0(encoded)
            : Float32Array.from({ length: values.length }, (_, i) => float16BitsToFloat32(encoded.readUInt16LE(i * 2)));
      const table = bigramTable(LINES_CORPUS);
      const width = bigramEmbeddingWidth(table.vocabulary);
      const normalizedOneHot = 1 / Math.sqrt(1 / width + BIGRAM_RMS_NORM_EPSILON);
      const tokens = tokenizeLikeLlama(table.vocabulary, 'the q.\n', true);
      const vocabularySize = table.vocabulary.tokens.length;
      const distributions = await llamaNextTokenLogProbabilities(model, tokens, vocabularySize);
      expect(distributions).toHaveLength(tokens.length);
      for (const [position, logProbabilities] of distributions.entries()) {
        const context = table.contextOfToken(tokens[position] ?? -1);
        const logits = Array.from({ length: vocabularySize }, (_, token) => (decoded[token * width + context] ?? 0) * normalizedOneHot);
        const expected = logSoftmax(logits);
        // llama.cpp rounds the activations to f16 / Q8_0 (~5e-4 relative), so each logit may be off by
        // tolerance(logit); a log-probability also shifts by the probability-weighted mean of those errors.
        const tolerance = (logit: number): number => 2e-3 * Math.abs(logit) + 1e-3;
        const meanTolerance = logits.reduce((sum, logit, token) => sum + Math.exp(expected[token] ?? 0) * tolerance(logit), 0);
        for (const [token, logProbability] of logProbabilities) {
          const bound = tolerance(logits[token] ?? 0) + meanTolerance;
          expect(Math.abs(logProbability - (expected[token] ?? 0)), `token ${token} context ${context}`).toBeLessThan(bound);
          // And the encoded weight is the source weight up to one quantization step of its block.
          const index = token * width + context;
          const block = values.subarray(index - (index % 32), index - (index % 32) + 32);
          const step = type === 'f16' ? Math.abs(values[index] ?? 0) * 2 ** -10 : Math.max(...Array.from(block, Math.abs)) / (type === 'q8_0' ? 127 : 8);
          expect(Math.abs((decoded[index] ?? 0) - (values[index] ?? 0))).toBeLessThanOrEqual(step * 1.001);
        }
      }
    },
  );

  it('chats through its plain chat template', async () => {
    const model = await load('chat', buildBigramModel(LINES_CORPUS));
    // Resolving a Jinja template costs about a second (node-llama-cpp probes it): do it once.
    const chatWrapper = resolveChatWrapper(model);
    expect(chatWrapper).toBeInstanceOf(JinjaTemplateChatWrapper);
    const rendered = chatWrapper?.generateContextState({
      chatHistory: [
        { type: 'system', text: 'be brief.' },
        { type: 'user', text: 'hi' },
        { type: 'model', response: [] },
      ],
    });
    expect(rendered?.contextText.toString()).toBe('system: be brief.\nuser: hi\nassistant: ');
    // One token per character: node-llama-cpp's default system prompt alone is ~400 tokens.
    const context = await model.createContext({ contextSize: 1024, threads: 1 });
    const session = new LlamaChatSession({
      contextSequence: context.getSequence(),
      chatWrapper: chatWrapper ?? undefined,
      systemPrompt: 'be brief.',
    });
    const answer = await session.prompt('what is the question?', { temperature: 0, maxTokens: 30, repeatPenalty: false });
    // The template ends the prompt with "assistant: ", so the answer follows the chain from a space.
    expect(answer).toBe(bigramGreedyChain(LINES_CORPUS, 'assistant: ', 30));
    await context.dispose();
  });
});
