import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmergentError } from '../../electron/common/errors.js';
import type { ErrorCode } from '../../electron/common/errors.js';
import { checkModelFile } from '../../electron/core/engine/model-errors.js';
import { buildBigramModel } from '../../electron/core/models/bigram-model.js';
import { gguf, writeGguf } from '../../electron/core/models/gguf-writer.js';
import type { GgufFileDescription, GgufKv } from '../../electron/core/models/gguf-writer.js';
import { buildShapeModel } from '../../electron/core/models/shape-model.js';

// The pre-check on files made with the writer, without llama.cpp; test/models/model-errors.test.ts
// runs the same kinds of damage through node-llama-cpp.

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-file-check-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function written(name: string, description: GgufFileDescription): Promise<{ path: string; bytes: Buffer; tensorDataOffset: number }> {
  const path = join(directory, `${name}.gguf`);
  const { tensorDataOffset } = await writeGguf(path, description);
  return { path, bytes: await readFile(path), tensorDataOffset };
}

async function codeOf(path: string): Promise<ErrorCode | 'ok'> {
  try {
    await checkModelFile(path);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(EmergentError);
    return (err as EmergentError).code;
  }
}

async function withBytes(name: string, bytes: Buffer): Promise<string> {
  const path = join(directory, `${name}.gguf`);
  await writeFile(path, bytes);
  return path;
}

/** Every kind of metadata value, nested arrays and a 64-byte alignment. */
const EVERY_VALUE_TYPE: GgufKv[] = [
  { key: 'general.architecture', value: gguf.string('llama') },
  { key: 'general.alignment', value: gguf.uint32(64) },
  { key: 'test.u8', value: gguf.uint8(1) },
  { key: 'test.i16', value: gguf.int16(-2) },
  { key: 'test.f64', value: gguf.float64(0.5) },
  { key: 'test.u64', value: gguf.uint64(2n ** 60n) },
  { key: 'test.bool', value: gguf.bool(true) },
  { key: 'test.strings', value: gguf.array({ type: 'string', values: ['a', '', 'héllo'] }) },
  { key: 'test.i64s', value: gguf.array({ type: 'int64', values: [-1n, 5n] }) },
  {
    key: 'test.nested',
    value: gguf.array({ type: 'array', values: [{ type: 'int32', values: [1, 2] }, { type: 'string', values: ['x'] }] }),
  },
];

describe('checkModelFile', () => {
  it('accepts what the writer makes and finds its tensor data', async () => {
    const bigram = await written('bigram', buildBigramModel('the cat sat on the mat.\n'));
    const shape = await written('shape', buildShapeModel({ shape: { d: 64, l: 2, f: 128, h: 4, hkv: 2 }, quant: 'q4_0' }));
    const everyType = await written('every-type', {
      metadata: EVERY_VALUE_TYPE,
      tensors: [
        { name: 'w', dims: [64, 3], type: 'q8_0', data: () => [new Float32Array(192)] },
        { name: 'v', dims: [5], type: 'f32', data: () => [new Float32Array(5)] },
      ],
    });
    for (const file of [bigram, shape, everyType]) {
      const check = await checkModelFile(file.path);
      expect(check.sizeBytes).toBe(file.bytes.length);
      expect(check.version).toBe(3);
      expect(check.tensorDataOffset).toBe(file.tensorDataOffset);
      // The writer pads the last tensor to the alignment; the data itself ends at most that much earlier.
      expect(check.tensorDataEnd).toBeLessThanOrEqual(file.bytes.length);
      expect(check.tensorDataEnd).toBeGreaterThan(file.bytes.length - 64);
    }
    expect((await checkModelFile(everyType.path)).metadataCount).toBe(EVERY_VALUE_TYPE.length);
    expect((await checkModelFile(shape.path)).tensorCount).toBe(3 + 9 * 2);
  });

  it('calls a file cut anywhere incomplete, and one cut inside the magic not GGUF', async () => {
    const { bytes, tensorDataOffset } = await written('to-cut', buildBigramModel('ab ba.\n'));
    // Every byte of the fixed header and first entries, then a step that is prime to every field
    // size, so cuts land inside strings, counts, types and tensor infos; then a spread over the data.
    const cuts = [...Array.from({ length: 160 }, (_, at) => at), tensorDataOffset, tensorDataOffset + 1, bytes.length - 1];
    for (let at = 160; at < tensorDataOffset; at += 13) cuts.push(at);
    for (let at = tensorDataOffset; at < bytes.length; at += 997) cuts.push(at);
    const codes = new Map<number, ErrorCode | 'ok'>();
    for (const at of cuts) codes.set(at, await codeOf(await withBytes('cut', bytes.subarray(0, at))));
    for (const [at, code] of codes) expect(code, `cut at byte ${at}`).toBe(at < 4 ? 'MODEL_NOT_GGUF' : 'MODEL_TRUNCATED');
  });

  it('names what is damaged', async () => {
    const { bytes } = await written('to-damage', buildBigramModel('ab ba.\n'));
    const damaged = async (name: string, edit: (copy: Buffer) => void): Promise<string> => {
      const copy = Buffer.from(bytes);
      edit(copy);
      try {
        await checkModelFile(await withBytes(name, copy));
      } catch (err) {
        return `${(err as EmergentError).code}: ${(err as EmergentError).message}`;
      }
      return 'ok';
    };
    // general.architecture: key length at 24, type at 52, value length at 56.
    expect(await damaged('value-type', (copy) => copy.writeUInt32LE(13, 52))).toMatch(
      /^MODEL_CORRUPT: value-type\.gguf is damaged: metadata "general\.architecture" has value type 13/,
    );
    expect(await damaged('value-length', (copy) => copy.writeBigUInt64LE(2n ** 40n, 56))).toMatch(
      /^MODEL_CORRUPT: .*metadata "general\.architecture" declares a length of 1099511627776 bytes/,
    );
    expect(await damaged('tensor-count', (copy) => copy.writeBigUInt64LE(10n ** 9n, 8))).toMatch(
      /^MODEL_CORRUPT: .*declares 1000000000 tensors/,
    );
    expect(await damaged('huge-count', (copy) => copy.writeBigUInt64LE(2n ** 63n, 16))).toMatch(/^MODEL_CORRUPT: .*larger than any file/);
    expect(await damaged('version-1', (copy) => copy.writeUInt32LE(1, 4))).toMatch(/^MODEL_UNSUPPORTED: .*GGUF version 1,/);
    expect(await damaged('version-4', (copy) => copy.writeUInt32LE(4, 4))).toMatch(/^MODEL_UNSUPPORTED: .*GGUF version 4;/);
    expect(await damaged('version-0', (copy) => copy.writeUInt32LE(0, 4))).toMatch(/^MODEL_CORRUPT: .*GGUF version 0/);
    expect(await damaged('big-endian', (copy) => copy.writeUInt32BE(3, 4))).toMatch(/^MODEL_UNSUPPORTED: .*big-endian/);
    expect(await damaged('old-ggml', (copy) => copy.writeUInt32LE(0x67676a74, 0))).toMatch(/^MODEL_NOT_GGUF: .*GGML format that came before GGUF/);
    expect(await damaged('binary', (copy) => copy.set([0x7f, 0x45, 0x4c, 0x46], 0))).toMatch(/^MODEL_NOT_GGUF: .*starts with the bytes 7f454c46/);
  });

  it('refuses damage in the tensor infos', async () => {
    const description: GgufFileDescription = {
      metadata: [{ key: 'general.architecture', value: gguf.string('llama') }],
      tensors: [{ name: 'w', dims: [4, 2], type: 'f32', data: () => [new Float32Array(8)] }],
    };
    const { bytes } = await written('one-tensor', description);
    // After the 24-byte header and the one entry (8 + 20 + 4 + 8 + 5 bytes): name length, name "w", dimension count.
    const dimensionCountAt = 24 + 45 + 8 + 1;
    expect(bytes.readUInt32LE(dimensionCountAt)).toBe(2);
    const copy = Buffer.from(bytes);
    copy.writeUInt32LE(5, dimensionCountAt);
    await expect(checkModelFile(await withBytes('five-dims', copy))).rejects.toMatchObject({
      code: 'MODEL_CORRUPT',
      message: expect.stringMatching(/tensor 'w' has 5 dimensions/),
    });
    const far = Buffer.from(bytes);
    far.writeBigUInt64LE(1n << 40n, dimensionCountAt + 4);
    await expect(checkModelFile(await withBytes('far-dims', far))).rejects.toMatchObject({ code: 'MODEL_TRUNCATED' });
  });

  it('walks a header with a large vocabulary quickly', async () => {
    const tokens = Array.from({ length: 200_000 }, (_, index) => `token-${index}`);
    const { path } = await written('large-vocabulary', {
      metadata: [
        { key: 'general.architecture', value: gguf.string('llama') },
        { key: 'tokenizer.ggml.tokens', value: gguf.array({ type: 'string', values: tokens }) },
        { key: 'tokenizer.ggml.scores', value: gguf.array({ type: 'float32', values: new Float32Array(tokens.length) }) },
      ],
      tensors: [{ name: 'w', dims: [32], type: 'f32', data: () => [new Float32Array(32)] }],
    });
    const started = performance.now();
    await checkModelFile(path);
    // Measured ~150 ms on the 2-core CI machine; the bound only catches a walk gone quadratic.
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
