import { describe, it, expect, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ModelInspectionSchema } from '../../electron/common/contract.js';
import { buildCharacterVocabulary } from '../../electron/core/models/character-vocabulary.js';
import { shapeModelParameterCount } from '../../electron/core/models/shape-model.js';
import { runEmergent } from '../helpers/cli.js';
import { tempDir } from '../helpers/service.js';

// `emergent make-model` and `emergent models inspect` as a person or a script runs them: the built CLI.

const CORPUS = 'The kettle sings. The rain taps on the window.\nTea is ready.\n';
const WROTE_LINE = /^Wrote (.+\.gguf) \((\d+(?:\.\d)? (?:B|KB|MB|GB))\)\n$/;

let work = '';
let env: NodeJS.ProcessEnv = {};
let corpusFile = '';
beforeAll(() => {
  work = tempDir('emergent-models-cli-');
  env = { EMERGENT_DATA_DIR: path.join(work, 'data') };
  corpusFile = path.join(work, 'tea.txt');
  fs.writeFileSync(corpusFile, CORPUS);
});

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('emergent make-model and models inspect', () => {
  it('writes a bigram model and inspects it as a summary and as JSON', async () => {
    const out = path.join(work, 'nested', 'tea.gguf');
    const made = await runEmergent(['make-model', '--corpus', corpusFile, '--out', out, '--name', 'Tea time']);
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(WROTE_LINE);
    expect(WROTE_LINE.exec(made.stdout)?.[1]).toBe(out);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['tea.gguf']); // no partial file left behind

    const summary = await runEmergent(['models', 'inspect', out], env);
    expect(summary).toMatchObject({ status: 0, stderr: '' });
    const lines = summary.stdout.split('\n');
    expect(lines[0]).toBe('Tea time');
    expect(summary.stdout).toMatch(/^ {2}architecture +llama$/m);
    expect(summary.stdout).toMatch(/^ {2}quantization +F32$/m);
    expect(summary.stdout).toMatch(/^ {2}context +trained on 4096 tokens$/m);
    expect(summary.stdout).toMatch(new RegExp(`^ {2}file +${out.replaceAll('.', '\\.')} \\(\\d+(?:\\.\\d)? KB\\)$`, 'm'));
    expect(summary.stdout).toMatch(/^ {2}memory +needs \S+ [KMG]B, \S+ GB free \(4096-token context\)$/m);

    const json = await runEmergent(['models', 'inspect', out, '--json', '--context-size', '512'], env);
    expect(json).toMatchObject({ status: 0, stderr: '' });
    const inspection = ModelInspectionSchema.strict().parse(JSON.parse(json.stdout));
    expect(inspection).toMatchObject({
      path: out,
      sizeBytes: fs.statSync(out).size,
      name: 'Tea time',
      architecture: 'llama',
      fileType: 'F32',
      vocabularySize: buildCharacterVocabulary(CORPUS).tokens.length,
      hasChatTemplate: true,
      estimate: { contextSize: 512, fits: true },
    });
  });

  it('writes a random-weight model of a given shape, reproducibly, with progress on stderr', async () => {
    const shape = { d: 128, l: 2, f: 256, h: 4, hkv: 2 };
    const args = ['make-model', '--shape', '128,2,256,4,2', '--quant', 'q8_0', '--seed', '7'];
    const first = path.join(work, 'shape-a.gguf');
    const second = path.join(work, 'shape-b.gguf');
    const made = await runEmergent([...args, '--out', first]);
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(WROTE_LINE);
    // Not a terminal: one line per tenth, ending at 100%.
    const progress = made.stderr.trim().split('\n');
    expect(progress.at(-1)).toBe('Writing shape-a.gguf: 100%');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every((line) => /^Writing shape-a\.gguf: \d{1,3}0?%$/.test(line))).toBe(true);
    expect((await runEmergent([...args, '--out', second])).status).toBe(0);
    expect(sha256(first)).toBe(sha256(second));

    const json = await runEmergent(['models', 'inspect', first, '--json'], env);
    const inspection = ModelInspectionSchema.parse(JSON.parse(json.stdout));
    expect(inspection).toMatchObject({ fileType: 'Q8_0', parameters: shapeModelParameterCount(shape), blockCount: 2, embeddingLength: 128 });
  });

  it('reports a broken or missing file as `error CODE: message` with exit status 1', async () => {
    const made = await runEmergent(['make-model', '--corpus', corpusFile, '--out', path.join(work, 'whole.gguf')]);
    expect(made.status).toBe(0);
    const whole = fs.readFileSync(path.join(work, 'whole.gguf'));
    const truncated = path.join(work, 'cut.gguf');
    fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const notModel = path.join(work, 'tea-copy.gguf');
    fs.copyFileSync(corpusFile, notModel);

    const cases: [string, string, RegExp][] = [
      [truncated, 'MODEL_TRUNCATED', /^cut\.gguf is incomplete: it ends at byte \d+, but the data of tensor '[\w.]+' runs to byte \d+\./],
      [path.join(work, 'absent.gguf'), 'MODEL_NOT_FOUND', /^No file at .*absent\.gguf\. Check the path\.$/],
      [notModel, 'MODEL_NOT_GGUF', /^tea-copy\.gguf is not a GGUF model file: it starts with "The ", where a GGUF file starts with "GGUF"\./],
    ];
    for (const [file, code, message] of cases) {
      for (const extra of [[], ['--json']]) {
        const result = await runEmergent(['models', 'inspect', file, ...extra], env);
        expect(result.status, `${file} ${extra.join(' ')}`).toBe(1);
        expect(result.stdout).toBe('');
        const line = /^error ([A-Z_]+): (.*)\n$/s.exec(result.stderr);
        expect(line?.[1]).toBe(code);
        expect(line?.[2]).toMatch(message);
      }
    }
  });

  it('refuses bad arguments with INVALID_INPUT and exit status 2', async () => {
    const out = path.join(work, 'never.gguf');
    const refusals: [string[], RegExp][] = [
      [['make-model', '--out', out], /Give --corpus FILE .* or --shape SHAPE --quant TYPE/],
      [['make-model', '--corpus', corpusFile, '--shape', 'tinyllama-1.1b', '--out', out], /either --corpus or --shape, not both/],
      [['make-model', '--corpus', corpusFile], /--out FILE\.gguf is required/],
      [['make-model', '--shape', 'huge', '--quant', 'q4_0', '--out', out], /--shape must be tinyllama-1\.1b or llama-3\.2-1b, or five/],
      [['make-model', '--shape', '48,1,64,2,1', '--quant', 'q4_0', '--out', out], /multiples of 32/],
      [['make-model', '--shape', '64,1,64,2,1', '--out', out], /--shape needs --quant q4_0\|q8_0\|f16/],
      [['make-model', '--shape', '64,1,64,2,1', '--quant', 'q3', '--out', out], /--quant must be one of q4_0, q8_0, f16/],
      [['make-model', '--corpus', corpusFile, '--seed', '3', '--out', out], /--seed is for --shape models/],
      [['make-model', '--corpus', path.join(work, 'no-corpus.txt'), '--out', out], /Cannot read the corpus .*no-corpus\.txt: there is no such file/],
      [['make-model', '--corpus', corpusFile, '--out', work], /Cannot write /],
      [['models'], /Name a command: `emergent models inspect`/],
      [['models', 'list'], /Unknown command "models list"/],
      [['models', 'inspect'], /Name the model file/],
      [['models', 'inspect', 'a.gguf', 'b.gguf'], /one file at a time/],
    ];
    for (const [args, message] of refusals) {
      const result = await runEmergent(args, env);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^error INVALID_INPUT: /);
      expect(result.stderr).toMatch(message);
    }
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(work).filter((name) => name.includes('.partial'))).toEqual([]);
  });

  it('has --help for the models group and its inspect command', async () => {
    const group = await runEmergent(['models', '--help']);
    expect(group.status).toBe(0);
    expect(group.stdout).toContain('Usage: emergent models <inspect>');
    expect(group.stdout).toMatch(/^ {2}models inspect +What a GGUF file holds/m);
    for (const args of [['models', 'inspect', '--help'], ['help', 'models', 'inspect']]) {
      const own = await runEmergent(args);
      expect(own.status).toBe(0);
      expect(own.stdout).toContain('Usage: emergent models inspect FILE [--context-size N] [--json]');
      expect(own.stdout).toContain('--json');
    }
    const general = await runEmergent(['--help']);
    expect(general.stdout).toMatch(/^ {2}models +Look into model files\.$/m);
    expect(general.stdout).toMatch(/^ {2}make-model +Write a GGUF model/m);
  });
});
