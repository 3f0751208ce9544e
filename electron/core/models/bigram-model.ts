// A character bigram model embedded in llama transformer weights, and an independent oracle of
// what llama.cpp must compute with it. Attention and feed-forward weights are zero, so the residual
// stream is the one-hot token embedding and the logits are one column of the output matrix.
import { chunkedRows, LlamaFileTypeId } from './gguf-writer.js';
import type { GgufFileDescription, GgufTensor } from './gguf-writer.js';
import {
  buildCharacterVocabulary,
  EOS_TOKEN_ID,
  FIRST_CHARACTER_TOKEN_ID,
  llamaModelMetadata,
  llamaTokenizerMetadata,
  tokenizeLikeLlama,
  detokenizeLikeLlama,
} from './character-vocabulary.js';
import type { CharacterVocabulary, LlamaHyperparameters } from './character-vocabulary.js';

/** Add-α smoothing of the counts over the text tokens (characters and `</s>`). */
export const BIGRAM_SMOOTHING = 0.001;
/** Probability of each token that is not text (`<unk>`, `<s>`, byte tokens) in every context. */
export const NON_TEXT_TOKEN_PROBABILITY = 1e-6;
export const BIGRAM_RMS_NORM_EPSILON = Math.fround(1e-5);
/** Embedding width is a multiple of this. */
const WIDTH_MULTIPLE = 32;

/**
 * Bigram log-probabilities over the whole vocabulary, per context. Context 0 is shared by every
 * token that is not a corpus character (`<s>`, `</s>`, `<unk>`, bytes): it predicts the character
 * frequencies. Context k (1..n) is the k-th corpus character.
 *
 * `</s>` is counted after the corpus's last character and after every newline, so a model stops
 * at the end of a line of a line-structured corpus.
 */
export type BigramTable = {
  readonly vocabulary: CharacterVocabulary;
  /** logProbabilities[context][token] = log P(token | context), natural log, finite. */
  readonly logProbabilities: readonly Float64Array[];
  /** The context (row of logProbabilities, dimension of the embedding) a token puts the model in. */
  readonly contextOfToken: (token: number) => number;
};

export function bigramTable(corpus: string): BigramTable {
  const vocabulary = buildCharacterVocabulary(corpus);
  const vocabularySize = vocabulary.tokens.length;
  const contextCount = vocabulary.characters.length + 1;
  const contextOfToken = (token: number): number =>
    token >= FIRST_CHARACTER_TOKEN_ID ? token - FIRST_CHARACTER_TOKEN_ID + 1 : 0;

  const counts = Array.from({ length: contextCount }, () => new Float64Array(vocabularySize));
  const corpusTokens = tokenizeLikeLlama(vocabulary, corpus, false);
  const newlineToken = vocabulary.tokenOfCharacter.get('\n');
  for (const [index, token] of corpusTokens.entries()) {
    const context = contextOfToken(token);
    const row = counts[context] as Float64Array;
    const next = corpusTokens[index + 1];
    if (next !== undefined) row[next] = (row[next] ?? 0) + 1;
    if (next === undefined || token === newlineToken) row[EOS_TOKEN_ID] = (row[EOS_TOKEN_ID] ?? 0) + 1;
    const unigram = counts[0] as Float64Array;
    unigram[token] = (unigram[token] ?? 0) + 1;
  }

  const textTokens = [EOS_TOKEN_ID, ...vocabulary.tokenOfCharacter.values()];
  const nonTextTokenCount = vocabularySize - textTokens.length;
  const textMass = 1 - NON_TEXT_TOKEN_PROBABILITY * nonTextTokenCount;
  const logProbabilities = counts.map((row) => {
    let total = 0;
    for (const token of textTokens) total += row[token] ?? 0;
    const denominator = total + BIGRAM_SMOOTHING * textTokens.length;
    const logs = new Float64Array(vocabularySize).fill(Math.log(NON_TEXT_TOKEN_PROBABILITY));
    for (const token of textTokens) logs[token] = Math.log((textMass * ((row[token] ?? 0) + BIGRAM_SMOOTHING)) / denominator);
    return logs;
  });
  return { vocabulary, logProbabilities, contextOfToken };
}

/** The most likely next token; ties go to the lowest id, as llama.cpp's greedy sampler does. */
function argmax(row: Float64Array): number {
  let best = 0;
  for (let token = 1; token < row.length; token++) if ((row[token] ?? 0) > (row[best] ?? 0)) best = token;
  return best;
}

/** The tokens greedy decoding must produce after `prompt` (with `<s>` prepended), stopping at `</s>`. */
export function bigramGreedyTokens(table: BigramTable, prompt: string, maxTokens: number): number[] {
  const promptTokens = tokenizeLikeLlama(table.vocabulary, prompt, true);
  let last = promptTokens[promptTokens.length - 1] as number;
  const generated: number[] = [];
  while (generated.length < maxTokens) {
    const next = argmax(table.logProbabilities[table.contextOfToken(last)] as Float64Array);
    if (next === EOS_TOKEN_ID) break;
    generated.push(next);
    last = next;
  }
  return generated;
}

/** The text greedy decoding (temperature 0, no repeat penalty) must produce after `prompt`. */
export function bigramGreedyChain(corpus: string, prompt: string, maxTokens: number): string {
  const table = bigramTable(corpus);
  return detokenizeLikeLlama(table.vocabulary, bigramGreedyTokens(table, prompt, maxTokens));
}

/** log P of each token of `tokens` after the one before it (tokens[0] is only context). */
export function bigramTokenLogProbabilities(table: BigramTable, tokens: readonly number[]): number[] {
  const logs: number[] = [];
  for (let index = 1; index < tokens.length; index++) {
    const row = table.logProbabilities[table.contextOfToken(tokens[index - 1] as number)] as Float64Array;
    logs.push(row[tokens[index] as number] ?? Number.NEGATIVE_INFINITY);
  }
  return logs;
}

/** Perplexity of `text` (after `<s>`) under the bigram model of `corpus`. */
export function bigramPerplexity(corpus: string, text: string): number {
  const table = bigramTable(corpus);
  const logs = bigramTokenLogProbabilities(table, tokenizeLikeLlama(table.vocabulary, text, true));
  return Math.exp(-logs.reduce((sum, log) => sum + log, 0) / logs.length);
}

/** Embedding width: one dimension per character plus the shared one, rounded up to 32. */
export function bigramEmbeddingWidth(vocabulary: CharacterVocabulary): number {
  return Math.ceil((vocabulary.characters.length + 1) / WIDTH_MULTIPLE) * WIDTH_MULTIPLE;
}

function zeroTensor(name: string, dims: readonly number[]): GgufTensor {
  const [rowLength = 1, ...rest] = dims;
  const rowCount = rest.reduce((product, dim) => product * dim, 1);
  return { name, dims, type: 'f32', data: () => chunkedRows(rowLength, rowCount, () => 0) };
}

function onesTensor(name: string, length: number): GgufTensor {
  return { name, dims: [length], type: 'f32', data: () => [new Float32Array(length).fill(1)] };
}

export type BigramModelOptions = { readonly name?: string; readonly contextLength?: number };

/**
 * The GGUF description of a llama model whose next-token distribution is {@link bigramTable} and
 * whose greedy output is {@link bigramGreedyChain}: 1 block, 1 head, F32 weights, one-hot embeddings.
 */
export function buildBigramModel(corpus: string, options: BigramModelOptions = {}): GgufFileDescription {
  const table = bigramTable(corpus);
  const { vocabulary, logProbabilities, contextOfToken } = table;
  const vocabularySize = vocabulary.tokens.length;
  const width = bigramEmbeddingWidth(vocabulary);
  const feedForwardLength = WIDTH_MULTIPLE;
  const hyperparameters: LlamaHyperparameters = {
    contextLength: options.contextLength ?? 4096,
    embeddingLength: width,
    blockCount: 1,
    feedForwardLength,
    headCount: 1,
    headCountKv: 1,
    rmsNormEpsilon: BIGRAM_RMS_NORM_EPSILON,
    ropeFreqBase: 10000,
    vocabularySize,
  };
  // RMS-norm maps a one-hot to itself times 1/sqrt(1/width + eps); undoing exactly that makes the
  // logits equal log P, so llama.cpp's softmax gives back P.
  const normalizedOneHot = 1 / Math.sqrt(1 / width + BIGRAM_RMS_NORM_EPSILON);

  const tensors: GgufTensor[] = [
    {
      name: 'token_embd.weight',
      dims: [width, vocabularySize],
      type: 'f32',
      data: () => chunkedRows(width, vocabularySize, (token, dimension) => (dimension === contextOfToken(token) ? 1 : 0)),
    },
    onesTensor('blk.0.attn_norm.weight', width),
    zeroTensor('blk.0.attn_q.weight', [width, width]),
    zeroTensor('blk.0.attn_k.weight', [width, width]),
    zeroTensor('blk.0.attn_v.weight', [width, width]),
    zeroTensor('blk.0.attn_output.weight', [width, width]),
    onesTensor('blk.0.ffn_norm.weight', width),
    zeroTensor('blk.0.ffn_gate.weight', [width, feedForwardLength]),
    zeroTensor('blk.0.ffn_up.weight', [width, feedForwardLength]),
    zeroTensor('blk.0.ffn_down.weight', [feedForwardLength, width]),
    onesTensor('output_norm.weight', width),
    {
      name: 'output.weight',
      dims: [width, vocabularySize],
      type: 'f32',
      data: () =>
        chunkedRows(width, vocabularySize, (token, dimension) => {
          const row = logProbabilities[dimension];
          return row === undefined ? 0 : (row[token] ?? 0) / normalizedOneHot;
        }),
    },
  ];
  return {
    metadata: [
      ...llamaModelMetadata(options.name ?? 'bigram', hyperparameters, LlamaFileTypeId.f32, false),
      ...llamaTokenizerMetadata(vocabulary),
    ],
    tensors,
  };
}
