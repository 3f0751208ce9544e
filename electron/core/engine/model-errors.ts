/**
 * Why a model file cannot be used, as a stable code and words a person can act on.
 *
 * The failures arrive in three shapes: Node's fs errors (missing file, a folder), errors of
 * node-llama-cpp's GGUF reader (its classes are not exported, so they are matched by class name
 * and message), and llama.cpp's bare "Failed to load model", whose reason is only in its log.
 * Messages below were observed from node-llama-cpp 3.21.1 on files made broken on purpose
 * (test/models/model-errors.test.ts). checkModelFile catches damage to the file itself before
 * either library reads it; classifyModelError explains what still fails inside them.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EmergentError } from '../../common/errors.js';
import { GgufHeaderError, scanGgufHeader, type GgufHeaderSummary } from '../models/gguf-header.js';

/** GGUF versions llama.cpp reads (version 1 was dropped in 2023). */
export const SUPPORTED_GGUF_VERSIONS: readonly number[] = [2, 3];
const GGUF_MAGIC = 'GGUF';
/** The formats before GGUF wrote their magic as a little-endian uint32, so it reads reversed. */
const PRE_GGUF_MAGICS = new Set(['lmgg', 'fmgg', 'tjgg', 'algg']);

export interface ModelFileCheck extends GgufHeaderSummary {
  sizeBytes: number;
}

/**
 * The check before llama.cpp sees a file: it exists, is a regular file, starts with "GGUF" and a
 * version llama.cpp reads, its header holds together and its tensor data lies inside the file.
 * Reads the header once (a few MB at most) and no tensor data. Throws the coded error.
 */
export async function checkModelFile(filePath: string): Promise<ModelFileCheck> {
  const name = path.basename(filePath);
  let file: FileHandle;
  let sizeBytes: number;
  try {
    const stats = await stat(filePath);
    if (stats.isDirectory()) throw new EmergentError('MODEL_NOT_FOUND', folderMessage(filePath));
    if (!stats.isFile()) {
      throw new EmergentError('MODEL_NOT_FOUND', `${filePath} is not a regular file (a device, pipe or socket). Choose a .gguf model file.`);
    }
    sizeBytes = stats.size;
    file = await open(filePath, 'r');
  } catch (err) {
    throw classifyModelError(err, filePath);
  }
  try {
    const start = Buffer.alloc(8);
    const { bytesRead } = await file.read(start, 0, start.length, 0);
    const magic = start.subarray(0, Math.min(bytesRead, 4));
    if (magic.toString('latin1') !== GGUF_MAGIC) throw notGguf(name, magic);
    if (bytesRead < 8) throw truncated(name, `it is only ${sizeBytes} bytes long, shorter than a GGUF header`);
    const version = start.readUInt32LE(4);
    checkGgufVersion(name, version, start.readUInt32BE(4));
    const header = await scanGgufHeader(file, sizeBytes, version);
    return { sizeBytes, ...header };
  } catch (err) {
    if (err instanceof GgufHeaderError) throw err.kind === 'truncated' ? truncated(name, err.message) : corrupt(name, err.message);
    throw classifyModelError(err, filePath);
  } finally {
    await file.close();
  }
}

function checkGgufVersion(name: string, version: number, versionIfBigEndian: number): void {
  if (SUPPORTED_GGUF_VERSIONS.includes(version)) return;
  if (SUPPORTED_GGUF_VERSIONS.includes(versionIfBigEndian)) {
    throw new EmergentError(
      'MODEL_UNSUPPORTED',
      `${name} is a big-endian GGUF file (made for IBM Z machines); this machine needs the little-endian version of the model.`,
    );
  }
  if (version === 1) {
    throw new EmergentError('MODEL_UNSUPPORTED', `${name} is GGUF version 1, which llama.cpp no longer reads. Get a newer conversion of the model.`);
  }
  // A small version above ours is a newer format; anything else is a damaged header.
  if (version > 3 && version < 256) throw newerGgufVersion(name, version, Math.max(...SUPPORTED_GGUF_VERSIONS));
  throw corrupt(name, `its header names GGUF version ${version}, which does not exist`);
}

/**
 * llama.cpp's log lines reach JavaScript through a thread-safe callback that can run just after
 * the failed load has rejected; await this before reading the log to classify the failure.
 */
export async function llamaLogSettled(lineCount?: () => number): Promise<void> {
  // With node-llama-cpp 3.21.1 every line had arrived one turn of the event loop after the
  // rejection on an idle machine; a second turn leaves a margin.
  for (let round = 0; round < 2; round++) await new Promise((resolve) => setImmediate(resolve));
  if (lineCount === undefined) return;
  // On a busy machine (CI beside other work) lines came later: wait until none arrived for
  // LOG_QUIET_MS, for at most LOG_WAIT_MS. Only failures pay this, never a good load.
  const deadline = performance.now() + LOG_WAIT_MS;
  for (let seen = lineCount(); performance.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, LOG_QUIET_MS));
    const now = lineCount();
    if (now === seen) return;
    seen = now;
  }
}

const LOG_QUIET_MS = 25;
const LOG_WAIT_MS = 500;

/** Patterns in llama.cpp's log, most specific first; each yields the error for the file named `name`. */
const LOG_EXPLANATIONS: readonly { pattern: RegExp; explain: (name: string, match: RegExpExecArray, line: string) => EmergentError }[] = [
  {
    pattern: /unknown model architecture: '([^']*)'/,
    explain: (name, [, architecture]) => unsupportedArchitecture(name, architecture ?? ''),
  },
  {
    pattern: /this GGUF file is version (\d+) but this software only supports up to version (\d+)/,
    explain: (name, [, version, newest]) => newerGgufVersion(name, Number(version), Number(newest)),
  },
  {
    pattern: /tensor '([^']*)' data is not within the file bounds|failed to read tensor data|unexpectedly reached end of file/,
    explain: (name, [, tensor], line) =>
      truncated(name, tensor === undefined ? `llama.cpp reports "${llamaReason(line)}"` : `the data of tensor '${tensor}' runs past the end of the file`),
  },
  {
    pattern: /invalid magic characters/,
    explain: (name) => notGguf(name, null),
  },
  {
    // Before the summary line "failed to read key-value pairs" comes the line that says why.
    pattern: /string length \d+ exceeds remaining file size|gguf_init_from_\w+: .*(?:invalid|duplicate|overflow)/,
    explain: (name, _match, line) => corrupt(name, `llama.cpp could not read its header ("${llamaReason(line)}")`),
  },
  {
    pattern: /failed to read (?:key-value pairs|tensor info|header)/,
    explain: (name, _match, line) => corrupt(name, `llama.cpp could not read its header ("${llamaReason(line)}")`),
  },
];

/** "llama_model_load: error loading model: REASON", llama.cpp's one line saying why a load failed. */
const LOAD_ERROR_LINE = /error loading model: (.+)$/;

/** A log line without its level tag, function names and "error loading model:" preamble. */
function llamaReason(line: string): string {
  const reason = LOAD_ERROR_LINE.exec(line)?.[1] ?? line;
  return reason.replace(/^\[\w+\]\s*/, '').replace(/^(?:\w+: )+/, '').trim();
}

/**
 * Maps a failure to read or load a model (from fs, node-llama-cpp's GGUF reader or llama.cpp) to
 * our error codes. `llamaLog` holds llama.cpp's log lines written during the attempt (wait for
 * {@link llamaLogSettled} first); the most recent lines are trusted first.
 */
export function classifyModelError(err: unknown, filePath: string, llamaLog: readonly string[] = []): EmergentError {
  if (err instanceof EmergentError) return err;
  const name = path.basename(filePath);
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (error as { code?: unknown }).code;
  const className = error.constructor.name;

  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
      return new EmergentError('MODEL_NOT_FOUND', `No file at ${filePath}. Check the path.`);
    case 'EISDIR':
      return new EmergentError('MODEL_NOT_FOUND', folderMessage(filePath));
    case 'EACCES':
    case 'EPERM':
      return new EmergentError('MODEL_NOT_FOUND', `${filePath} cannot be read: permission denied. Check the file's permissions.`);
    case 'ELOOP':
      return new EmergentError('MODEL_NOT_FOUND', `${filePath} is a link that leads back to itself. Choose the model file it should point to.`);
  }

  if (className === 'InvalidGgufMagicError' || error.message.startsWith('Invalid GGUF magic')) {
    // 'Invalid GGUF magic. Expected "GGUF" but got "GGML".' (past the end of a short file it reads zeros)
    const got = /but got "(.*)"\.?$/s.exec(error.message)?.[1];
    return notGguf(name, got === undefined ? null : Buffer.from(got, 'latin1'));
  }
  if (className === 'UnsupportedGgufValueTypeError') {
    const type = /value type "(\d+)"/.exec(error.message)?.[1] ?? 'unknown';
    return corrupt(name, `its metadata holds a value of type ${type}, which GGUF does not have`);
  }
  // node-llama-cpp's reader allocates what the header declares: an absurd length or count ends
  // in a RangeError such as 'The value of "size" is out of range. … Received 1_099_511_627_803'.
  if (error instanceof RangeError) {
    return corrupt(name, 'its header declares a length or count larger than any file');
  }
  if (className === 'InsufficientMemoryError') {
    return new EmergentError(
      'INSUFFICIENT_MEMORY',
      `${name} does not fit in the memory free now (${error.message}). Close other models or programs, or choose a smaller quantization.`,
    );
  }

  const lines = [...llamaLog].reverse();
  for (const { pattern, explain } of LOG_EXPLANATIONS) {
    for (const line of lines) {
      const match = pattern.exec(line);
      if (match) return explain(name, match, line);
    }
  }
  // "llama_model_loader: failed to load model from PATH" only repeats that it failed.
  const reason = lines.find((line) => LOAD_ERROR_LINE.test(line) && !/failed to load model from/.test(line));
  if (reason !== undefined) return new EmergentError('MODEL_LOAD_FAILED', `llama.cpp could not load ${name}: ${llamaReason(reason)}.`);
  const detail = error.message === 'Failed to load model' ? 'it gave no reason' : error.message;
  return new EmergentError('MODEL_LOAD_FAILED', `llama.cpp could not load ${name} (${detail}).`);
}

function notGguf(name: string, magic: Uint8Array | null): EmergentError {
  const advice = 'Emergent runs GGUF models, the format of llama.cpp.';
  if (magic === null) return new EmergentError('MODEL_NOT_GGUF', `${name} is not a GGUF model file. ${advice}`);
  // node-llama-cpp reads past the end of a short file as zeros, so an empty file shows as zeros too.
  if (magic.every((byte) => byte === 0)) {
    return new EmergentError(
      'MODEL_NOT_GGUF',
      `${name} is empty or starts with zeros, not a GGUF model (an unfinished download leaves such files). Get the file again.`,
    );
  }
  const text = Buffer.from(magic).toString('latin1');
  if (PRE_GGUF_MAGICS.has(text)) {
    return new EmergentError(
      'MODEL_NOT_GGUF',
      `${name} is in the GGML format that came before GGUF, which llama.cpp no longer reads. Get a GGUF version of the model.`,
    );
  }
  const shown = /^[\x20-\x7e]+$/.test(text) ? `"${text}"` : `the bytes ${Buffer.from(magic).toString('hex')}`;
  return new EmergentError('MODEL_NOT_GGUF', `${name} is not a GGUF model file: it starts with ${shown}, where a GGUF file starts with "GGUF". ${advice}`);
}

function folderMessage(filePath: string): string {
  return `${filePath} is a folder, not a model file. Choose the .gguf file inside it.`;
}

function newerGgufVersion(name: string, version: number, newest: number): EmergentError {
  return new EmergentError('MODEL_UNSUPPORTED', `${name} is GGUF version ${version}; this version of Emergent reads GGUF up to version ${newest}. Update Emergent to open it.`);
}

function truncated(name: string, detail: string): EmergentError {
  return new EmergentError('MODEL_TRUNCATED', `${name} is incomplete: ${detail}. The download or copy was probably cut short; get the file again.`);
}

function corrupt(name: string, detail: string): EmergentError {
  return new EmergentError('MODEL_CORRUPT', `${name} is damaged: ${detail}. Get the file again.`);
}

export function unsupportedArchitecture(name: string, architecture: string): EmergentError {
  return new EmergentError(
    'MODEL_UNSUPPORTED',
    `${name} is a model of architecture "${architecture}", which the llama.cpp in this version of Emergent cannot run. ` +
      'Update Emergent, or choose a model of a supported architecture.',
  );
}
