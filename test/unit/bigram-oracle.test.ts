import { describe, it, expect } from 'vitest';
import { bigramEmbeddingWidth, bigramGreedyChain, bigramTable } from '../../electron/core/models/bigram-model.js';
import {
  BOS_TOKEN_ID,
  buildCharacterVocabulary,
  EOS_TOKEN_ID,
  FIRST_CHARACTER_TOKEN_ID,
  LlamaTokenType,
  tokenizeLikeLlama,
} from '../../electron/core/models/character-vocabulary.js';

// The vocabulary and the bigram oracle in plain TypeScript; test/models/bigram-model.test.ts holds llama.cpp to them.

const LINES_CORPUS =
  'the cat sat on the mat.\nthe dog ate a hot dog.\nto be or not to be, that is the question.\n' +
  'a bird in the hand is worth two in the bush.\nwhat is done is done.\n';
/** x is followed by b, a and } once each: a tie the greedy sampler breaks towards the lowest token id (a). */
const TIE_CORPUS = 'xbxax}';

describe('character vocabulary and bigram table', () => {
  it('lays out the SentencePiece vocabulary llama.cpp expects', () => {
    const vocabulary = buildCharacterVocabulary('ba ab🙂');
    expect(vocabulary.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(vocabulary.tokens[3 + 0x0a]).toBe('<0x0A>');
    expect(vocabulary.tokens[3 + 255]).toBe('<0xFF>');
    expect(vocabulary.tokens.slice(FIRST_CHARACTER_TOKEN_ID)).toEqual(['▁', 'a', 'b', '🙂']);
    expect(vocabulary.tokenTypes.slice(0, 4)).toEqual([
      LlamaTokenType.unknown,
      LlamaTokenType.control,
      LlamaTokenType.control,
      LlamaTokenType.byte,
    ]);
    expect(vocabulary.tokenTypes.slice(FIRST_CHARACTER_TOKEN_ID)).toEqual([1, 1, 1, 1]);
    expect(tokenizeLikeLlama(vocabulary, 'a é', true)).toEqual([BOS_TOKEN_ID, 260, 259, 3 + 0xc3, 3 + 0xa9]);
    expect(bigramEmbeddingWidth(vocabulary)).toBe(32);
    expect(bigramEmbeddingWidth(buildCharacterVocabulary('abcdefghijklmnopqrstuvwxyzABCDEF'))).toBe(64);
    expect(() => buildCharacterVocabulary('a▁b')).toThrow(/U\+2581/);
  });

  it('gives every context a proper distribution with finite logs', () => {
    const table = bigramTable(LINES_CORPUS);
    expect(table.logProbabilities).toHaveLength(table.vocabulary.characters.length + 1);
    for (const row of table.logProbabilities) {
      expect(row).toHaveLength(table.vocabulary.tokens.length);
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row.reduce((sum, log) => sum + Math.exp(log), 0)).toBeCloseTo(1, 12);
    }
    // The counts show through: after "q" always "u"; after "." always "\n"; after "\n", end of text.
    const row = (character: string): Float64Array =>
      table.logProbabilities[table.contextOfToken(table.vocabulary.tokenOfCharacter.get(character) ?? -1)] ?? new Float64Array();
    const token = (character: string): number => table.vocabulary.tokenOfCharacter.get(character) ?? -1;
    expect(Math.exp(row('q')[token('u')] ?? 0)).toBeGreaterThan(0.95);
    expect(Math.exp(row('.')[token('\n')] ?? 0)).toBeGreaterThan(0.99);
    expect(bigramGreedyChain(TIE_CORPUS, '}', 5)).toBe('');
    expect(Math.exp(row('\n')[EOS_TOKEN_ID] ?? 0)).toBeGreaterThan(0.5);
  });

  it('computes the greedy chain: argmax, lowest id on ties, stop at end of text', () => {
    expect(bigramGreedyChain(TIE_CORPUS, 'x', 6)).toBe('axaxax');
    expect(bigramGreedyChain(LINES_CORPUS, 'q', 6)).toBe('ue the');
    expect(bigramGreedyChain(LINES_CORPUS, 'dog.', 10)).toBe('\n');
    expect(bigramGreedyChain(LINES_CORPUS, 'done.\n', 10)).toBe('');
    expect(bigramGreedyChain(LINES_CORPUS, 'Ω', 4)).toBe(' the'); // unknown: the most frequent character
  });
});
