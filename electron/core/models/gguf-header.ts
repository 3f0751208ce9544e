// A validating walk over a GGUF header: every length and count is checked against the bytes the
// file has before anything is read or allocated, and the tensor data must end inside the file.
//
// node-llama-cpp's reader trusts the header: it reads past the end of a file as zeros, and a damaged
// string length below 4 GiB makes it allocate and read that much (a 100 kB file with one bad length
// cost 1.8 s and 200 MB). llama.cpp checks lengths but says why only in its log. So a file is walked
// here first, which costs one pass over its header (a few MB at most) and no tensor data.
import type { FileHandle } from 'node:fs/promises';
import { ggmlTensorDataBytes } from './ggml-types.js';

/** What is wrong with a header: cut short (`truncated`) or holding impossible values (`corrupt`). */
export class GgufHeaderError extends Error {
  override readonly name = 'GgufHeaderError';
  constructor(
    readonly kind: 'truncated' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

export interface GgufHeaderSummary {
  version: number;
  tensorCount: number;
  metadataCount: number;
  /** File offset of the tensor data section (the header padded to the alignment). */
  tensorDataOffset: number;
  /** Where the last tensor's data ends (for types this code knows the size of). */
  tensorDataEnd: number;
}

const VALUE_TYPE_COUNT = 13; // uint8 .. float64, as in GGUF v2/v3
const FIXED_VALUE_BYTES: readonly (number | undefined)[] = [1, 1, 2, 2, 4, 4, 4, 1, undefined, undefined, 8, 8, 8];
const STRING_TYPE = 8;
const UINT32_TYPE = 4;
const GGML_MAX_DIMS = 4;
const DEFAULT_ALIGNMENT = 32;
/**
 * Longer strings and arrays than these never occur in a real header (the largest are chat
 * templates of some kB and vocabularies of some 100k entries), so a value beyond them is damage,
 * not a file cut short.
 */
const MAX_PLAUSIBLE_STRING_BYTES = 64 * 1024 * 1024;
const MAX_PLAUSIBLE_ARRAY_ITEMS = 1 << 27;
const MAX_PLAUSIBLE_COUNT = 1 << 24;
const MAX_ARRAY_DEPTH = 8;
const READ_CHUNK_BYTES = 1 << 20;

/** Sequential little-endian reads over a file, refilled a chunk at a time. */
class HeaderReader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  position: number;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
    start: number,
  ) {
    this.position = start;
  }

  /** Makes the next `bytes` bytes readable; `what` names them if the file ends first. */
  async need(bytes: number, what: string): Promise<void> {
    if (this.position + bytes > this.size) {
      throw new GgufHeaderError('truncated', `it ends at byte ${this.size}, inside its header (in ${what})`);
    }
    if (this.position + bytes <= this.bufferStart + this.buffer.length) return;
    const length = Math.min(Math.max(bytes, READ_CHUNK_BYTES), this.size - this.position);
    const chunk = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.file.read(chunk, filled, length - filled, this.position + filled);
      if (bytesRead === 0) throw new GgufHeaderError('truncated', `it ends at byte ${this.position + filled}, inside its header`);
      filled += bytesRead;
    }
    this.buffer = chunk;
    this.bufferStart = this.position;
  }

  private at(): number {
    return this.position - this.bufferStart;
  }

  u32(): number {
    const value = this.buffer.readUInt32LE(this.at());
    this.position += 4;
    return value;
  }

  /** A uint64 that must fit a double exactly; beyond 2^53 it is damage in any real file. */
  u64(what: string): number {
    const value = this.buffer.readBigUInt64LE(this.at());
    this.position += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufHeaderError('corrupt', `${what} is ${value}, larger than any file`);
    return Number(value);
  }

  text(bytes: number): string {
    const value = this.buffer.toString('utf8', this.at(), this.at() + bytes);
    this.position += bytes;
    return value;
  }

  /** Moves past `bytes` bytes without reading them; `what` names them if the file ends first. */
  skip(bytes: number, what: string): void {
    if (this.position + bytes > this.size) {
      throw new GgufHeaderError('truncated', `it ends at byte ${this.size}, inside its header (in ${what})`);
    }
    this.position += bytes;
  }
}

async function readString(reader: HeaderReader, what: string, keep: boolean): Promise<string> {
  await reader.need(8, what);
  const length = reader.u64(`the length of ${what}`);
  if (length > MAX_PLAUSIBLE_STRING_BYTES) throw new GgufHeaderError('corrupt', `${what} declares a length of ${length} bytes`);
  if (!keep) {
    reader.skip(length, what);
    return '';
  }
  await reader.need(length, what);
  return reader.text(length);
}

async function skipValue(reader: HeaderReader, type: number, what: string, depth = 0): Promise<void> {
  const fixed = FIXED_VALUE_BYTES[type];
  if (fixed !== undefined) {
    reader.skip(fixed, what);
    return;
  }
  if (type === STRING_TYPE) {
    await readString(reader, what, false);
    return;
  }
  // An array: item type, count, items. Real files nest at most once; the limit stops a damaged file from recursing without end.
  if (depth > MAX_ARRAY_DEPTH) throw new GgufHeaderError('corrupt', `${what} nests arrays ${depth} deep`);
  await reader.need(12, what);
  const itemType = reader.u32();
  if (itemType >= VALUE_TYPE_COUNT) throw new GgufHeaderError('corrupt', `${what} holds items of type ${itemType}, which GGUF does not have`);
  const count = reader.u64(`the item count of ${what}`);
  if (count > MAX_PLAUSIBLE_ARRAY_ITEMS) throw new GgufHeaderError('corrupt', `${what} declares ${count} items`);
  const itemBytes = FIXED_VALUE_BYTES[itemType];
  if (itemBytes !== undefined) {
    reader.skip(count * itemBytes, what);
    return;
  }
  for (let index = 0; index < count; index++) await skipValue(reader, itemType, what, depth + 1);
}

/**
 * Walks the header that follows the 8 bytes of magic and version, and checks that the tensor
 * data it describes lies inside the file. Throws GgufHeaderError.
 */
export async function scanGgufHeader(file: FileHandle, sizeBytes: number, version: number): Promise<GgufHeaderSummary> {
  const reader = new HeaderReader(file, sizeBytes, 8);
  await reader.need(16, 'the tensor and metadata counts');
  const tensorCount = reader.u64('the tensor count');
  const metadataCount = reader.u64('the metadata count');
  // Real files have some thousand tensors and some dozen entries. Counts are not compared with the
  // file size: a file cut short has true counts, and the walk below then reports where it ends.
  if (tensorCount > MAX_PLAUSIBLE_COUNT || metadataCount > MAX_PLAUSIBLE_COUNT) {
    throw new GgufHeaderError('corrupt', `it declares ${tensorCount} tensors and ${metadataCount} metadata entries`);
  }

  let alignment = DEFAULT_ALIGNMENT;
  for (let index = 0; index < metadataCount; index++) {
    const key = await readString(reader, `the key of metadata entry ${index}`, true);
    const what = `metadata "${key}"`;
    await reader.need(4, what);
    const type = reader.u32();
    if (type >= VALUE_TYPE_COUNT) throw new GgufHeaderError('corrupt', `${what} has value type ${type}, which GGUF does not have`);
    if (key === 'general.alignment' && type === UINT32_TYPE) {
      await reader.need(4, what);
      alignment = reader.u32();
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
        throw new GgufHeaderError('corrupt', `its alignment is ${alignment}, not a power of two`);
      }
      continue;
    }
    await skipValue(reader, type, what);
  }

  const tensors: { name: string; type: number; dimensions: number[]; offset: number }[] = [];
  for (let index = 0; index < tensorCount; index++) {
    const name = await readString(reader, `the name of tensor ${index}`, true);
    const what = `tensor '${name}'`;
    await reader.need(4, what);
    const dimensionCount = reader.u32();
    if (dimensionCount > GGML_MAX_DIMS) {
      throw new GgufHeaderError('corrupt', `${what} has ${dimensionCount} dimensions; ggml allows at most ${GGML_MAX_DIMS}`);
    }
    await reader.need(8 * dimensionCount + 12, what);
    const dimensions = Array.from({ length: dimensionCount }, () => reader.u64(`a dimension of ${what}`));
    const type = reader.u32();
    const offset = reader.u64(`the data offset of ${what}`);
    tensors.push({ name, type, dimensions, offset });
  }

  const tensorDataOffset = Math.ceil(reader.position / alignment) * alignment;
  let tensorDataEnd = tensorDataOffset;
  let lastTensor = '';
  for (const tensor of tensors) {
    // A type newer than this code: its size is unknown, but its data must at least start in the file.
    const bytes = ggmlTensorDataBytes(tensor.type, tensor.dimensions) ?? 1;
    const end = tensorDataOffset + tensor.offset + bytes;
    if (!Number.isSafeInteger(end)) throw new GgufHeaderError('corrupt', `tensor '${tensor.name}' declares more data than any file holds`);
    if (end > tensorDataEnd) {
      tensorDataEnd = end;
      lastTensor = tensor.name;
    }
  }
  if (tensorDataEnd > sizeBytes) {
    throw new GgufHeaderError('truncated', `it ends at byte ${sizeBytes}, but the data of tensor '${lastTensor}' runs to byte ${tensorDataEnd}`);
  }
  return { version, tensorCount, metadataCount, tensorDataOffset, tensorDataEnd };
}
