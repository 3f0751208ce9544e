/**
 * `npm run bench -- [--model FILE] [--repeats N] [--tokens N] [--out DIR] [--only engine|store|chat]`
 * Measures our paths against the raw libraries in one run and prints ratios, and the Chat panel
 * in Chromium; writes bench-results/bench-MODEL.{json,md} (bench-store, bench-chat with --only).
 * Not a test: numbers are reported, never asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { demoModelPath } from '../electron/core/models/demo-model.js';
import { benchChatPanel, chatBenchUnavailable } from './chat-ui.js';
import { benchEngine } from './engine.js';
import { benchStore } from './store.js';
import { toMarkdown, type BenchSection } from './report.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    model: { type: 'string' },
    repeats: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '128' },
    out: { type: 'string', default: 'bench-results' },
    only: { type: 'string' },
  },
});

const SECTIONS = ['engine', 'store', 'chat'] as const;
const only = values.only;
if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) {
  process.stderr.write(`--only takes one of ${SECTIONS.join(', ')}, not ${JSON.stringify(only)}.\n`);
  process.exit(1);
}
const runs = (section: (typeof SECTIONS)[number]) => only === undefined || only === section;
// Checked before the other sections spend minutes.
const chatUnavailable = runs('chat') ? chatBenchUnavailable() : null;
if (chatUnavailable !== null) {
  process.stderr.write(`${chatUnavailable}\n`);
  process.exit(1);
}

const modelPath = path.resolve(values.model ?? demoModelPath());
if (!fs.existsSync(modelPath)) {
  process.stderr.write(`No model at ${modelPath}. Build the demo model (npm run build) or pass --model FILE.\n`);
  process.exit(1);
}
const repeats = Math.max(5, Number(values.repeats));
const tokens = Number(values.tokens);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emergent-bench-'));

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${process.platform} ${os.release()}, Node ${process.version}`;
process.stderr.write(`Benchmarking ${path.basename(modelPath)} on ${machine}\n`);

const sections: BenchSection[] = [];
if (runs('engine')) sections.push(...(await benchEngine({ modelPath, repeats, generateTokens: tokens, dataDir })));
if (runs('store')) sections.push(...(await benchStore()));
if (runs('chat')) sections.push(...(await benchChatPanel({ repeats })));

const header = `## Emergent bench: ${path.basename(modelPath)}\n\nMachine: ${machine}. Date: ${new Date().toISOString()}.`;
const markdown = toMarkdown(header, sections);
fs.mkdirSync(values.out, { recursive: true });
const stem = path.join(values.out, only === 'store' || only === 'chat' ? `bench-${only}` : `bench-${path.basename(modelPath, '.gguf')}`);
fs.writeFileSync(`${stem}.json`, `${JSON.stringify({ model: modelPath, machine, date: new Date().toISOString(), sections }, null, 2)}\n`);
fs.writeFileSync(`${stem}.md`, `${markdown}\n`);
process.stdout.write(`${markdown}\n`);
process.stderr.write(`Wrote ${stem}.json and ${stem}.md\n`);
fs.rmSync(dataDir, { recursive: true, force: true });
