import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dequantizeQ4_0,
  dequantizeQ8_0,
  encodeGgufHeader,
  float16BitsToFloat32,
  gguf,
  float32ToFloat16Bits,
  quantizeQ4_0,
  quantizeQ8_0,
  roundToFloat16,
  writeGguf,
} from '../../electron/core/models/gguf-writer.js';
import type { GgufTensor } from '../../electron/core/models/gguf-writer.js';
import { randomValues } from '../helpers/random.js';

// The writer's encodings in plain TypeScript; test/models/gguf-writer.test.ts reads its files back with node-llama-cpp.

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-gguf-encoding-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});


describe('f16 conversion', () => {
  it('encodes exact values, extremes and special values as IEEE binary16', () => {
    expect(float32ToFloat16Bits(0)).toBe(0x0000);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0.5)).toBe(0x3800);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds up past the largest finite half
    expect(float32ToFloat16Bits(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(float32ToFloat16Bits(Number.NEGATIVE_INFINITY)).toBe(0xfc00);
    expect(float32ToFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(float32ToFloat16Bits(Number.NaN) & 0x3ff).not.toBe(0);
    expect(float32ToFloat16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
  });

  it('rounds to nearest, ties to even', () => {
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, even stays
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd rounds up
    expect(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // subnormal tie rounds to even (2)
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000); // subnormal tie rounds to even (0)
  });

  it('decodes every finite half back to the value it encodes', () => {
    const mismatches: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      if (float32ToFloat16Bits(float16BitsToFloat32(bits)) !== bits) mismatches.push(bits);
    }
    expect(mismatches).toEqual([]);
    expect(float16BitsToFloat32(0x8000)).toBe(-0);
    expect(roundToFloat16(1 / 3)).toBeCloseTo(0.33325195, 8);
  });
});

describe('Q8_0 and Q4_0 blocks', () => {
  it('Q8_0: f16 d = amax/127, q = round half away from zero', () => {
    const block = new Float32Array(32);
    block[0] = 127;
    block[1] = 2.5;
    block[2] = -2.5;
    block[3] = -127;
    block[4] = 0.49;
    const bytes = quantizeQ8_0(block);
    expect(bytes.length).toBe(34);
    expect(bytes.readUInt16LE(0)).toBe(0x3c00); // d = 1
    expect([bytes.readInt8(2), bytes.readInt8(3), bytes.readInt8(4), bytes.readInt8(5), bytes.readInt8(6)]).toEqual([
      127, 3, -3, -127, 0,
    ]);
  });

  it('Q4_0: d = (largest by magnitude)/-8, low nibbles hold elements 0..15, high nibbles 16..31', () => {
    const block = Float32Array.from({ length: 32 }, (_, i) => (i < 16 ? i - 8 : 23 - i));
    const bytes = quantizeQ4_0(block);
    expect(bytes.length).toBe(18);
    expect(bytes.readUInt16LE(0)).toBe(0x3c00); // max by magnitude is -8, so d = 1
    for (let j = 0; j < 16; j++) expect(bytes[2 + j]).toBe(j | ((15 - j) << 4));

    // A positive extreme gives a negative scale: q = trunc(x/d + 8.5) then clamps to 15.
    const positive = new Float32Array(32);
    positive[0] = 8;
    positive[1] = -7;
    positive[16] = -8;
    const flipped = quantizeQ4_0(positive);
    expect(flipped.readUInt16LE(0)).toBe(0xbc00); // d = -1
    expect((flipped[2] ?? 0) & 0x0f).toBe(0); // 8/-1 + 8.5 = 0.5 -> 0
    expect((flipped[3] ?? 0) & 0x0f).toBe(15); // 7 + 8.5 = 15.5 -> 15
    expect((flipped[2] ?? 0) >> 4).toBe(15); // 8 + 8.5 = 16.5 -> clamped to 15
    expect((flipped[4] ?? 0) & 0x0f).toBe(8); // zero sits at 8
  });

  it('dequantizes within half a step (Q8_0) and one step (Q4_0) of the input', () => {
    const values = randomValues(32 * 64, 7, 3);
    const q8 = dequantizeQ8_0(quantizeQ8_0(values));
    const q4 = dequantizeQ4_0(quantizeQ4_0(values));
    for (let block = 0; block < 64; block++) {
      const slice = values.subarray(block * 32, block * 32 + 32);
      const amax = Math.max(...Array.from(slice, Math.abs));
      for (let j = 0; j < 32; j++) {
        const i = block * 32 + j;
        expect(Math.abs((q8[i] ?? 0) - (values[i] ?? 0))).toBeLessThanOrEqual((amax / 127) * 0.5 + 1e-3 * amax);
        expect(Math.abs((q4[i] ?? 0) - (values[i] ?? 0))).toBeLessThanOrEqual((amax / 8) * 1.01);
      }
    }
  });

  it('refuses row lengths that are not whole blocks', () => {
    expect(() => quantizeQ4_0(new Float32Array(33))).toThrow(/multiple of 32/);
    expect(() =>
      encodeGgufHeader({
        metadata: [],
        tensors: [{ name: 'w', dims: [48, 2], type: 'q8_0', data: () => [] }],
      }),
    ).toThrow(/multiple of 32/);
  });
});

describe('writeGguf input checks', () => {
  it('encodes headers larger than its first 64 KiB buffer, numbers at the boundary included', () => {
    // Strings of 8 + 12 bytes put every fourth length field across the 65,536-byte boundary at some point.
    const tokens = Array.from({ length: 5000 }, (_, index) => `tok${String(index).padStart(9, '0')}`);
    const { header } = encodeGgufHeader({
      metadata: [{ key: 'tokenizer.ggml.tokens', value: gguf.array({ type: 'string', values: tokens }) }],
      tensors: [],
    });
    expect(header.length).toBeGreaterThan(1 << 16);
    // magic, version, counts, key, type, item type, item count, then each token as length + bytes.
    let at = 4 + 4 + 8 + 8 + 8 + 'tokenizer.ggml.tokens'.length + 4 + 4;
    expect(header.readBigUInt64LE(at)).toBe(5000n);
    at += 8;
    for (const token of tokens) {
      expect(header.readBigUInt64LE(at)).toBe(BigInt(token.length));
      expect(header.toString('utf8', at + 8, at + 8 + token.length)).toBe(token);
      at += 8 + token.length;
    }
  });

  it('refuses tensor data that does not match the dims', async () => {
    const short: GgufTensor = { name: 'short', dims: [4, 4], type: 'f32', data: () => [new Float32Array(15)] };
    await expect(writeGguf(join(directory, 'short.gguf'), { metadata: [], tensors: [short] })).rejects.toThrow(/short/);
    const long: GgufTensor = { name: 'long', dims: [4], type: 'f32', data: () => [new Float32Array(5)] };
    await expect(writeGguf(join(directory, 'long.gguf'), { metadata: [], tensors: [long] })).rejects.toThrow(/long/);
  });
});
