/**
 * Perplexity of a text under a model: exp of the mean negative log-likelihood per token.
 * Texts longer than the window are scored with a sliding window (stride of half a window):
 * each token is scored once, seeing at least half a window of context, except at the start.
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { EmergentError } from '../../common/errors.js';

export interface PerplexityResult {
  perplexity: number;
  meanNegativeLogLikelihood: number;
  scoredTokens: number;
  windows: number;
}

/** Probabilities below this are treated as this (a token llama.cpp rounds to 0 would be -Infinity). */
const MIN_PROBABILITY = 1e-30;

export async function measurePerplexity(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  text: string,
  window: number,
  signal?: AbortSignal,
): Promise<PerplexityResult> {
  const bos = model.tokens.bos;
  const body = model.tokenize(text);
  const tokens: Token[] = model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...body] : body;
  if (tokens.length < 2) {
    throw new EmergentError('INVALID_INPUT', 'The text is too short: perplexity needs at least two tokens.');
  }
  const size = Math.max(2, Math.min(window, sequence.contextSize));
  const stride = Math.max(1, Math.floor(size / 2));

  let negativeLogLikelihood = 0;
  let scored = 0;
  let windows = 0;
  // Token i (i >= 1) is predicted from tokens before it; `nextToScore` is the first not yet scored.
  let nextToScore = 1;
  for (let start = 0; nextToScore < tokens.length; start += stride) {
    if (signal?.aborted) throw signal.reason;
    const end = Math.min(tokens.length, start + size);
    const slice = tokens.slice(start, end);
    await sequence.clearHistory();
    const outputs = await sequence.controlledEvaluate(
      slice.map((token, offset) => {
        const predicts = start + offset + 1;
        return predicts >= nextToScore && predicts < end ? ([token, { generateNext: { probabilities: true } }] as const) : token;
      }),
    );
    windows++;
    for (let offset = 0; offset < slice.length; offset++) {
      const predicts = start + offset + 1;
      if (predicts < nextToScore || predicts >= end) continue;
      const actual = tokens[predicts];
      const probabilities = outputs[offset]?.next.probabilities;
      if (actual === undefined || !probabilities) throw new EmergentError('INTERNAL', `llama.cpp returned no probabilities at token ${predicts}.`);
      negativeLogLikelihood -= Math.log(Math.max(MIN_PROBABILITY, probabilities.get(actual) ?? 0));
      scored++;
    }
    nextToScore = end;
  }
  await sequence.clearHistory();
  const mean = negativeLogLikelihood / scored;
  return { perplexity: Math.exp(mean), meanNegativeLogLikelihood: mean, scoredTokens: scored, windows };
}
