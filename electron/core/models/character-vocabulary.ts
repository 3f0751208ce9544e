// A character vocabulary in the layout llama.cpp's SentencePiece ("llama") tokenizer expects,
// the tokenization llama.cpp then performs on it, and the llama metadata shared by generated models.
import { gguf } from './gguf-writer.js';
import type { GgufKv } from './gguf-writer.js';

/** llama.cpp's llama_token_type values, written in `tokenizer.ggml.token_type`. */
export const LlamaTokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export const UNK_TOKEN_ID = 0;
export const BOS_TOKEN_ID = 1;
export const EOS_TOKEN_ID = 2;
/** `<0x00>` is token 3, so byte b is token 3 + b. */
export const FIRST_BYTE_TOKEN_ID = 3;
export const FIRST_CHARACTER_TOKEN_ID = FIRST_BYTE_TOKEN_ID + 256;
/** SentencePiece writes a space as U+2581 inside pieces. */
export const SENTENCEPIECE_SPACE = '\u2581';

/**
 * A ChatML-like template written in plain characters, so it tokenizes with the character vocabulary
 * (or byte fallback) and needs no special tokens.
 */
export const PLAIN_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}";

export type CharacterVocabulary = {
  /** Token texts by id: `<unk>`, `<s>`, `</s>`, `<0x00>`..`<0xFF>`, then the characters. */
  readonly tokens: readonly string[];
  readonly tokenTypes: readonly number[];
  readonly scores: readonly number[];
  /** The distinct corpus characters (code points, space as ' '), in token order. */
  readonly characters: readonly string[];
  /** Token id of each corpus character (keyed by the character itself, space as ' '). */
  readonly tokenOfCharacter: ReadonlyMap<string, number>;
};

/** Distinct code points of the corpus in code point order: the order of their tokens. */
export function corpusCharacters(corpus: string): string[] {
  const distinct = [...new Set(Array.from(corpus))];
  return distinct.sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
}

function byteTokenText(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

export function buildCharacterVocabulary(corpus: string): CharacterVocabulary {
  if (corpus.length === 0) throw new Error('the corpus is empty');
  // The piece "▁" already means a space, so the corpus cannot also use it as a character.
  if (corpus.includes(SENTENCEPIECE_SPACE)) throw new Error('the corpus must not contain U+2581');
  const characters = corpusCharacters(corpus);
  const characterCounts = new Map<string, number>();
  for (const character of corpus) characterCounts.set(character, (characterCounts.get(character) ?? 0) + 1);
  const totalCharacters = Array.from(corpus).length;

  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const tokenTypes: number[] = [LlamaTokenType.unknown, LlamaTokenType.control, LlamaTokenType.control];
  const scores: number[] = [0, 0, 0];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(byteTokenText(byte));
    tokenTypes.push(LlamaTokenType.byte);
    scores.push(0);
  }
  const tokenOfCharacter = new Map<string, number>();
  for (const character of characters) {
    tokenOfCharacter.set(character, tokens.length);
    tokens.push(character === ' ' ? SENTENCEPIECE_SPACE : character);
    tokenTypes.push(LlamaTokenType.normal);
    // SentencePiece scores are piece log-frequencies; with single characters there is nothing to merge.
    scores.push(Math.log((characterCounts.get(character) ?? 0) / totalCharacters));
  }
  return { tokens, tokenTypes, scores, characters, tokenOfCharacter };
}

/**
 * The tokens llama.cpp makes of `text` with this vocabulary, given the metadata written by
 * {@link llamaTokenizerMetadata} (no space prefix): one token per known character, UTF-8 byte
 * tokens for any other, and `<s>` first when `addBos`.
 */
export function tokenizeLikeLlama(vocabulary: CharacterVocabulary, text: string, addBos = true): number[] {
  const tokens: number[] = addBos ? [BOS_TOKEN_ID] : [];
  for (const character of text) {
    const token = vocabulary.tokenOfCharacter.get(character);
    if (token !== undefined) {
      tokens.push(token);
      continue;
    }
    for (const byte of Buffer.from(character, 'utf8')) tokens.push(FIRST_BYTE_TOKEN_ID + byte);
  }
  return tokens;
}

/** The text of generated tokens, as llama.cpp detokenizes them (control tokens dropped). */
export function detokenizeLikeLlama(vocabulary: CharacterVocabulary, tokens: readonly number[]): string {
  const bytes: number[] = [];
  for (const token of tokens) {
    if (token >= FIRST_CHARACTER_TOKEN_ID) {
      const text = (vocabulary.tokens[token] ?? '').replaceAll(SENTENCEPIECE_SPACE, ' ');
      bytes.push(...Buffer.from(text, 'utf8'));
    } else if (token >= FIRST_BYTE_TOKEN_ID) {
      bytes.push(token - FIRST_BYTE_TOKEN_ID);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Tokenizer metadata. No space prefix: with one token per character a leading `▁` carries no
 * meaning, and llama.cpp strips a leading space when detokenizing generated text if it is on.
 */
export function llamaTokenizerMetadata(vocabulary: CharacterVocabulary, chatTemplate = PLAIN_CHAT_TEMPLATE): GgufKv[] {
  return [
    { key: 'tokenizer.ggml.model', value: gguf.string('llama') },
    { key: 'tokenizer.ggml.tokens', value: gguf.array({ type: 'string', values: vocabulary.tokens }) },
    { key: 'tokenizer.ggml.scores', value: gguf.array({ type: 'float32', values: vocabulary.scores }) },
    { key: 'tokenizer.ggml.token_type', value: gguf.array({ type: 'int32', values: vocabulary.tokenTypes }) },
    { key: 'tokenizer.ggml.bos_token_id', value: gguf.uint32(BOS_TOKEN_ID) },
    { key: 'tokenizer.ggml.eos_token_id', value: gguf.uint32(EOS_TOKEN_ID) },
    { key: 'tokenizer.ggml.unknown_token_id', value: gguf.uint32(UNK_TOKEN_ID) },
    { key: 'tokenizer.ggml.add_bos_token', value: gguf.bool(true) },
    { key: 'tokenizer.ggml.add_eos_token', value: gguf.bool(false) },
    { key: 'tokenizer.ggml.add_space_prefix', value: gguf.bool(false) },
    { key: 'tokenizer.chat_template', value: gguf.string(chatTemplate) },
  ];
}

export type LlamaHyperparameters = {
  readonly contextLength: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly rmsNormEpsilon: number;
  readonly ropeFreqBase: number;
  readonly vocabularySize: number;
};

/** The `general.*` and `llama.*` keys llama.cpp reads for a llama-architecture model. */
export function llamaModelMetadata(
  name: string,
  hyperparameters: LlamaHyperparameters,
  fileType: number,
  quantized: boolean,
): GgufKv[] {
  const headDimension = hyperparameters.embeddingLength / hyperparameters.headCount;
  if (!Number.isInteger(headDimension) || headDimension % 2 !== 0) {
    throw new Error('embedding length / head count must be an even integer (rope rotates pairs)');
  }
  const metadata: GgufKv[] = [
    { key: 'general.architecture', value: gguf.string('llama') },
    { key: 'general.name', value: gguf.string(name) },
    { key: 'general.file_type', value: gguf.uint32(fileType) },
    { key: 'general.alignment', value: gguf.uint32(32) },
    { key: 'llama.context_length', value: gguf.uint32(hyperparameters.contextLength) },
    { key: 'llama.embedding_length', value: gguf.uint32(hyperparameters.embeddingLength) },
    { key: 'llama.block_count', value: gguf.uint32(hyperparameters.blockCount) },
    { key: 'llama.feed_forward_length', value: gguf.uint32(hyperparameters.feedForwardLength) },
    { key: 'llama.attention.head_count', value: gguf.uint32(hyperparameters.headCount) },
    { key: 'llama.attention.head_count_kv', value: gguf.uint32(hyperparameters.headCountKv) },
    { key: 'llama.rope.dimension_count', value: gguf.uint32(headDimension) },
    { key: 'llama.rope.freq_base', value: gguf.float32(hyperparameters.ropeFreqBase) },
    { key: 'llama.attention.layer_norm_rms_epsilon', value: gguf.float32(hyperparameters.rmsNormEpsilon) },
    { key: 'llama.vocab_size', value: gguf.uint32(hyperparameters.vocabularySize) },
  ];
  if (quantized) metadata.push({ key: 'general.quantization_version', value: gguf.uint32(2) });
  return metadata;
}
