import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaCompletion, LlamaLogLevel, readGgufFileInfo } from 'node-llama-cpp';
import type { Llama } from 'node-llama-cpp';
import type { ErrorCode } from '../../electron/common/errors.js';
import { EmergentError } from '../../electron/common/errors.js';
import { checkModelFile, classifyModelError, llamaLogSettled } from '../../electron/core/engine/model-errors.js';
import { bigramGreedyChain, buildBigramModel } from '../../electron/core/models/bigram-model.js';
import { gguf, writeGguf } from '../../electron/core/models/gguf-writer.js';
import type { GgufFileDescription } from '../../electron/core/models/gguf-writer.js';

// Broken files made with the writer, run through the real node-llama-cpp: each must come out as
// its code along every path that sees it, and llama.cpp must go on serving afterwards.

const CORPUS = 'the cat sat on the mat.\nthe dog ate a hot dog.\n';
/** The bigram metadata starts with general.architecture: key length at 24, key at 32, type at 52, value length at 56. */
const FIRST_KEY_LENGTH_AT = 24;
const FIRST_VALUE_TYPE_AT = 52;
const FIRST_VALUE_LENGTH_AT = 56;

let directory = '';
let llama: Llama;
let valid = '';
let validBytes = Buffer.alloc(0);
let tensorDataOffset = 0;
const log: string[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'emergent-model-errors-'));
  llama = await getLlama({
    gpu: false,
    build: 'never',
    logLevel: LlamaLogLevel.warn,
    logger: (_level, message) => log.push(message),
  });
  valid = join(directory, 'valid.gguf');
  tensorDataOffset = (await writeGguf(valid, buildBigramModel(CORPUS))).tensorDataOffset;
  validBytes = await readFile(valid);
  // The offsets above hold for this layout; check it rather than corrupt the wrong bytes.
  expect(validBytes.subarray(32, 52).toString('latin1')).toBe('general.architecture');
});
afterAll(async () => {
  // node-llama-cpp 3.21.1: a LlamaModel whose load failed inside llama.cpp keeps a hold on its Llama,
  // and once it is garbage collected nothing releases it, so llama.dispose() may never resolve.
  await Promise.race([llama?.dispose(), new Promise((resolve) => setTimeout(resolve, 2000))]);
  await rm(directory, { recursive: true, force: true });
});

type Outcome = ErrorCode | 'ok';

async function outcomeOf(attempt: () => Promise<unknown>, path: string, llamaLog: () => string[] = () => []): Promise<[Outcome, string]> {
  try {
    await attempt();
    return ['ok', ''];
  } catch (err) {
    await llamaLogSettled(() => log.length);
    const error = classifyModelError(err, path, llamaLog());
    expect(error).toBeInstanceOf(EmergentError);
    return [error.code, error.message];
  }
}

/** What each path makes of the file: our pre-check, node-llama-cpp's GGUF reader, and loadModel. */
async function outcomes(path: string): Promise<Record<'check' | 'reader' | 'load', [Outcome, string]>> {
  const check = await outcomeOf(() => checkModelFile(path), path);
  const reader = await outcomeOf(() => readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false }), path);
  log.length = 0;
  const load = await outcomeOf(
    async () => {
      const model = await llama.loadModel({ modelPath: path });
      await model.dispose();
    },
    path,
    () => [...log],
  );
  return { check, reader, load };
}

function patched(edit: (bytes: Buffer) => void): Buffer {
  const bytes = Buffer.from(validBytes);
  edit(bytes);
  return bytes;
}

async function fileOf(name: string, contents: Buffer | GgufFileDescription): Promise<string> {
  const path = join(directory, `${name}.gguf`);
  if (Buffer.isBuffer(contents)) await writeFile(path, contents);
  else await writeGguf(path, contents);
  return path;
}

function withMetadata(key: string, value: ReturnType<typeof gguf.string>): GgufFileDescription {
  const description = buildBigramModel(CORPUS);
  return { ...description, metadata: description.metadata.map((kv) => (kv.key === key ? { key, value } : kv)) };
}

type Case = {
  name: string;
  make: () => Promise<string>;
  /** Codes from checkModelFile, readGgufFileInfo and loadModel. */
  expected: [Outcome, Outcome, Outcome];
  /** What the pre-check's message must say (else the load's, when the pre-check lets the file pass). */
  says: RegExp;
  /** What the load's message must say, when it differs. */
  loadSays?: RegExp;
};

const cases: Case[] = [
  {
    name: 'a missing file',
    make: async () => join(directory, 'nowhere', 'missing.gguf'),
    expected: ['MODEL_NOT_FOUND', 'MODEL_NOT_FOUND', 'MODEL_NOT_FOUND'],
    says: /^No file at .*nowhere\/missing\.gguf\. Check the path\.$/,
  },
  {
    name: 'a folder',
    make: async () => {
      const path = join(directory, 'folder.gguf');
      await mkdir(path, { recursive: true });
      return path;
    },
    expected: ['MODEL_NOT_FOUND', 'MODEL_NOT_FOUND', 'MODEL_NOT_FOUND'],
    says: /folder\.gguf is a folder, not a model file/,
  },
  {
    name: 'an empty file',
    make: () => fileOf('empty', Buffer.alloc(0)),
    expected: ['MODEL_NOT_GGUF', 'MODEL_NOT_GGUF', 'MODEL_NOT_GGUF'],
    says: /empty\.gguf is empty or starts with zeros/,
  },
  {
    name: 'another magic',
    make: () => fileOf('ggml-magic', patched((bytes) => bytes.write('GGML', 0, 'latin1'))),
    expected: ['MODEL_NOT_GGUF', 'MODEL_NOT_GGUF', 'MODEL_NOT_GGUF'],
    says: /ggml-magic\.gguf is not a GGUF model file: it starts with "GGML"/,
  },
  {
    name: 'a text file',
    make: () => fileOf('text', Buffer.from('hello, I am not a model\n')),
    expected: ['MODEL_NOT_GGUF', 'MODEL_NOT_GGUF', 'MODEL_NOT_GGUF'],
    says: /starts with "hell"/,
  },
  {
    name: 'a future GGUF version',
    make: () => fileOf('version-99', patched((bytes) => bytes.writeUInt32LE(99, 4))),
    // node-llama-cpp reads it as version 3 with a warning; llama.cpp refuses it.
    expected: ['MODEL_UNSUPPORTED', 'ok', 'MODEL_UNSUPPORTED'],
    says: /version-99\.gguf is GGUF version 99/,
  },
  {
    name: 'an impossible key length',
    make: () => fileOf('key-length', patched((bytes) => bytes.writeBigUInt64LE(0xff_ffff_ffffn, FIRST_KEY_LENGTH_AT))),
    expected: ['MODEL_CORRUPT', 'MODEL_CORRUPT', 'MODEL_CORRUPT'],
    says: /key-length\.gguf is damaged: the key of metadata entry 0 declares a length of 1099511627775 bytes/,
    loadSays: /key-length\.gguf is damaged: its header declares a length or count larger than any file/,
  },
  {
    name: 'an unknown value type',
    make: () => fileOf('value-type', patched((bytes) => bytes.writeUInt32LE(77, FIRST_VALUE_TYPE_AT))),
    expected: ['MODEL_CORRUPT', 'MODEL_CORRUPT', 'MODEL_CORRUPT'],
    says: /value-type\.gguf is damaged: metadata "general\.architecture" has value type 77/,
    loadSays: /value of type 77/,
  },
  {
    name: 'a string length that stays inside the file',
    // node-llama-cpp reads on out of step without noticing; llama.cpp's reader and ours catch a later length.
    make: () => fileOf('string-length', patched((bytes) => bytes.writeBigUInt64LE(2n, FIRST_VALUE_LENGTH_AT))),
    expected: ['MODEL_CORRUPT', 'ok', 'MODEL_CORRUPT'],
    says: /string-length\.gguf is damaged: the key of metadata entry 1 declares a length of \d+ bytes/,
    loadSays: /llama\.cpp could not read its header \("string length \d+ exceeds remaining file size/,
  },
  {
    name: 'truncated tensor data',
    make: () => fileOf('truncated-data', validBytes.subarray(0, tensorDataOffset + (validBytes.length - tensorDataOffset) / 2)),
    expected: ['MODEL_TRUNCATED', 'ok', 'MODEL_TRUNCATED'],
    says: /truncated-data\.gguf is incomplete: it ends at byte \d+, but the data of tensor 'output\.weight' runs to byte \d+/,
    loadSays: /truncated-data\.gguf is incomplete: the data of tensor '[\w.]+' runs past the end of the file/,
  },
  {
    name: 'a file cut one byte short',
    make: () => fileOf('truncated-byte', validBytes.subarray(0, validBytes.length - 1)),
    expected: ['MODEL_TRUNCATED', 'ok', 'MODEL_TRUNCATED'],
    says: /but the data of tensor 'output\.weight' runs to byte \d+/,
    loadSays: /the data of tensor 'output\.weight' runs past the end/,
  },
  {
    name: 'a truncated header',
    // llama.cpp cannot tell a cut header from a damaged one; the pre-check can.
    make: () => fileOf('truncated-header', validBytes.subarray(0, Math.floor(tensorDataOffset / 2))),
    expected: ['MODEL_TRUNCATED', 'ok', 'MODEL_CORRUPT'],
    says: /truncated-header\.gguf is incomplete: it ends at byte \d+, inside its header \(in metadata "tokenizer\.ggml\.\w+"\)/,
    loadSays: /could not read its header \("failed to read key-value pairs"\)/,
  },
  {
    name: 'an unknown architecture',
    make: () => fileOf('nonsense', withMetadata('general.architecture', gguf.string('nonsense'))),
    expected: ['ok', 'ok', 'MODEL_UNSUPPORTED'],
    says: /nonsense\.gguf is a model of architecture "nonsense", which the llama\.cpp in this version of Emergent cannot run/,
  },
  {
    name: 'a missing tensor',
    make: async () => {
      const description = buildBigramModel(CORPUS);
      return fileOf('missing-tensor', { ...description, tensors: description.tensors.filter((t) => t.name !== 'blk.0.attn_q.weight') });
    },
    expected: ['ok', 'ok', 'MODEL_LOAD_FAILED'],
    // llama.cpp says "missing tensor '…'" when node-llama-cpp simulates the load and "tensor '…' not found" when it loads.
    says: /^llama\.cpp could not load missing-tensor\.gguf: (?:missing tensor 'blk\.0\.attn_q\.weight'|tensor 'blk\.0\.attn_q\.weight' not found)\.$/,
  },
];

describe('model load failures through node-llama-cpp 3.21.1', () => {
  it.each(cases)('$name', async ({ make, expected, says, loadSays }) => {
    const path = await make();
    const { check, reader, load } = await outcomes(path);
    expect([check[0], reader[0], load[0]]).toEqual(expected);
    expect(check[0] === 'ok' ? load[1] : check[1]).toMatch(says);
    expect(load[1]).toMatch(loadSays ?? says);
  });

  it('keeps serving: the same llama.cpp instance then loads a valid model and generates', async () => {
    const model = await llama.loadModel({ modelPath: valid });
    const context = await model.createContext({ contextSize: 128, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const text = await completion.generateCompletion('the d', { temperature: 0, maxTokens: 20, repeatPenalty: false });
    expect(text).toBe(bigramGreedyChain(CORPUS, 'the d', 20));
    expect(text.length).toBeGreaterThan(0);
    await context.dispose();
    await model.dispose();
  });
});
