/** Words for the status bar, from the core's EngineStatus. */
import type { Backend, EngineStatus } from '../../../electron/common/contract.js';

const ENGINE_STATE_LABELS: Record<EngineStatus['state'], string> = {
  starting: 'Engine starting…',
  ready: 'Engine ready',
  unavailable: 'Engine unavailable',
};

const BACKEND_LABELS: Record<Backend, string> = { cpu: 'CPU', cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' };

// Decimal gigabytes (10^9 bytes), one digit after the separator of the person's locale.
const gigabytes = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function formatGigabytes(bytes: number): string {
  return gigabytes.format(bytes / 1e9);
}

export function engineStateLabel(state: EngineStatus['state']): string {
  return ENGINE_STATE_LABELS[state];
}

export function backendLabel(backend: Backend): string {
  return BACKEND_LABELS[backend];
}

export function loadedModelsLabel(models: EngineStatus['loadedModels']): string {
  const [first, ...others] = models;
  if (!first) return 'No model loaded';
  return others.length === 0 ? first.name : `${models.length} models loaded`;
}

/** "RAM 18.2 / 23.4 GB free" */
export function ramLabel(memory: EngineStatus['memory']): string {
  return `RAM ${formatGigabytes(memory.ramFreeBytes)} / ${formatGigabytes(memory.ramTotalBytes)} GB free`;
}

/** "VRAM 5.1 / 8.0 GB free", or null when the engine runs without a GPU. */
export function vramLabel(memory: EngineStatus['memory']): string | null {
  const { vramTotalBytes: total, vramUsedBytes: used } = memory;
  if (total === null || used === null) return null;
  return `VRAM ${formatGigabytes(Math.max(0, total - used))} / ${formatGigabytes(total)} GB free`;
}
