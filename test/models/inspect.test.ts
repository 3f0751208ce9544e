import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import type { Llama } from 'node-llama-cpp';
import { ModelInspectionSchema } from '../../electron/common/contract.js';
import { bigramEmbeddingWidth, buildBigramModel } from '../../electron/core/models/bigram-model.js';
import { buildCharacterVocabulary } from '../../electron/core/models/character-vocabulary.js';
import { encodeGgufHeader, gguf, writeGguf } from '../../electron/core/models/gguf-writer.js';
import type { GgufFileDescription } from '../../electron/core/models/gguf-writer.js';
import { inspectModel } from '../../electron/core/models/inspect.js';
import { buildShapeModel, shapeModelParameterCount } from '../../electron/core/models/shape-model.js';
import type { ModelShape } from '../../electron/core/models/shape-model.js';

const CORPUS = 'the cat sat on the mat.\nthe dog ate a hot dog.\n';
const SHAPE: ModelShape = { d: 128, l: 3, f: 256, h: 4, hkv: 2 };

let directory = '';
let llama: Llama;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-inspect-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
afterAll(async () => {
  await llama?.dispose();
  await rm(directory, { recursive: true, force: true });
});

async function write(name: string, description: GgufFileDescription): Promise<string> {
  const path = join(directory, `${name}.gguf`);
  await writeGguf(path, description);
  return path;
}

function parameterCount(description: GgufFileDescription): number {
  return encodeGgufHeader(description).tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
}

describe('inspectModel', () => {
  it('describes a bigram model exactly as it was written', async () => {
    const description = buildBigramModel(CORPUS, { name: 'Cats and dogs', contextLength: 2048 });
    const path = await write('bigram', description);
    const inspection = await inspectModel(llama, path);
    expect(ModelInspectionSchema.strict().parse(inspection)).toEqual(inspection);

    const vocabulary = buildCharacterVocabulary(CORPUS);
    const size = (await readFile(path)).length;
    expect(inspection).toMatchObject({
      path,
      sizeBytes: size,
      name: 'Cats and dogs',
      architecture: 'llama',
      fileType: 'F32',
      parameters: parameterCount(description),
      trainedContextSize: 2048,
      embeddingLength: bigramEmbeddingWidth(vocabulary),
      blockCount: 1,
      vocabularySize: vocabulary.tokens.length,
      tensorCount: 12,
      hasChatTemplate: true,
    });
    expect(inspection.metadata).toMatchObject({
      'general.name': 'Cats and dogs',
      'general.architecture': 'llama',
      'llama.context_length': 2048,
      'llama.attention.head_count': 1,
      'tokenizer.ggml.model': 'llama',
      'tokenizer.ggml.add_bos_token': true,
      'tokenizer.ggml.tokens': `[${vocabulary.tokens.length} strings]`,
      'tokenizer.ggml.scores': `[${vocabulary.tokens.length} numbers]`,
    });
    expect(inspection.metadata['tokenizer.chat_template']).toContain("message['role']");

    // The whole model is F32 weights: the estimate holds at least them, and not wildly more.
    const { estimate } = inspection;
    expect(estimate.contextSize).toBe(2048);
    expect(estimate.modelRamBytes).toBeGreaterThanOrEqual(parameterCount(description) * 4);
    expect(estimate.modelRamBytes).toBeLessThan(size * 2);
    expect(estimate.modelVramBytes).toBe(0);
    expect(estimate.contextVramBytes).toBe(0);
    expect(estimate.contextRamBytes).toBeGreaterThan(0);
    expect(Math.abs(estimate.freeRamBytes - os.freemem())).toBeLessThan(2 ** 30);
    expect(estimate.fits).toBe(true);
    expect(estimate.summary).toMatch(/^needs \d+(?:\.\d)? (?:KB|MB), \d+(?:\.\d)? GB free$/);
  });

  it('estimates the context asked for, and caps the default at 4096 tokens', async () => {
    const path = await write('long-context', buildBigramModel(CORPUS, { contextLength: 32_768 }));
    const byDefault = await inspectModel(llama, path);
    const small = await inspectModel(llama, path, { contextSize: 256 });
    const large = await inspectModel(llama, path, { contextSize: 16_384 });
    expect(byDefault.trainedContextSize).toBe(32_768);
    expect([byDefault.estimate.contextSize, small.estimate.contextSize, large.estimate.contextSize]).toEqual([4096, 256, 16_384]);
    expect(small.estimate.contextRamBytes).toBeLessThan(byDefault.estimate.contextRamBytes);
    expect(byDefault.estimate.contextRamBytes).toBeLessThan(large.estimate.contextRamBytes);
    expect(small.estimate.modelRamBytes).toBe(large.estimate.modelRamBytes);
  });

  it.each(['q4_0', 'q8_0', 'f16'] as const)('names the quantization of a %s shape model and counts its parameters', async (quant) => {
    const path = await write(`shape-${quant}`, buildShapeModel({ shape: SHAPE, quant, seed: 2 }));
    const inspection = await inspectModel(llama, path);
    expect(inspection.fileType).toBe(quant.toUpperCase());
    expect(inspection.parameters).toBe(shapeModelParameterCount(SHAPE));
    expect(inspection).toMatchObject({ blockCount: SHAPE.l, embeddingLength: SHAPE.d, trainedContextSize: 2048 });
    expect(inspection.metadata['llama.attention.head_count_kv']).toBe(SHAPE.hkv);
  });

  it('reports a model that does not fit, with both numbers', async () => {
    const path = await write('tight', buildBigramModel(CORPUS));
    const inspection = await inspectModel(llama, path, { availableMemory: () => 200_000 });
    expect(inspection.estimate.fits).toBe(false);
    expect(inspection.estimate.freeRamBytes).toBe(200_000);
    expect(inspection.estimate.summary).toMatch(/^needs \d+(?:\.\d)? MB, only 200 KB free$/);
  });

  it('fails with the coded error of a broken file', async () => {
    const valid = await readFile(await write('valid', buildBigramModel(CORPUS)));
    const truncated = join(directory, 'truncated.gguf');
    await writeFile(truncated, valid.subarray(0, valid.length - 1000));
    const notGguf = join(directory, 'notes.gguf');
    await writeFile(notGguf, 'just some notes\n');
    const description = buildBigramModel(CORPUS);
    const nonsense = await write('nonsense', {
      ...description,
      metadata: description.metadata.map((kv) => (kv.key === 'general.architecture' ? { key: kv.key, value: gguf.string('nonsense') } : kv)),
    });
    await expect(inspectModel(llama, join(directory, 'absent.gguf'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(inspectModel(llama, directory)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(inspectModel(llama, truncated)).rejects.toMatchObject({ code: 'MODEL_TRUNCATED' });
    await expect(inspectModel(llama, notGguf)).rejects.toMatchObject({ code: 'MODEL_NOT_GGUF' });
    await expect(inspectModel(llama, nonsense)).rejects.toMatchObject({
      code: 'MODEL_UNSUPPORTED',
      message: expect.stringContaining('"nonsense"'),
    });
  });
});
