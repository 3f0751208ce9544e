import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaCompletion, LlamaLogLevel } from 'node-llama-cpp';
import type { Llama } from 'node-llama-cpp';
import { bigramGreedyChain, buildBigramModel } from '../../electron/core/models/bigram-model.js';
import { DEMO_MODEL_NAME, demoCorpusPath, demoModelPath } from '../../electron/core/models/demo-model.js';
import { writeGguf } from '../../electron/core/models/gguf-writer.js';
import { inspectModel } from '../../electron/core/models/inspect.js';
import { packageRoot } from '../../electron/core/version.js';

// The demo model is built from the corpus by `npm run build:demo-model`; here it is built the same
// way into a temp dir, so the test needs no build step.

let directory = '';
let llama: Llama;
let corpus = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-demo-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  corpus = await readFile(demoCorpusPath(), 'utf8');
});
afterAll(async () => {
  await llama?.dispose();
  await rm(directory, { recursive: true, force: true });
});

describe('the demo model', () => {
  it('lives in resources/ of the package', () => {
    expect(demoModelPath()).toBe(join(packageRoot(), 'resources', 'models', 'demo.gguf'));
    expect(demoCorpusPath()).toBe(join(packageRoot(), 'resources', 'demo-corpus.txt'));
  });

  it('is built from a corpus of plain printable English lines', () => {
    expect(corpus.length).toBeGreaterThan(3000);
    // Printable ASCII keeps the vocabulary to one token per character the tokenizer shows as is.
    expect(corpus).toMatch(/^(?:[\x20-\x7e]+\n)+$/);
    expect(corpus.split('\n').filter(Boolean).every((line) => /^[A-Z].*[.?!]$/.test(line))).toBe(true);
  });

  it('loads, chats in the characters of its corpus, and follows the bigram chain when greedy', async () => {
    const path = join(directory, 'demo.gguf');
    await writeGguf(path, buildBigramModel(corpus, { name: DEMO_MODEL_NAME }));
    const inspection = await inspectModel(llama, path);
    expect(inspection).toMatchObject({ name: DEMO_MODEL_NAME, architecture: 'llama', hasChatTemplate: true });
    expect(inspection.sizeBytes).toBeLessThan(1_000_000);

    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const greedy = await completion.generateCompletion('The kettle', { temperature: 0, maxTokens: 40, repeatPenalty: false });
    expect(greedy).toBe(bigramGreedyChain(corpus, 'The kettle', 40));
    const sampled = await completion.generateCompletion('Rain ', { temperature: 0.8, seed: 1, maxTokens: 80 });
    expect(sampled.length).toBeGreaterThan(0);
    const characters = new Set(corpus);
    expect([...sampled].filter((character) => !characters.has(character))).toEqual([]);
    await context.dispose();
    await model.dispose();
  });
});
