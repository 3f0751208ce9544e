// GGUF v3 writer: metadata of every GGUF value type, tensor infos, aligned tensor data
// (F32, F16, Q8_0, Q4_0). Streams tensor by tensor so a 1B-parameter file never sits in memory.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Values per block of the Q8_0 and Q4_0 formats (ggml's QK8_0 and QK4_0). */
export const GGML_QUANT_BLOCK_SIZE = 32;

/** GGUF value type ids, as written in the file. */
export const GgufValueTypeId = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufNumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';

/** The items of a GGUF array: one item type for all of them; arrays may nest. */
export type GgufArrayItems =
  | { readonly type: GgufNumberType; readonly values: ArrayLike<number> }
  | { readonly type: GgufBigIntType; readonly values: readonly bigint[] }
  | { readonly type: 'bool'; readonly values: readonly boolean[] }
  | { readonly type: 'string'; readonly values: readonly string[] }
  | { readonly type: 'array'; readonly values: readonly GgufArrayItems[] };

export type GgufValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'array'; readonly items: GgufArrayItems };

export type GgufKv = { readonly key: string; readonly value: GgufValue };

/** Shorthand constructors so metadata lists read like the GGUF spec. */
export const gguf = {
  uint8: (value: number): GgufValue => ({ type: 'uint8', value }),
  int8: (value: number): GgufValue => ({ type: 'int8', value }),
  uint16: (value: number): GgufValue => ({ type: 'uint16', value }),
  int16: (value: number): GgufValue => ({ type: 'int16', value }),
  uint32: (value: number): GgufValue => ({ type: 'uint32', value }),
  int32: (value: number): GgufValue => ({ type: 'int32', value }),
  float32: (value: number): GgufValue => ({ type: 'float32', value }),
  float64: (value: number): GgufValue => ({ type: 'float64', value }),
  uint64: (value: bigint): GgufValue => ({ type: 'uint64', value }),
  int64: (value: bigint): GgufValue => ({ type: 'int64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  string: (value: string): GgufValue => ({ type: 'string', value }),
  array: (items: GgufArrayItems): GgufValue => ({ type: 'array', items }),
} as const;

export type GgmlTensorType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

/** ggml_type ids of the tensor types this writer encodes. */
export const GgmlTypeId: Readonly<Record<GgmlTensorType, number>> = { f32: 0, f16: 1, q4_0: 2, q8_0: 8 };

/** llama_ftype of a file whose large tensors are all of one type (`general.file_type`). */
export const LlamaFileTypeId: Readonly<Record<GgmlTensorType, number>> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

export type GgufTensor = {
  readonly name: string;
  /** ggml order: dims[0] is the length of a contiguous row (the fastest-varying index). */
  readonly dims: readonly number[];
  readonly type: GgmlTensorType;
  /**
   * The tensor's values, row after row, in chunks. For Q8_0/Q4_0 every chunk's length must be a
   * multiple of 32. Called once, while the file is written, so weights can be generated lazily.
   */
  readonly data: () => Iterable<Float32Array>;
};

export type GgufFileDescription = {
  readonly metadata: readonly GgufKv[];
  readonly tensors: readonly GgufTensor[];
};

export type GgufWrittenTensor = {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: GgmlTensorType;
  /** Offset from the start of the tensor data section, as written in the tensor info. */
  readonly offset: number;
  readonly byteSize: number;
};

export type GgufWriteResult = {
  readonly path: string;
  readonly fileSize: number;
  readonly alignment: number;
  /** File offset of the tensor data section. */
  readonly tensorDataOffset: number;
  readonly tensors: readonly GgufWrittenTensor[];
};

// ---------------------------------------------------------------- f16

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE 754 binary16 bits of a float, rounding to nearest even as ggml's FP32_TO_FP16 does. */
export function float32ToFloat16Bits(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the full significand, then round to nearest even.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const half = significand >>> shift;
    const remainder = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (half & 1) === 1);
    return sign | (half + (roundUp ? 1 : 0));
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1);
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (half + (roundUp ? 1 : 0));
}

/** The float a binary16 bit pattern stands for. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The value a float becomes after a round trip through f16. */
export function roundToFloat16(value: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(value));
}

// ---------------------------------------------------------------- tensor encoding

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const Q8_0_BLOCK_BYTES = 2 + GGML_QUANT_BLOCK_SIZE;
const Q4_0_BLOCK_BYTES = 2 + GGML_QUANT_BLOCK_SIZE / 2;

/** Bytes a tensor of `elementCount` values takes in the given type. */
export function ggmlTensorByteSize(type: GgmlTensorType, elementCount: number): number {
  switch (type) {
    case 'f32':
      return elementCount * 4;
    case 'f16':
      return elementCount * 2;
    case 'q8_0':
      return (elementCount / GGML_QUANT_BLOCK_SIZE) * Q8_0_BLOCK_BYTES;
    case 'q4_0':
      return (elementCount / GGML_QUANT_BLOCK_SIZE) * Q4_0_BLOCK_BYTES;
  }
}

/** C's roundf: halves away from zero (Math.round sends -2.5 to -2). */
function roundHalfAwayFromZero(value: number): number {
  return value < 0 ? -Math.floor(-value + 0.5) : Math.floor(value + 0.5);
}

/** Q8_0 blocks exactly as ggml's quantize_row_q8_0_ref: f16 d = amax/127, int8 q = round(x/d). */
export function quantizeQ8_0(values: Float32Array): Buffer {
  if (values.length % GGML_QUANT_BLOCK_SIZE !== 0) throw new Error('Q8_0 needs a multiple of 32 values');
  const blockCount = values.length / GGML_QUANT_BLOCK_SIZE;
  const out = Buffer.alloc(blockCount * Q8_0_BLOCK_BYTES);
  const quants = new Int8Array(out.buffer, out.byteOffset, out.length);
  for (let block = 0; block < blockCount; block++) {
    const start = block * GGML_QUANT_BLOCK_SIZE;
    let amax = 0;
    for (let j = 0; j < GGML_QUANT_BLOCK_SIZE; j++) amax = Math.max(amax, Math.abs(values[start + j] ?? 0));
    // ggml computes in f32; Math.fround keeps every step bit-identical.
    const d = Math.fround(amax / 127);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const at = block * Q8_0_BLOCK_BYTES;
    out.writeUInt16LE(float32ToFloat16Bits(d), at);
    for (let j = 0; j < GGML_QUANT_BLOCK_SIZE; j++) {
      quants[at + 2 + j] = roundHalfAwayFromZero(Math.fround((values[start + j] ?? 0) * inverse));
    }
  }
  return out;
}

/**
 * Q4_0 blocks exactly as ggml's quantize_row_q4_0_ref: f16 d = (value of largest magnitude)/-8,
 * q = min(15, trunc(x/d + 8.5)); byte j holds element j in its low nibble and element j+16 in its high one.
 */
export function quantizeQ4_0(values: Float32Array): Buffer {
  if (values.length % GGML_QUANT_BLOCK_SIZE !== 0) throw new Error('Q4_0 needs a multiple of 32 values');
  const blockCount = values.length / GGML_QUANT_BLOCK_SIZE;
  const halfBlock = GGML_QUANT_BLOCK_SIZE / 2;
  const out = Buffer.alloc(blockCount * Q4_0_BLOCK_BYTES);
  for (let block = 0; block < blockCount; block++) {
    const start = block * GGML_QUANT_BLOCK_SIZE;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < GGML_QUANT_BLOCK_SIZE; j++) {
      const v = values[start + j] ?? 0;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const at = block * Q4_0_BLOCK_BYTES;
    out.writeUInt16LE(float32ToFloat16Bits(d), at);
    for (let j = 0; j < halfBlock; j++) {
      const low = Math.fround(Math.fround((values[start + j] ?? 0) * inverse) + 8.5);
      const high = Math.fround(Math.fround((values[start + halfBlock + j] ?? 0) * inverse) + 8.5);
      const lowNibble = Math.min(15, Math.trunc(low));
      const highNibble = Math.min(15, Math.trunc(high));
      out[at + 2 + j] = lowNibble | (highNibble << 4);
    }
  }
  return out;
}

/** Q8_0 bytes back to floats (as ggml's dequantize_row_q8_0). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blockCount = view.length / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(blockCount * GGML_QUANT_BLOCK_SIZE);
  for (let block = 0; block < blockCount; block++) {
    const at = block * Q8_0_BLOCK_BYTES;
    const d = float16BitsToFloat32(view.readUInt16LE(at));
    for (let j = 0; j < GGML_QUANT_BLOCK_SIZE; j++) out[block * GGML_QUANT_BLOCK_SIZE + j] = view.readInt8(at + 2 + j) * d;
  }
  return out;
}

/** Q4_0 bytes back to floats (as ggml's dequantize_row_q4_0). */
export function dequantizeQ4_0(bytes: Uint8Array): Float32Array {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blockCount = view.length / Q4_0_BLOCK_BYTES;
  const halfBlock = GGML_QUANT_BLOCK_SIZE / 2;
  const out = new Float32Array(blockCount * GGML_QUANT_BLOCK_SIZE);
  for (let block = 0; block < blockCount; block++) {
    const at = block * Q4_0_BLOCK_BYTES;
    const d = float16BitsToFloat32(view.readUInt16LE(at));
    for (let j = 0; j < halfBlock; j++) {
      const packed = view[at + 2 + j] ?? 0;
      out[block * GGML_QUANT_BLOCK_SIZE + j] = ((packed & 0x0f) - 8) * d;
      out[block * GGML_QUANT_BLOCK_SIZE + halfBlock + j] = ((packed >> 4) - 8) * d;
    }
  }
  return out;
}

/** Encodes a chunk of tensor values into the bytes of the given ggml type. */
export function encodeTensorValues(type: GgmlTensorType, values: Float32Array): Buffer {
  switch (type) {
    case 'f32': {
      if (!HOST_IS_LITTLE_ENDIAN) {
        const out = Buffer.alloc(values.length * 4);
        for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i] ?? 0, i * 4);
        return out;
      }
      return Buffer.from(values.slice().buffer);
    }
    case 'f16': {
      const out = Buffer.alloc(values.length * 2);
      for (let i = 0; i < values.length; i++) out.writeUInt16LE(float32ToFloat16Bits(values[i] ?? 0), i * 2);
      return out;
    }
    case 'q8_0':
      return quantizeQ8_0(values);
    case 'q4_0':
      return quantizeQ4_0(values);
  }
}

// ---------------------------------------------------------------- header encoding

/** Growable little-endian byte sink for the (small) header part of the file. */
class ByteSink {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(bytes: number): number {
    if (this.length + bytes > this.buffer.length) {
      const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    const at = this.length;
    this.length += bytes;
    return at;
  }

  bytes(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
  }
  // Reserve before naming this.buffer: reserve() may replace it, and `this.buffer.writeX(v, this.reserve(n))`
  // would evaluate the old buffer first and write into it.
  u8(v: number): void {
    const at = this.reserve(1);
    this.buffer.writeUInt8(v, at);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.buffer.writeInt8(v, at);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.buffer.writeUInt16LE(v, at);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.buffer.writeInt16LE(v, at);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeUInt32LE(v, at);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeInt32LE(v, at);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeFloatLE(v, at);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.buffer.writeDoubleLE(v, at);
  }
  u64(v: bigint | number): void {
    const at = this.reserve(8);
    this.buffer.writeBigUInt64LE(BigInt(v), at);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.buffer.writeBigInt64LE(v, at);
  }
  /** GGUF string: uint64 byte length, then UTF-8 bytes, no terminator. */
  string(v: string): void {
    const encoded = Buffer.from(v, 'utf8');
    this.u64(encoded.length);
    this.bytes(encoded);
  }
  zeros(count: number): void {
    this.reserve(count); // Buffer.alloc zero-fills, and the buffer only grows.
  }
  contents(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeNumber(sink: ByteSink, type: GgufNumberType, value: number): void {
  switch (type) {
    case 'uint8':
      return sink.u8(value);
    case 'int8':
      return sink.i8(value);
    case 'uint16':
      return sink.u16(value);
    case 'int16':
      return sink.i16(value);
    case 'uint32':
      return sink.u32(value);
    case 'int32':
      return sink.i32(value);
    case 'float32':
      return sink.f32(value);
    case 'float64':
      return sink.f64(value);
  }
}

function writeArrayItems(sink: ByteSink, items: GgufArrayItems): void {
  sink.u32(GgufValueTypeId[items.type]);
  sink.u64(items.values.length);
  switch (items.type) {
    case 'uint64':
      for (const v of items.values) sink.u64(v);
      return;
    case 'int64':
      for (const v of items.values) sink.i64(v);
      return;
    case 'bool':
      for (const v of items.values) sink.u8(v ? 1 : 0);
      return;
    case 'string':
      for (const v of items.values) sink.string(v);
      return;
    case 'array':
      for (const v of items.values) writeArrayItems(sink, v);
      return;
    default:
      for (let i = 0; i < items.values.length; i++) writeNumber(sink, items.type, items.values[i] ?? 0);
  }
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  switch (value.type) {
    case 'uint64':
      return sink.u64(value.value);
    case 'int64':
      return sink.i64(value.value);
    case 'bool':
      return sink.u8(value.value ? 1 : 0);
    case 'string':
      return sink.string(value.value);
    case 'array':
      return writeArrayItems(sink, value.items);
    default:
      return writeNumber(sink, value.type, value.value);
  }
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function resolveAlignment(metadata: readonly GgufKv[]): number {
  const entry = metadata.find((kv) => kv.key === 'general.alignment');
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  // ggml rejects any other type or a non-power of two, so fail here rather than write a broken file.
  if (entry.value.type !== 'uint32') throw new Error('general.alignment must be a uint32');
  const alignment = entry.value.value;
  if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new Error('general.alignment must be a power of two');
  return alignment;
}

function validateTensor(tensor: GgufTensor): number {
  if (tensor.dims.length < 1 || tensor.dims.length > 4) throw new Error(`${tensor.name}: 1 to 4 dims expected`);
  const rowLength = tensor.dims[0] ?? 0;
  if ((tensor.type === 'q8_0' || tensor.type === 'q4_0') && rowLength % GGML_QUANT_BLOCK_SIZE !== 0) {
    throw new Error(`${tensor.name}: ${tensor.type} rows must be a multiple of 32 long, got ${rowLength}`);
  }
  return tensor.dims.reduce((product, dim) => product * dim, 1);
}

/** Lays out the header, metadata, tensor infos and padding; returns them with each tensor's offset. */
export function encodeGgufHeader(description: GgufFileDescription): {
  header: Buffer;
  alignment: number;
  tensors: GgufWrittenTensor[];
} {
  const alignment = resolveAlignment(description.metadata);
  const keys = new Set<string>();
  for (const kv of description.metadata) {
    if (keys.has(kv.key)) throw new Error(`duplicate metadata key ${kv.key}`);
    keys.add(kv.key);
  }
  const sink = new ByteSink();
  sink.bytes(Buffer.from(GGUF_MAGIC, 'ascii'));
  sink.u32(GGUF_VERSION);
  sink.u64(description.tensors.length);
  sink.u64(description.metadata.length);
  for (const kv of description.metadata) {
    sink.string(kv.key);
    sink.u32(GgufValueTypeId[kv.value.type]);
    writeValue(sink, kv.value);
  }
  const tensors: GgufWrittenTensor[] = [];
  let offset = 0;
  for (const tensor of description.tensors) {
    const elementCount = validateTensor(tensor);
    const byteSize = ggmlTensorByteSize(tensor.type, elementCount);
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(GgmlTypeId[tensor.type]);
    sink.u64(offset);
    tensors.push({ name: tensor.name, dims: [...tensor.dims], type: tensor.type, offset, byteSize });
    offset = alignUp(offset + byteSize, alignment);
  }
  sink.zeros(alignUp(sink.length, alignment) - sink.length);
  return { header: sink.contents(), alignment, tensors };
}

// ---------------------------------------------------------------- file writing

/** Buffers small chunks into large positional writes. */
class FileSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  position = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly flushAt = 8 << 20,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.position += chunk.length;
    if (this.pendingBytes >= this.flushAt) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.file.write(data, written, data.length - written);
      written += bytesWritten;
    }
  }
}

/** Writes a GGUF v3 file, generating and encoding one tensor at a time. */
export async function writeGguf(path: string, description: GgufFileDescription): Promise<GgufWriteResult> {
  const { header, alignment, tensors } = encodeGgufHeader(description);
  const file = await open(path, 'w');
  try {
    const sink = new FileSink(file);
    await sink.write(header);
    const tensorDataOffset = header.length;
    for (const [index, tensor] of description.tensors.entries()) {
      const layout = tensors[index] as GgufWrittenTensor;
      if (sink.position !== tensorDataOffset + layout.offset) throw new Error(`${tensor.name}: misplaced tensor data`);
      let writtenBytes = 0;
      for (const chunk of tensor.data()) {
        const encoded = encodeTensorValues(tensor.type, chunk);
        writtenBytes += encoded.length;
        if (writtenBytes > layout.byteSize) throw new Error(`${tensor.name}: more values than its dims hold`);
        await sink.write(encoded);
      }
      if (writtenBytes !== layout.byteSize) {
        throw new Error(`${tensor.name}: wrote ${writtenBytes} bytes, its dims need ${layout.byteSize}`);
      }
      // Pad every tensor, the last included: ggml counts padded sizes when checking the data section.
      const padding = alignUp(layout.byteSize, alignment) - layout.byteSize;
      if (padding > 0) await sink.write(Buffer.alloc(padding));
    }
    await sink.flush();
    return { path, fileSize: sink.position, alignment, tensorDataOffset, tensors };
  } finally {
    await file.close();
  }
}

/** Splits a generator of single values into Float32Array chunks of whole rows. */
export function* chunkedRows(
  rowLength: number,
  rowCount: number,
  valueAt: (row: number, column: number) => number,
  chunkValues = 1 << 20,
): Generator<Float32Array> {
  const rowsPerChunk = Math.max(1, Math.floor(chunkValues / rowLength));
  for (let first = 0; first < rowCount; first += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, rowCount - first);
    const chunk = new Float32Array(rows * rowLength);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < rowLength; c++) chunk[r * rowLength + c] = valueAt(first + r, c);
    }
    yield chunk;
  }
}
