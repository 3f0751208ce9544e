import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bigramGreedyChain, bigramPerplexity } from '../../electron/core/models/bigram-model.js';
import { runEmergent } from '../helpers/cli.js';
import { writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const CORPUS = 'the cat sat on the mat. the dog ran to the cat and the mat.\nwhat a cat!\n';
let modelPath: string;
const env = () => ({ EMERGENT_DATA_DIR: tempDir() });

beforeAll(async () => {
  modelPath = await writeBigramModel(CORPUS, 'cli-cats');
});

describe('emergent run', () => {
  it('streams the greedy continuation to stdout', async () => {
    const result = await runEmergent(
      ['run', '--model', modelPath, '--prompt', 'the ', '--temperature', '0', '--repeat-penalty', '1', '--max-tokens', '40'],
      env(),
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${bigramGreedyChain(CORPUS, 'the ', 40)}\n`);
    expect(result.stderr).toMatch(/tokens, .* tok\/s, stopped: (endOfText|maxTokens)/);
  });

  it('prints one JSON object with text, tokens and metrics with --json', async () => {
    const result = await runEmergent(
      ['run', '--model', modelPath, '--prompt', 'a ', '--temperature', '0', '--repeat-penalty', '1', '--max-tokens', '12', '--probabilities', '3', '--json'],
      env(),
    );
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as {
      text: string;
      stopReason: string;
      metrics: { generatedTokens: number; threads: number };
      tokens: { text: string; probability: number; alternatives: unknown[] }[];
      model: { name: string };
    };
    expect(output.text).toBe(bigramGreedyChain(CORPUS, 'a ', 12));
    expect(output.model.name).toBe('cli-cats');
    expect(output.metrics.threads).toBe(1);
    expect(output.tokens.map((token) => token.text).join('')).toBe(output.text);
    expect(output.tokens[0]?.alternatives).toHaveLength(3);
  });

  it('exits non-zero with the coded error for a bad model or bad flags', async () => {
    const missing = await runEmergent(['run', '--model', '/nope/model.gguf', '--prompt', 'x'], env());
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error MODEL_NOT_FOUND: /m);

    const notGguf = path.join(tempDir(), 'notes.gguf');
    fs.writeFileSync(notGguf, 'these are my notes, not a model');
    const bad = await runEmergent(['run', '--model', notGguf, '--prompt', 'x'], env());
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error MODEL_NOT_GGUF: /m);

    const badTemperature = await runEmergent(['run', '--model', modelPath, '--prompt', 'x', '--temperature', 'hot'], env());
    expect(badTemperature.status).toBe(2);
    expect(badTemperature.stderr).toMatch(/^error INVALID_INPUT: --temperature/);

    const noPrompt = await runEmergent(['run', '--model', modelPath], env());
    expect(noPrompt.status).toBe(2);
  });
});

describe('emergent perplexity', () => {
  it('prints the perplexity of a text file', async () => {
    const textFile = path.join(tempDir(), 'text.txt');
    const text = 'the cat sat on the mat.\n';
    fs.writeFileSync(textFile, text);
    const result = await runEmergent(['perplexity', '--model', modelPath, '--text', textFile, '--json'], env());
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as { perplexity: number; scoredTokens: number };
    expect(Math.abs(output.perplexity / bigramPerplexity(CORPUS, text) - 1)).toBeLessThan(1e-3);
    const plain = await runEmergent(['perplexity', '--model', modelPath, '--text', textFile], env());
    expect(plain.stdout).toMatch(/^perplexity \d+\.\d{4} over \d+ tokens \(1 window, /);
  });
});
