import { describe, expect, it, vi } from 'vitest';
import { DeltaCoalescer, type Delta } from '../../electron/core/engine/delta-coalescer.js';
import { chooseThreads } from '../../electron/core/engine/threads.js';
import { findJsonSchemaProblem } from '../../electron/core/engine/json-schema.js';
import { TokenTextStream } from '../../electron/core/engine/text-stream.js';

/** A byte-level "tokenizer": each token is one UTF-8 byte, decoded like llama.cpp would. */
const bytes = (text: string) => [...Buffer.from(text, 'utf8')];
const decodeBytes = (tokens: readonly number[]) => Buffer.from(tokens).toString('utf8');

function streamAll(text: string, stops: string[]) {
  const stream = new TokenTextStream((tokens) => decodeBytes(tokens), stops);
  const shown: string[] = [];
  let stopped = false;
  for (const token of bytes(text)) {
    const step = stream.push(token);
    shown.push(step.text);
    if (step.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) shown.push(stream.flush());
  return { shown, stopped, text: shown.join('') };
}

describe('TokenTextStream', () => {
  it('never shows half of a multi-byte character', () => {
    const { shown, text } = streamAll('héllo 🙂 wörld', []);
    expect(text).toBe('héllo 🙂 wörld');
    for (const piece of shown) expect(piece).not.toContain('\uFFFD');
  });

  it('stops before a stop sequence and never shows part of it first', () => {
    const { shown, stopped, text } = streamAll('one two STOP three', ['STOP']);
    expect(stopped).toBe(true);
    expect(text).toBe('one two ');
    expect(shown.join('')).not.toContain('S');
  });

  it('releases held text that turned out not to be a stop sequence', () => {
    expect(streamAll('a STOx b', ['STOP']).text).toBe('a STOx b');
    expect(streamAll('ends with ST', ['STOP']).text).toBe('ends with ST');
  });

  it('stops at the earliest of several stop sequences', () => {
    expect(streamAll('alpha beta gamma', ['gamma', 'beta']).text).toBe('alpha ');
  });
});

describe('DeltaCoalescer', () => {
  it('sends the first text at once, then at most one delta per interval', () => {
    vi.useFakeTimers();
    try {
      const sent: Delta[] = [];
      const coalescer = new DeltaCoalescer((delta) => sent.push(delta), 16, 1000);
      coalescer.add('a');
      expect(sent).toEqual([{ text: 'a' }]);
      for (let i = 0; i < 100; i++) coalescer.add('b');
      expect(sent).toHaveLength(1);
      vi.advanceTimersByTime(16);
      expect(sent).toEqual([{ text: 'a' }, { text: 'b'.repeat(100) }]);
      coalescer.add('c');
      coalescer.flush();
      expect(sent.at(-1)).toEqual({ text: 'c' });
      coalescer.flush();
      expect(sent).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends early when many tokens are waiting', () => {
    const sent: Delta[] = [];
    const coalescer = new DeltaCoalescer((delta) => sent.push(delta), 10_000, 4);
    for (let i = 0; i < 9; i++) coalescer.add('x');
    expect(sent.map((delta) => delta.text)).toEqual(['x', 'xxxx', 'xxxx']);
    coalescer.flush();
  });
});

describe('chooseThreads', () => {
  it('gives tiny models one thread and large ones every physical core', () => {
    expect(chooseThreads({ physicalCores: 2, parameters: 260_000, fileSizeBytes: 1_185_376 })).toBe(1);
    expect(chooseThreads({ physicalCores: 2, parameters: 1_100_000_000, fileSizeBytes: 637_000_000 })).toBe(2);
    expect(chooseThreads({ physicalCores: 8, parameters: null, fileSizeBytes: 4_000_000_000 })).toBe(8);
  });

  it('lets a person override it', () => {
    expect(chooseThreads({ physicalCores: 2, parameters: 260_000, fileSizeBytes: 1, override: 3 })).toBe(3);
  });
});

describe('findJsonSchemaProblem', () => {
  it('accepts the schemas node-llama-cpp turns into grammars', () => {
    expect(findJsonSchemaProblem({ type: 'object', properties: { answer: { enum: ['yes', 'no'] } }, required: ['answer'] })).toBeNull();
    expect(
      findJsonSchemaProblem({ $defs: { item: { type: 'string' } }, type: 'array', items: { $ref: '#/$defs/item' }, maxItems: 3 }),
    ).toBeNull();
    expect(findJsonSchemaProblem({ oneOf: [{ type: 'null' }, { type: ['string', 'number'] }] })).toBeNull();
  });

  it('names the place of what it would otherwise silently ignore', () => {
    expect(findJsonSchemaProblem({ type: 'no-such-type' })).toMatch(/^\(schema\)\.type: "no-such-type"/);
    expect(findJsonSchemaProblem({ type: 'object', properties: { a: { type: 'array', items: { type: 'nope' } } } })).toMatch(
      /^\(schema\)\.properties\.a\.items\.type/,
    );
    expect(findJsonSchemaProblem({ $ref: '#/$defs/missing' })).toMatch(/\$ref/);
    expect(findJsonSchemaProblem({ enum: [] })).toMatch(/enum/);
    expect(findJsonSchemaProblem('x')).toMatch(/must be an object/);
  });
});
