import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, readGgufFileInfo } from 'node-llama-cpp';
import type { Llama, Token } from 'node-llama-cpp';
import { GgmlTypeId, writeGguf } from '../../electron/core/models/gguf-writer.js';
import { buildShapeModel, SHAPE_MODEL_CORPUS } from '../../electron/core/models/shape-model.js';
import type { ModelShape, ShapeModelQuant } from '../../electron/core/models/shape-model.js';
import { buildCharacterVocabulary, FIRST_CHARACTER_TOKEN_ID } from '../../electron/core/models/character-vocabulary.js';

// Shape models in llama.cpp; their layout alone is checked in test/unit/shape-model.test.ts.

const TINY_SHAPE: ModelShape = { d: 64, l: 2, f: 128, h: 4, hkv: 2 };
const vocabularySize = buildCharacterVocabulary(SHAPE_MODEL_CORPUS).tokens.length;

let directory = '';
let llama: Llama;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-shape-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
afterAll(async () => {
  await llama?.dispose();
  await rm(directory, { recursive: true, force: true });
});

describe('shape models in llama.cpp', () => {
  it.each(['q4_0', 'q8_0', 'f16'] as const)('a tiny %s shape model loads in llama.cpp and generates', async (quant: ShapeModelQuant) => {
    const path = join(directory, `tiny-${quant}.gguf`);
    await writeGguf(path, buildShapeModel({ shape: TINY_SHAPE, quant, seed: 3 }));
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const types = new Map(info.tensorInfo?.map((tensor) => [tensor.name, tensor.ggmlType]));
    expect(types.get('blk.1.ffn_up.weight')).toBe(GgmlTypeId[quant]);
    expect(types.get('output_norm.weight')).toBe(GgmlTypeId.f32);

    const model = await llama.loadModel({ modelPath: path });
    expect(model.trainContextSize).toBe(2048);
    expect(model.fileInsights.totalLayers).toBe(TINY_SHAPE.l + 1);
    const generate = async (): Promise<Token[]> => {
      const context = await model.createContext({ contextSize: 128, threads: 1 });
      const tokens: Token[] = [];
      // evaluate() yields every sampled token, end-of-text included, so exactly N come out.
      for await (const token of context.getSequence().evaluate(model.tokenize('The quick', false), { temperature: 0 })) {
        tokens.push(token);
        if (tokens.length === 24) break;
      }
      await context.dispose();
      return tokens;
    };
    const first = await generate();
    expect(first).toHaveLength(24);
    // Control and byte tokens have zero logits: greedy text is made of corpus characters.
    expect(first.every((token) => token >= FIRST_CHARACTER_TOKEN_ID && token < vocabularySize)).toBe(true);
    expect(await generate()).toEqual(first);
    await model.dispose();
  });
});
