// Random-weight llama models with a real model's tensor shapes: gibberish text at the true
// per-token cost, for speed work without downloading anything.
import { LlamaFileTypeId } from './gguf-writer.js';
import type { GgmlTensorType, GgufFileDescription, GgufTensor } from './gguf-writer.js';
import {
  buildCharacterVocabulary,
  FIRST_CHARACTER_TOKEN_ID,
  llamaModelMetadata,
  llamaTokenizerMetadata,
} from './character-vocabulary.js';
import type { LlamaHyperparameters } from './character-vocabulary.js';

/** Dimensions of a llama model: width, layers, feed-forward width, heads, key/value heads. */
export type ModelShape = { readonly d: number; readonly l: number; readonly f: number; readonly h: number; readonly hkv: number };

export const NAMED_MODEL_SHAPES = {
  'tinyllama-1.1b': { d: 2048, l: 22, f: 5632, h: 32, hkv: 4 },
  'llama-3.2-1b': { d: 2048, l: 16, f: 8192, h: 32, hkv: 8 },
} as const satisfies Record<string, ModelShape>;

export type NamedModelShape = keyof typeof NAMED_MODEL_SHAPES;
export type ShapeModelQuant = 'q4_0' | 'q8_0' | 'f16';

export type ShapeModelOptions = {
  readonly shape: NamedModelShape | ModelShape;
  readonly quant: ShapeModelQuant;
  readonly seed?: number;
  readonly name?: string;
  readonly contextLength?: number;
};

/** The fixed text whose characters make the shape models' vocabulary. */
export const SHAPE_MODEL_CORPUS =
  'The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!\n' +
  'THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG? 0123456789 "quotes", (parens) [brackets] {braces}\n' +
  "It's a test: a-b+c=d; x*y/z %; #1 @home & more <tags> |pipes| ~tilde ^caret `tick` _under\\\n";

export function resolveModelShape(shape: NamedModelShape | ModelShape): ModelShape {
  return typeof shape === 'string' ? NAMED_MODEL_SHAPES[shape] : shape;
}

/** mulberry32: a small, fast, seedable PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` values uniform in ±scale from mulberry32, in chunks of whole 32-value blocks. The PRNG is
 * inlined: a call per value made writing a 1B-parameter model take twice as long.
 */
export function* uniformRandomChunks(count: number, seed: number, scale: number, chunkValues = 1 << 20): Generator<Float32Array> {
  let state = seed >>> 0;
  for (let done = 0; done < count; done += chunkValues) {
    const chunk = new Float32Array(Math.min(chunkValues, count - done));
    for (let i = 0; i < chunk.length; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      chunk[i] = (((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1) * scale;
    }
    yield chunk;
  }
}

function checkShape(shape: ModelShape, quant: ShapeModelQuant): void {
  const { d, f, h, hkv } = shape;
  for (const [name, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value <= 0) throw new Error(`shape.${name} must be a positive integer`);
  }
  if (d % h !== 0 || (d / h) % 2 !== 0) throw new Error('d / h must be an even integer');
  if (h % hkv !== 0) throw new Error('h must be a multiple of hkv');
  // ggml quantizes rows in blocks of 32, and every matrix row is d or f long.
  if (quant !== 'f16' && (d % 32 !== 0 || f % 32 !== 0)) throw new Error(`${quant} needs d and f to be multiples of 32`);
}

export function buildShapeModel(options: ShapeModelOptions): GgufFileDescription {
  const shape = resolveModelShape(options.shape);
  checkShape(shape, options.quant);
  const { d, l, f, h, hkv } = shape;
  const vocabulary = buildCharacterVocabulary(SHAPE_MODEL_CORPUS);
  const vocabularySize = vocabulary.tokens.length;
  const kvWidth = (d / h) * hkv;
  const seed = options.seed ?? 1;
  const matrixType: GgmlTensorType = options.quant;
  // Q8_0 keeps the output logits close to f16 quality, as real Q4_0 files keep output in a wider type.
  const outputType: GgmlTensorType = options.quant === 'f16' ? 'f16' : 'q8_0';

  let tensorIndex = 0;
  // Uniform in ±scale, scale ~ 1/sqrt(fan-in) halved: activations stay near 1 through every layer.
  const randomMatrix = (
    name: string,
    rowLength: number,
    rowCount: number,
    type: GgmlTensorType,
    zeroRowsBelow = 0,
  ): GgufTensor => {
    const tensorSeed = (Math.imul(seed, 0x9e3779b1) + Math.imul(++tensorIndex, 0x85ebca6b)) >>> 0;
    const scale = 0.5 / Math.sqrt(rowLength);
    return {
      name,
      dims: [rowLength, rowCount],
      type,
      data: function* () {
        let offset = 0;
        for (const chunk of uniformRandomChunks(rowLength * rowCount, tensorSeed, scale)) {
          const zeroUpTo = Math.min(chunk.length, zeroRowsBelow * rowLength - offset);
          if (zeroUpTo > 0) chunk.fill(0, 0, zeroUpTo);
          offset += chunk.length;
          yield chunk;
        }
      },
    };
  };
  const ones = (name: string, length: number): GgufTensor => ({
    name,
    dims: [length],
    type: 'f32',
    data: () => [new Float32Array(length).fill(1)],
  });

  const tensors: GgufTensor[] = [randomMatrix('token_embd.weight', d, vocabularySize, matrixType)];
  for (let layer = 0; layer < l; layer++) {
    const prefix = `blk.${layer}`;
    tensors.push(
      ones(`${prefix}.attn_norm.weight`, d),
      randomMatrix(`${prefix}.attn_q.weight`, d, d, matrixType),
      randomMatrix(`${prefix}.attn_k.weight`, d, kvWidth, matrixType),
      randomMatrix(`${prefix}.attn_v.weight`, d, kvWidth, matrixType),
      randomMatrix(`${prefix}.attn_output.weight`, d, d, matrixType),
      ones(`${prefix}.ffn_norm.weight`, d),
      randomMatrix(`${prefix}.ffn_gate.weight`, d, f, matrixType),
      randomMatrix(`${prefix}.ffn_up.weight`, d, f, matrixType),
      randomMatrix(`${prefix}.ffn_down.weight`, f, d, matrixType),
    );
  }
  // Zero logits for control and byte tokens, so greedy text is corpus characters, not raw bytes.
  tensors.push(ones('output_norm.weight', d), randomMatrix('output.weight', d, vocabularySize, outputType, FIRST_CHARACTER_TOKEN_ID));

  const shapeName = typeof options.shape === 'string' ? options.shape : `d${d}-l${l}-f${f}-h${h}-kv${hkv}`;
  const hyperparameters: LlamaHyperparameters = {
    contextLength: options.contextLength ?? 2048,
    embeddingLength: d,
    blockCount: l,
    feedForwardLength: f,
    headCount: h,
    headCountKv: hkv,
    rmsNormEpsilon: Math.fround(1e-5),
    ropeFreqBase: 10000,
    vocabularySize,
  };
  return {
    metadata: [
      ...llamaModelMetadata(
        options.name ?? `random ${shapeName} ${options.quant}`,
        hyperparameters,
        LlamaFileTypeId[options.quant],
        options.quant !== 'f16',
      ),
      ...llamaTokenizerMetadata(vocabulary),
    ],
    tensors,
  };
}

/** Parameter count of a shape with the shape models' vocabulary (for sizing and reports). */
export function shapeModelParameterCount(shape: NamedModelShape | ModelShape): number {
  const { d, l, f, h, hkv } = resolveModelShape(shape);
  const vocabularySize = buildCharacterVocabulary(SHAPE_MODEL_CORPUS).tokens.length;
  const kvWidth = (d / h) * hkv;
  const perLayer = 2 * d + 2 * d * d + 2 * d * kvWidth + 3 * d * f;
  return 2 * vocabularySize * d + d + l * perLayer;
}
