import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGgufHeader, writeGguf } from '../../electron/core/models/gguf-writer.js';
import {
  buildShapeModel,
  NAMED_MODEL_SHAPES,
  SHAPE_MODEL_CORPUS,
  shapeModelParameterCount,
} from '../../electron/core/models/shape-model.js';
import type { ModelShape } from '../../electron/core/models/shape-model.js';
import { buildCharacterVocabulary } from '../../electron/core/models/character-vocabulary.js';

// Layout and determinism of the random-weight models, without llama.cpp (test/models/shape-model.test.ts runs them).

const TINY_SHAPE: ModelShape = { d: 64, l: 2, f: 128, h: 4, hkv: 2 };
const vocabularySize = buildCharacterVocabulary(SHAPE_MODEL_CORPUS).tokens.length;

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-shape-layout-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('shape model layout', () => {
  it.each([
    ['tinyllama-1.1b', 'q4_0', 0.5e9, 0.6e9],
    ['llama-3.2-1b', 'q8_0', 1.0e9, 1.1e9],
  ] as const)('lays out %s (%s) with the real tensor shapes', (shape, quant, minBytes, maxBytes) => {
    const { d, l, f, h, hkv } = NAMED_MODEL_SHAPES[shape];
    const description = buildShapeModel({ shape, quant, seed: 1 });
    // Only the layout: no weights are generated until the file is written.
    const { tensors } = encodeGgufHeader(description);
    expect(tensors).toHaveLength(3 + 9 * l);
    const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
    const kvWidth = (d / h) * hkv;
    expect(byName.get('token_embd.weight')?.dims).toEqual([d, vocabularySize]);
    expect(byName.get(`blk.${l - 1}.attn_q.weight`)?.dims).toEqual([d, d]);
    expect(byName.get('blk.0.attn_k.weight')?.dims).toEqual([d, kvWidth]);
    expect(byName.get('blk.0.attn_v.weight')?.dims).toEqual([d, kvWidth]);
    expect(byName.get('blk.0.ffn_gate.weight')?.dims).toEqual([d, f]);
    expect(byName.get('blk.0.ffn_down.weight')?.dims).toEqual([f, d]);
    expect(byName.get('blk.0.ffn_down.weight')?.type).toBe(quant);
    expect(byName.get('blk.0.attn_norm.weight')?.type).toBe('f32');
    expect(byName.get('output.weight')?.type).toBe('q8_0');
    const last = tensors[tensors.length - 1];
    const dataBytes = (last?.offset ?? 0) + (last?.byteSize ?? 0);
    expect(dataBytes).toBeGreaterThan(minBytes);
    expect(dataBytes).toBeLessThan(maxBytes);
    const parameters = tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
    expect(parameters).toBe(shapeModelParameterCount(shape));
    const metadata = new Map(description.metadata.map((kv) => [kv.key, kv.value]));
    expect(metadata.get('llama.attention.head_count_kv')).toEqual({ type: 'uint32', value: hkv });
    expect(metadata.get('llama.feed_forward_length')).toEqual({ type: 'uint32', value: f });
  });

  it('rejects shapes llama.cpp or the block formats cannot hold', () => {
    expect(() => buildShapeModel({ shape: { d: 48, l: 1, f: 64, h: 2, hkv: 1 }, quant: 'q4_0' })).toThrow(/multiples of 32/);
    expect(() => buildShapeModel({ shape: { d: 64, l: 1, f: 64, h: 3, hkv: 1 }, quant: 'q8_0' })).toThrow(/even integer/);
    expect(() => buildShapeModel({ shape: { d: 64, l: 1, f: 64, h: 4, hkv: 3 }, quant: 'q8_0' })).toThrow(/multiple of hkv/);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const paths = ['a', 'b', 'c'].map((name) => join(directory, `seed-${name}.gguf`));
    await writeGguf(paths[0] as string, buildShapeModel({ shape: TINY_SHAPE, quant: 'q4_0', seed: 7 }));
    await writeGguf(paths[1] as string, buildShapeModel({ shape: TINY_SHAPE, quant: 'q4_0', seed: 7 }));
    await writeGguf(paths[2] as string, buildShapeModel({ shape: TINY_SHAPE, quant: 'q4_0', seed: 8 }));
    const [a, b, c] = await Promise.all(paths.map(sha256));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});
