import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | null = null;

/** The folder holding Emergent's package.json, found by walking up (works from src and dist). */
export function packageRoot(): string {
  if (cachedRoot !== null) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const parsed = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: unknown };
      if (parsed.name === 'emergent') {
        cachedRoot = dir;
        return dir;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Emergent package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function readPackageVersion(): string {
  const parsed = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return parsed.version;
}

/** The built renderer (vite build output). */
export function rendererDistDir(): string {
  return path.join(packageRoot(), 'dist', 'renderer');
}
