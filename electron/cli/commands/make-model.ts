import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { EmergentError } from '../../common/errors.js';
import { formatBytes } from '../../common/format.js';
import { buildBigramModel } from '../../core/models/bigram-model.js';
import { writeGguf, type GgufFileDescription } from '../../core/models/gguf-writer.js';
import {
  buildShapeModel,
  NAMED_MODEL_SHAPES,
  type ModelShape,
  type NamedModelShape,
  type ShapeModelQuant,
} from '../../core/models/shape-model.js';
import { HELP_OPTION, integerOption, stringOption, type Command, type ParsedArgs } from '../command.js';

const QUANTS: readonly ShapeModelQuant[] = ['q4_0', 'q8_0', 'f16'];
const SHAPE_NAMES = Object.keys(NAMED_MODEL_SHAPES) as NamedModelShape[];
const SEE_HELP = 'See `emergent make-model --help`.';

export const makeModelCommand: Command = {
  name: 'make-model',
  summary: 'Write a GGUF model without downloading one: a bigram model of a text, or random weights of a real shape.',
  usage: 'emergent make-model (--corpus FILE | --shape NAME|D,L,F,H,HKV --quant q4_0|q8_0|f16 [--seed N]) --out FILE.gguf [--name NAME]',
  options: {
    corpus: { type: 'string', valueName: 'FILE', description: 'A UTF-8 text: the model predicts each character from the one before, as in it.' },
    shape: {
      type: 'string',
      valueName: 'SHAPE',
      description: `${SHAPE_NAMES.join(' or ')}, or width,layers,feed-forward width,heads,key-value heads.`,
    },
    quant: { type: 'string', valueName: 'TYPE', description: 'Weight type of a --shape model: q4_0, q8_0 or f16.' },
    seed: { type: 'string', valueName: 'N', description: 'Seed of the random weights (default 1); the same seed writes the same file.' },
    out: { type: 'string', valueName: 'FILE', description: 'The .gguf file to write (its folder is created if needed).' },
    name: { type: 'string', valueName: 'NAME', description: 'The name the model reports (general.name).' },
    ...HELP_OPTION,
  },
  details:
    'A --corpus model is tiny and generates text like its corpus; greedy decoding follows the most likely next\n' +
    'character. A --shape model writes gibberish at the real cost per token of that shape (speed work);\n' +
    'tinyllama-1.1b takes about 30 s and 550 MB. Prints the written file and its size on standard output.',
  async run(args) {
    const out = stringOption(args, 'out');
    const corpusPath = stringOption(args, 'corpus');
    const shapeText = stringOption(args, 'shape');
    if (corpusPath === undefined && shapeText === undefined) {
      throw new EmergentError('INVALID_INPUT', `Give --corpus FILE (a bigram model) or --shape SHAPE --quant TYPE (random weights). ${SEE_HELP}`);
    }
    if (corpusPath !== undefined && shapeText !== undefined) {
      throw new EmergentError('INVALID_INPUT', `Give either --corpus or --shape, not both. ${SEE_HELP}`);
    }
    if (out === undefined) throw new EmergentError('INVALID_INPUT', `--out FILE.gguf is required. ${SEE_HELP}`);

    const description = corpusPath !== undefined ? await bigramDescription(args, corpusPath) : shapeDescription(args, shapeText ?? '');
    const target = path.resolve(out);
    const written = await writeAtomically(target, corpusPath === undefined ? withProgress(description, progressReporter(target)) : description);
    process.stdout.write(`Wrote ${target} (${formatBytes(written)})\n`);
    return 0;
  },
};

async function bigramDescription(args: ParsedArgs, corpusPath: string): Promise<GgufFileDescription> {
  for (const option of ['quant', 'seed']) {
    if (args.values[option] !== undefined) {
      throw new EmergentError('INVALID_INPUT', `--${option} is for --shape models; a --corpus model has exact F32 weights. ${SEE_HELP}`);
    }
  }
  let corpus: string;
  try {
    corpus = await readFile(corpusPath, 'utf8');
  } catch (err) {
    const reason = (err as { code?: unknown }).code === 'ENOENT' ? 'there is no such file' : (err as Error).message;
    throw new EmergentError('INVALID_INPUT', `Cannot read the corpus ${corpusPath}: ${reason}.`);
  }
  const name = stringOption(args, 'name') ?? `${path.basename(corpusPath, path.extname(corpusPath))} (bigram)`;
  try {
    return buildBigramModel(corpus, { name });
  } catch (err) {
    // The corpus is empty, or holds U+2581, which the vocabulary reserves for spaces.
    throw new EmergentError('INVALID_INPUT', `The corpus ${corpusPath} cannot make a model: ${(err as Error).message}.`);
  }
}

function shapeDescription(args: ParsedArgs, shapeText: string): GgufFileDescription {
  const quant = stringOption(args, 'quant');
  if (quant === undefined) throw new EmergentError('INVALID_INPUT', `--shape needs --quant ${QUANTS.join('|')}. ${SEE_HELP}`);
  if (!(QUANTS as readonly string[]).includes(quant)) {
    throw new EmergentError('INVALID_INPUT', `--quant must be one of ${QUANTS.join(', ')}, not ${JSON.stringify(quant)}.`);
  }
  const seed = integerOption(args, 'seed', 0, 2 ** 32 - 1) ?? 1;
  const name = stringOption(args, 'name');
  const shape = parseShape(shapeText);
  try {
    return buildShapeModel({ shape, quant: quant as ShapeModelQuant, seed, ...(name === undefined ? {} : { name }) });
  } catch (err) {
    throw new EmergentError('INVALID_INPUT', `--shape ${shapeText} cannot be built: ${(err as Error).message}.`);
  }
}

function parseShape(text: string): NamedModelShape | ModelShape {
  if ((SHAPE_NAMES as string[]).includes(text)) return text as NamedModelShape;
  const numbers = text.split(',').map((part) => Number(part.trim()));
  if (numbers.length !== 5 || !numbers.every((n) => Number.isInteger(n) && n > 0)) {
    throw new EmergentError(
      'INVALID_INPUT',
      `--shape must be ${SHAPE_NAMES.join(' or ')}, or five positive whole numbers D,L,F,H,HKV (e.g. 256,4,512,8,4), not ${JSON.stringify(text)}.`,
    );
  }
  const [d = 0, l = 0, f = 0, h = 0, hkv = 0] = numbers;
  return { d, l, f, h, hkv };
}

/** Writes beside the target and renames, so an interrupted run never leaves a truncated model behind. */
async function writeAtomically(target: string, description: GgufFileDescription): Promise<number> {
  const partial = `${target}.partial-${process.pid}`;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeGguf(partial, description);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof EmergentError) throw err;
    throw new EmergentError('INVALID_INPUT', `Cannot write ${target}: ${(err as Error).message}.`);
  }
  return (await stat(target)).size;
}

/** The same description, reporting the fraction of values written after each chunk. */
function withProgress(description: GgufFileDescription, report: (fraction: number) => void): GgufFileDescription {
  const total = description.tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((product, dim) => product * dim, 1), 0);
  let done = 0;
  return {
    ...description,
    tensors: description.tensors.map((tensor) => ({
      ...tensor,
      data: function* () {
        for (const chunk of tensor.data()) {
          yield chunk;
          done += chunk.length;
          report(total === 0 ? 1 : done / total);
        }
      },
    })),
  };
}

/** Percent on one updating line on a terminal; a line per 10% when stderr is a file or a pipe. */
function progressReporter(target: string): (fraction: number) => void {
  const label = `Writing ${path.basename(target)}`;
  const interactive = process.stderr.isTTY === true;
  const step = interactive ? 1 : 10;
  let shown = -1;
  return (fraction) => {
    const percent = Math.floor((fraction * 100) / step) * step;
    if (percent === shown) return;
    shown = percent;
    if (interactive) process.stderr.write(`\r${label}: ${percent}%${percent === 100 ? '\n' : ''}`);
    else process.stderr.write(`${label}: ${percent}%\n`);
  };
}
