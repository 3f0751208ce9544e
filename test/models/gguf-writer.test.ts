import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import {
  encodeGgufHeader,
  encodeTensorValues,
  gguf,
  GgmlTypeId,
  quantizeQ4_0,
  quantizeQ8_0,
  writeGguf,
} from '../../electron/core/models/gguf-writer.js';
import type { GgufKv, GgufTensor } from '../../electron/core/models/gguf-writer.js';
import { randomValues } from '../helpers/random.js';

// node-llama-cpp's own GGUF reader on files the writer made; the encodings alone are in test/unit/gguf-encoding.test.ts.

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-gguf-writer-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});


describe('writeGguf read back by node-llama-cpp', () => {
  const metadata: GgufKv[] = [
    { key: 'general.architecture', value: gguf.string('llama') },
    { key: 'general.alignment', value: gguf.uint32(64) },
    { key: 'test.u8', value: gguf.uint8(255) },
    { key: 'test.i8', value: gguf.int8(-128) },
    { key: 'test.u16', value: gguf.uint16(65535) },
    { key: 'test.i16', value: gguf.int16(-32768) },
    { key: 'test.u32', value: gguf.uint32(4294967295) },
    { key: 'test.i32', value: gguf.int32(-2147483648) },
    { key: 'test.f32', value: gguf.float32(1.5) },
    { key: 'test.bool', value: gguf.bool(true) },
    { key: 'test.string', value: gguf.string('héllo ▁ wörld 🙂') },
    { key: 'test.u64', value: gguf.uint64(18446744073709551615n) },
    { key: 'test.i64', value: gguf.int64(-9223372036854775808n) },
    { key: 'test.f64', value: gguf.float64(Math.PI) },
    { key: 'test.arr.u8', value: gguf.array({ type: 'uint8', values: [0, 1, 255] }) },
    { key: 'test.arr.i8', value: gguf.array({ type: 'int8', values: [-1, 127] }) },
    { key: 'test.arr.u16', value: gguf.array({ type: 'uint16', values: [1, 65535] }) },
    { key: 'test.arr.i16', value: gguf.array({ type: 'int16', values: [-2, 300] }) },
    { key: 'test.arr.u32', value: gguf.array({ type: 'uint32', values: [7, 4000000000] }) },
    { key: 'test.arr.i32', value: gguf.array({ type: 'int32', values: [-7, 6] }) },
    { key: 'test.arr.f32', value: gguf.array({ type: 'float32', values: new Float32Array([0.25, -8]) }) },
    { key: 'test.arr.bool', value: gguf.array({ type: 'bool', values: [true, false, true] }) },
    { key: 'test.arr.string', value: gguf.array({ type: 'string', values: ['a', '', '▁b'] }) },
    { key: 'test.arr.u64', value: gguf.array({ type: 'uint64', values: [1n, 2n ** 63n] }) },
    { key: 'test.arr.i64', value: gguf.array({ type: 'int64', values: [-1n, 5n] }) },
    { key: 'test.arr.f64', value: gguf.array({ type: 'float64', values: [0.1, -1e300] }) },
    { key: 'test.arr.empty', value: gguf.array({ type: 'uint32', values: [] }) },
    {
      key: 'test.arr.nested',
      value: gguf.array({
        type: 'array',
        values: [
          { type: 'int32', values: [1, 2] },
          { type: 'string', values: ['x'] },
        ],
      }),
    },
  ];
  const f32Values = randomValues(3 * 5, 1);
  const f16Values = randomValues(32 * 3, 2);
  const q8Values = randomValues(64 * 2, 3);
  const q4Values = randomValues(32 * 3, 4);
  const tensors: GgufTensor[] = [
    // Two chunks for one tensor: data may arrive in pieces.
    { name: 'a.f32', dims: [5, 3], type: 'f32', data: () => [f32Values.subarray(0, 5), f32Values.subarray(5)] },
    { name: 'b.f16', dims: [32, 3], type: 'f16', data: () => [f16Values] },
    { name: 'c.q8_0', dims: [64, 2], type: 'q8_0', data: () => [q8Values] },
    { name: 'd.q4_0', dims: [32, 1, 3], type: 'q4_0', data: () => [q4Values] },
  ];

  it('reads back every metadata type, the tensor infos and the aligned tensor data', async () => {
    const path = join(directory, 'roundtrip.gguf');
    const result = await writeGguf(path, { metadata, tensors });
    expect(result.alignment).toBe(64);
    expect(result.tensorDataOffset % 64).toBe(0);
    expect((await stat(path)).size).toBe(result.fileSize);

    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.tensorCount).toBe(4);
    const test = (info.metadata as unknown as { test: Record<string, unknown> }).test;
    expect(test).toMatchObject({
      u8: 255,
      i8: -128,
      u16: 65535,
      i16: -32768,
      u32: 4294967295,
      i32: -2147483648,
      f32: 1.5,
      bool: true,
      string: 'héllo ▁ wörld 🙂',
      u64: 18446744073709551615n,
      i64: -9223372036854775808n,
      f64: Math.PI,
    });
    expect(test['arr']).toEqual({
      u8: [0, 1, 255],
      i8: [-1, 127],
      u16: [1, 65535],
      i16: [-2, 300],
      u32: [7, 4000000000],
      i32: [-7, 6],
      f32: [0.25, -8],
      bool: [true, false, true],
      string: ['a', '', '▁b'],
      u64: [1n, 2n ** 63n],
      i64: [-1n, 5n],
      f64: [0.1, -1e300],
      empty: [],
      nested: [[1, 2], ['x']],
    });

    expect(info.infoEndOffset).toBe(result.tensorDataOffset);
    const read = info.tensorInfo ?? [];
    expect(read.map((t) => [t.name, t.dimensions, t.ggmlType])).toEqual([
      ['a.f32', [5, 3], GgmlTypeId.f32],
      ['b.f16', [32, 3], GgmlTypeId.f16],
      ['c.q8_0', [64, 2], GgmlTypeId.q8_0],
      ['d.q4_0', [32, 1, 3], GgmlTypeId.q4_0],
    ]);
    // 60 f32 bytes pad to 64; 192 f16 bytes are aligned; 4 Q8_0 blocks = 136 bytes pad to 192.
    expect(read.map((t) => t.offset)).toEqual([0, 64, 256, 448]);
    expect(result.tensors.map((t) => t.offset)).toEqual([0, 64, 256, 448]);

    const file = await readFile(path);
    const bytesOf = (index: number): Buffer => {
      const tensor = read[index];
      const written = result.tensors[index];
      if (tensor === undefined || written === undefined) throw new Error('missing tensor');
      const start = Number(tensor.fileOffset);
      return file.subarray(start, start + written.byteSize);
    };
    expect(Array.from(new Float32Array(new Uint8Array(bytesOf(0)).buffer))).toEqual(Array.from(f32Values));
    expect(bytesOf(1).equals(encodeTensorValues('f16', f16Values))).toBe(true);
    expect(bytesOf(2).equals(quantizeQ8_0(q8Values))).toBe(true);
    expect(bytesOf(3).equals(quantizeQ4_0(q4Values))).toBe(true);
    // The file ends with the last tensor padded to the alignment.
    expect(file.length).toBe(result.tensorDataOffset + 448 + 64);
  });

  it('defaults to 32-byte alignment and rejects an alignment that is not a power of two', async () => {
    const path = join(directory, 'default-alignment.gguf');
    const result = await writeGguf(path, { metadata: metadata.filter((kv) => kv.key !== 'general.alignment'), tensors });
    expect(result.alignment).toBe(32);
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.tensorInfo?.map((t) => t.offset)).toEqual([0, 64, 256, 416]);
    expect(() =>
      encodeGgufHeader({ metadata: [{ key: 'general.alignment', value: gguf.uint32(48) }], tensors: [] }),
    ).toThrow(/power of two/);
  });
});
