/**
 * How many CPU threads llama.cpp gets. Never the library default: node-llama-cpp uses
 * max(4, cores) and its prebuilt ggml (no OpenMP) spins at every barrier, so on 2 cores the
 * default runs 45x (1.1B) to 500x (tiny models) slower than this choice (DESIGN.md, measured).
 * Tiny models are bound by per-token overhead, where a second thread only adds barrier waits;
 * models of about 0.5B parameters and up are bound by compute and want every physical core.
 */
export const SMALL_MODEL_PARAMETERS = 500_000_000;

export interface ThreadChoiceInput {
  /** Physical cores llama.cpp can use for math (node-llama-cpp's `cpuMathCores`). */
  physicalCores: number;
  /** Parameter count when known; otherwise estimated from the file size. */
  parameters: number | null;
  fileSizeBytes: number;
  /** A person's choice in Settings or on the command line wins. */
  override?: number | null;
}

export function chooseThreads(input: ThreadChoiceInput): number {
  const cores = Math.max(1, Math.floor(input.physicalCores));
  if (input.override !== undefined && input.override !== null) return Math.max(1, Math.floor(input.override));
  // ~0.55 bytes per parameter at Q4, 2 at F16: size/2 under-estimates, which errs towards 1 thread only for tiny files.
  const parameters = input.parameters ?? input.fileSizeBytes / 2;
  return parameters < SMALL_MODEL_PARAMETERS ? 1 : cores;
}
