/**
 * The demo model: a bigram model of resources/demo-corpus.txt, built by `npm run build:demo-model`,
 * so a first run can generate text without downloading anything. It is a build output (*.gguf is
 * not committed); the corpus is the source.
 */
import path from 'node:path';
import { packageRoot } from '../version.js';

/** The demo model's file; it exists once the build made it. */
export function demoModelPath(): string {
  return path.join(packageRoot(), 'resources', 'models', 'demo.gguf');
}

/** The text the demo model is built from. */
export function demoCorpusPath(): string {
  return path.join(packageRoot(), 'resources', 'demo-corpus.txt');
}

export const DEMO_MODEL_NAME = 'Emergent demo (bigram)';
