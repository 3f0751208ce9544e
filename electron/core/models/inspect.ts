/**
 * What a GGUF file is and whether it fits: its metadata, size and shape, and node-llama-cpp's
 * estimate of the memory the model and a context of the given size would take on this machine.
 * Nothing is loaded; the file is checked first, so a broken one fails with its coded error.
 */
import os from 'node:os';
import path from 'node:path';
import { GgufFileType, GgufInsights, readGgufFileInfo, type GgufFileInfo, type Llama } from 'node-llama-cpp';
import type { ModelInspection } from '../../common/contract.js';
import { formatBytes } from '../../common/format.js';
import { checkModelFile, classifyModelError, unsupportedArchitecture } from '../engine/model-errors.js';

/** The context an inspection estimates for when none is given: the model's own, at most this. */
export const DEFAULT_INSPECT_CONTEXT_SIZE = 4096;
/** Arrays up to this long are shown item by item; longer ones as a count. */
const SHOWN_ARRAY_ITEMS = 8;
/** Longer strings (an embedded tokenizer.json) are summarized, not sent. */
const SHOWN_STRING_CHARACTERS = 64 * 1024;

export interface InspectOptions {
  contextSize?: number | undefined;
  /** Free RAM in bytes; tests make it small to see a model that does not fit. */
  availableMemory?: (() => number) | undefined;
}

export async function inspectModel(llama: Llama, modelPath: string, options: InspectOptions = {}): Promise<ModelInspection> {
  const resolved = path.resolve(modelPath);
  const { sizeBytes } = await checkModelFile(resolved);
  try {
    // sourceType: a path that looks like a URL must never make this fetch anything.
    const fileInfo = await readGgufFileInfo(resolved, { sourceType: 'filesystem', logWarnings: false });
    const insights = await GgufInsights.from(fileInfo, llama);
    const general = fileInfo.metadata.general;
    const architecture = String(general?.architecture ?? 'unknown');
    if (!insights.isSupportedByLlamaCpp) throw unsupportedArchitecture(path.basename(resolved), architecture);

    const trainedContextSize = insights.trainContextSize ?? 0;
    const contextSize = options.contextSize ?? Math.min(trainedContextSize || DEFAULT_INSPECT_CONTEXT_SIZE, DEFAULT_INSPECT_CONTEXT_SIZE);
    const estimate = await estimateMemory(llama, insights, contextSize, options.availableMemory ?? os.freemem);
    const tokens = fileInfo.metadata.tokenizer?.ggml?.tokens;
    const chatTemplate = fileInfo.metadata.tokenizer?.chat_template;
    return {
      path: resolved,
      sizeBytes,
      name: general?.name ?? path.basename(resolved, path.extname(resolved)),
      architecture,
      fileType: fileTypeName(general?.file_type),
      parameters: fileInfo.fullTensorInfo === undefined ? null : insights.totalParameters,
      trainedContextSize,
      embeddingLength: fileInfo.architectureMetadata.embedding_length ?? 0,
      blockCount: fileInfo.architectureMetadata.block_count ?? 0,
      vocabularySize: tokens?.length ?? fileInfo.architectureMetadata.vocab_size ?? 0,
      tensorCount: Number(fileInfo.totalTensorCount),
      hasChatTemplate: typeof chatTemplate === 'string' && chatTemplate.length > 0,
      metadata: printableMetadata(fileInfo),
      estimate,
    };
  } catch (err) {
    throw classifyModelError(err, resolved);
  }
}

async function estimateMemory(
  llama: Llama,
  insights: GgufInsights,
  contextSize: number,
  availableMemory: () => number,
): Promise<ModelInspection['estimate']> {
  // As loading will: as many layers on the GPU as fit there, none without one.
  const gpuLayers = llama.gpu === false ? 0 : (await insights.configurationResolver.resolveModelGpuLayersV2('auto')).gpuLayers;
  // The V2 estimates simulate the allocation in llama.cpp (the V1 ones are deprecated heuristics
  // that nearly doubled a 1.1B model's context); they fall back to the heuristics on their own.
  const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
  const context = await insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: gpuLayers, sequences: 1 });
  const freeRamBytes = availableMemory();
  const ramBytes = model.cpuRam + context.cpuRam;
  const vramBytes = model.gpuVram + context.gpuVram;
  let fits = ramBytes <= freeRamBytes;
  let summary = `needs ${formatBytes(ramBytes)}, ${fits ? '' : 'only '}${formatBytes(freeRamBytes)} free`;
  if (vramBytes > 0) {
    const freeVramBytes = (await llama.getVramState()).free;
    const vramFits = vramBytes <= freeVramBytes;
    summary =
      `needs ${formatBytes(vramBytes)} of VRAM (${vramFits ? '' : 'only '}${formatBytes(freeVramBytes)} free) ` +
      `and ${formatBytes(ramBytes)} of RAM (${fits ? '' : 'only '}${formatBytes(freeRamBytes)} free)`;
    fits &&= vramFits;
  }
  return {
    contextSize,
    modelRamBytes: model.cpuRam,
    modelVramBytes: model.gpuVram,
    contextRamBytes: context.cpuRam,
    contextVramBytes: context.gpuVram,
    freeRamBytes,
    fits,
    summary,
  };
}

/** "Q4_0", "F16", "Q4_K_M" from general.file_type; null when the file does not say. */
function fileTypeName(fileType: number | undefined): string | null {
  if (fileType === undefined) return null;
  const name = GgufFileType[fileType] as string | undefined;
  return name === undefined ? `file type ${fileType}` : name.replace(/^(?:MOSTLY|ALL)_/, '');
}

type PrintableValue = string | number | boolean;

/** Every metadata key with a value a person can read: long arrays and strings become a summary. */
function printableMetadata(fileInfo: GgufFileInfo): Record<string, PrintableValue> {
  const printable: Record<string, PrintableValue> = {};
  const visit = (value: unknown, key: string): void => {
    if (Array.isArray(value)) printable[key] = summarizeArray(value);
    else if (value !== null && typeof value === 'object') {
      for (const [child, childValue] of Object.entries(value)) visit(childValue, key === '' ? child : `${key}.${child}`);
    } else if (typeof value === 'string') {
      printable[key] = value.length <= SHOWN_STRING_CHARACTERS ? value : `[text of ${value.length} characters]`;
    } else if (typeof value === 'bigint') {
      printable[key] = Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      printable[key] = value;
    }
  };
  visit(fileInfo.metadata, '');
  return printable;
}

function summarizeArray(items: readonly unknown[]): string {
  const kinds = new Set(items.map((item) => (Array.isArray(item) ? 'array' : typeof item)));
  const primitive = [...kinds].every((kind) => kind === 'string' || kind === 'number' || kind === 'boolean' || kind === 'bigint');
  if (primitive && items.length <= SHOWN_ARRAY_ITEMS) {
    return `[${items.map((item) => (typeof item === 'string' ? JSON.stringify(item) : String(item))).join(', ')}]`;
  }
  const kind = kinds.size === 1 ? [...kinds][0] : 'item';
  const noun = kind === 'bigint' ? 'number' : kind === 'object' || kind === undefined ? 'item' : kind;
  return `[${items.length} ${noun}${items.length === 1 ? '' : 's'}]`;
}
