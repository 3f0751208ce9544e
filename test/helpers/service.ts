import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createService, type Service } from '../../electron/core/service.js';

export function tempDir(prefix = 'emergent-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A real service on a fresh data dir; llama.cpp on the CPU (there is no GPU on CI). */
export async function createTestService(shell: 'electron' | 'headless' = 'headless'): Promise<{ service: Service; dataDir: string }> {
  const dataDir = tempDir();
  const service = await createService({ dataDir, shell, engine: { gpu: false, log: () => {} } });
  return { service, dataDir };
}
