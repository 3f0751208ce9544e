/**
 * The store never loses work: a generation killed with SIGKILL at a random moment leaves a
 * database that passes integrity_check, and its run, found `running`, becomes `interrupted`
 * at the next start with the text it had committed (at most ~250 ms behind the stream).
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { bigramGreedyChain } from '../../electron/core/models/bigram-model.js';
import { Store } from '../../electron/core/store/store.js';
import { BIN } from '../helpers/cli.js';
import { writeBigramModel } from '../helpers/models.js';
import { tempDir } from '../helpers/service.js';

const LOOPING_CORPUS = 'ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab abc';
const ROUNDS = 20;
let modelPath: string;

beforeAll(async () => {
  modelPath = await writeBigramModel(LOOPING_CORPUS, 'crash-looping', 8192);
});

/** Starts a long generation and SIGKILLs it a random time after its first text; returns what it printed. */
function generateAndKill(dataDir: string, delayMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'run', '--model', modelPath, '--prompt', 'a', '--temperature', '0', '--repeat-penalty', '1', '--max-tokens', '8000', '--context-size', '8192'],
      { env: { ...process.env, EMERGENT_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let printed = '';
    let killTimer: NodeJS.Timeout | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (signal !== 'SIGKILL') reject(new Error(`the run ended by itself before it was killed (printed ${printed.length} chars)`));
      else resolve(printed);
    });
  });
}

describe('a generation killed at a random moment', () => {
  it(`loses nothing committed, ${ROUNDS} times over`, async () => {
    const chain = bigramGreedyChain(LOOPING_CORPUS, 'a', 8000);
    const dataDir = tempDir();
    let interruptedTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Even rounds die early (often before the first batch is written), odd ones well after it.
      const late = round % 2 === 1;
      const printed = await generateAndKill(dataDir, late ? 800 + Math.floor(Math.random() * 700) : Math.floor(Math.random() * 250));
      const store = await Store.open(dataDir);
      try {
        expect(store.integrityCheck()).toEqual(['ok']);
        interruptedTotal += store.runs.markInterrupted();
        const [latest] = store.runs.list({ limit: 1 }).items;
        const run = latest ? store.runs.get(latest.id) : null;
        expect(run?.status).toBe('interrupted');
        const output = run?.output ?? '';
        // What was committed is the model's text, whole up to the last batch. (It can be ahead
        // of what the killed child's stdout pipe delivered: those writes are asynchronous.)
        expect(chain.startsWith(output)).toBe(true);
        expect(chain.startsWith(printed)).toBe(true);
        if (late) expect(output.length, `round ${round}: nothing committed 0.8 s into generation`).toBeGreaterThan(0);
      } finally {
        store.close();
      }
    }
    expect(interruptedTotal).toBe(ROUNDS);
  }, 180_000);
});
