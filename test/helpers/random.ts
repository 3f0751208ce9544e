import { seededRandom } from '../../electron/core/models/shape-model.js';

/** Reproducible tensor data in [-scale, scale) for writer tests. */
export function randomValues(count: number, seed: number, scale = 1): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
}
