/**
 * Commands over the store: runs, search, export/import and backup. Each opens the data dir's
 * store through the contract, as the app does.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunRecord, RunSummary, SearchHit } from '../../common/contract.js';
import { EmergentError } from '../../common/errors.js';
import { commandGroup, DATA_DIR_OPTION, HELP_OPTION, integerOption, stringOption, type Command, type ParsedArgs } from '../command.js';
import { openLocalCore } from '../local-core.js';

const JSON_OPTION = { json: { type: 'boolean' as const, description: 'Print JSON instead of text.' } };

async function withCore<T>(args: ParsedArgs, use: (core: Awaited<ReturnType<typeof openLocalCore>>) => Promise<T>): Promise<T> {
  const core = await openLocalCore(args);
  try {
    return await use(core);
  } finally {
    await core.close();
  }
}

const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function summaryLine(run: RunSummary): string {
  const speed = typeof run.metrics?.['tokensPerSecond'] === 'number' ? ` ${run.metrics['tokensPerSecond'].toFixed(1)} tok/s` : '';
  return `${run.id}  ${when(run.createdAt)}  ${run.kind.padEnd(10)} ${run.status.padEnd(11)}${speed}  ${oneLine(run.inputPreview, 40)} -> ${oneLine(run.outputPreview, 40)}`;
}

const runsList: Command = {
  name: 'runs list',
  summary: 'The runs in the store, newest first.',
  usage: 'emergent runs list [--kind K] [--status S] [--model ID] [--limit N] [--json]',
  options: {
    kind: { type: 'string', valueName: 'K', description: 'chat, completion, summarize, translate, compare, batch, perplexity or api.' },
    status: { type: 'string', valueName: 'S', description: 'running, done, cancelled, error or interrupted.' },
    model: { type: 'string', valueName: 'ID', description: 'Only runs on this model id.' },
    limit: { type: 'string', valueName: 'N', description: 'At most N runs (default 50, at most 500).' },
    ...JSON_OPTION,
    ...DATA_DIR_OPTION,
    ...HELP_OPTION,
  },
  async run(args) {
    const limit = integerOption(args, 'limit', 1, 500);
    return withCore(args, async ({ client }) => {
      const result = await client.tryCall('runs.list', {
        ...(stringOption(args, 'kind') === undefined ? {} : { kind: stringOption(args, 'kind') as RunSummary['kind'] }),
        ...(stringOption(args, 'status') === undefined ? {} : { status: stringOption(args, 'status') as RunSummary['status'] }),
        ...(stringOption(args, 'model') === undefined ? {} : { model: stringOption(args, 'model') ?? '' }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (!result.ok) throw EmergentError.fromValue(result.error);
      if (args.values['json'] === true) printJson(result.value);
      else if (result.value.items.length === 0) process.stdout.write('No runs.\n');
      else process.stdout.write(`${result.value.items.map(summaryLine).join('\n')}\n`);
      return 0;
    });
  },
};

const runsShow: Command = {
  name: 'runs show',
  summary: 'One run: its input, output, parameters and metrics.',
  usage: 'emergent runs show ID [--json]',
  options: { ...JSON_OPTION, ...DATA_DIR_OPTION, ...HELP_OPTION },
  async run(args) {
    const [id] = args.positionals;
    if (id === undefined) throw new EmergentError('INVALID_INPUT', 'Name the run: `emergent runs show ID`.');
    return withCore(args, async ({ client }) => {
      const run: RunRecord = await client.call('runs.get', { id });
      if (args.values['json'] === true) {
        printJson(run);
        return 0;
      }
      const lines = [
        `run ${run.id} (${run.kind}, ${run.status})`,
        `model: ${run.modelPath ?? run.modelId ?? 'unknown'}`,
        `created: ${when(run.createdAt)}${run.finishedAt === null ? '' : `, finished: ${when(run.finishedAt)}`}`,
        ...(run.error ? [`error ${run.error.code}: ${run.error.message}`] : []),
        `parameters: ${JSON.stringify(run.parameters)}`,
        ...(run.metrics ? [`metrics: ${JSON.stringify(run.metrics)}`] : []),
        '', '--- input ---', run.input, '', '--- output ---', run.output, '',
      ];
      process.stdout.write(lines.join('\n'));
      return 0;
    });
  },
};

export const runsCommand = commandGroup('runs', 'List and show the runs kept in the store.', [runsList, runsShow]);

function hitLine(hit: SearchHit): string {
  // Highlights shown as «word» in a terminal.
  let text = hit.snippet.text;
  for (const [start, end] of [...hit.snippet.highlights].reverse()) text = `${text.slice(0, start)}«${text.slice(start, end)}»${text.slice(end)}`;
  const where = hit.kind === 'message' ? `message in "${hit.conversationTitle}"` : hit.kind === 'run' ? `${hit.runKind} run` : `prompt "${hit.name}"`;
  return `${hit.kind}:${hit.id}  ${when(hit.date)}  ${where}\n    ${oneLine(text, 160)}`;
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'Full-text search over messages, runs and prompts.',
  usage: 'emergent search QUERY [--kind message|run|prompt] [--limit N] [--json]',
  options: {
    kind: { type: 'string', valueName: 'KIND', description: 'Only messages, runs or prompts.' },
    limit: { type: 'string', valueName: 'N', description: 'At most N results (default 30).' },
    ...JSON_OPTION,
    ...DATA_DIR_OPTION,
    ...HELP_OPTION,
  },
  async run(args) {
    const text = args.positionals.join(' ').trim();
    if (text === '') throw new EmergentError('INVALID_INPUT', 'Give words to search for: `emergent search QUERY`.');
    const kind = stringOption(args, 'kind');
    if (kind !== undefined && !['message', 'run', 'prompt'].includes(kind)) {
      throw new EmergentError('INVALID_INPUT', '--kind must be message, run or prompt.');
    }
    const limit = integerOption(args, 'limit', 1, 200);
    return withCore(args, async ({ client }) => {
      const query = {
        text,
        ...(kind === undefined ? {} : { kinds: [kind as 'message' | 'run' | 'prompt'] }),
        ...(limit === undefined ? {} : { limit }),
      };
      // Each search indexes a slice of runs still queued (after an import): a one-shot command
      // waits for all of them, so its answer is complete.
      let { hits, pendingRuns } = await client.call('search.query', query);
      if (pendingRuns > 0) process.stderr.write(`Indexing ${pendingRuns.toLocaleString('en')} runs first…\n`);
      for (let before = Infinity; pendingRuns > 0 && pendingRuns < before; ) {
        before = pendingRuns;
        ({ hits, pendingRuns } = await client.call('search.query', query));
      }
      if (args.values['json'] === true) printJson({ hits });
      else process.stdout.write(hits.length === 0 ? 'Nothing found.\n' : `${hits.map(hitLine).join('\n')}\n`);
      return 0;
    });
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write all data as one JSON archive (import it with `emergent import`).',
  usage: 'emergent export --out FILE',
  options: { out: { type: 'string', valueName: 'FILE', description: 'The archive to write.' }, ...DATA_DIR_OPTION, ...HELP_OPTION },
  async run(args) {
    const out = stringOption(args, 'out');
    if (out === undefined) throw new EmergentError('INVALID_INPUT', '--out FILE is required.');
    return withCore(args, async ({ client }) => {
      const { archive } = await client.call('data.export', {});
      const target = path.resolve(out);
      fs.writeFileSync(`${target}.partial`, `${JSON.stringify(archive)}\n`);
      fs.renameSync(`${target}.partial`, target);
      process.stdout.write(`Wrote ${target}\n`);
      return 0;
    });
  },
};

export const importCommand: Command = {
  name: 'import',
  summary: 'Import an archive written by `emergent export`; what is already there is skipped.',
  usage: 'emergent import FILE',
  options: { ...DATA_DIR_OPTION, ...HELP_OPTION },
  async run(args) {
    const [file] = args.positionals;
    if (file === undefined) throw new EmergentError('INVALID_INPUT', 'Name the archive: `emergent import FILE`.');
    let archive: unknown;
    try {
      archive = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new EmergentError('ARCHIVE_INVALID', `${file} is not a readable JSON archive (${err instanceof Error ? err.message : String(err)}). Nothing was imported.`);
    }
    return withCore(args, async ({ client }) => {
      const report = await client.call('data.import', { archive });
      const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
      process.stdout.write(`Imported ${total(report.inserted)} rows; ${total(report.skipped)} were already there.\n`);
      return 0;
    });
  },
};

export const backupCommand: Command = {
  name: 'backup',
  summary: 'Write a consistent copy of the database, also while Emergent is running.',
  usage: 'emergent backup --out FILE',
  options: { out: { type: 'string', valueName: 'FILE', description: 'The copy to write.' }, ...DATA_DIR_OPTION, ...HELP_OPTION },
  async run(args) {
    const out = stringOption(args, 'out');
    if (out === undefined) throw new EmergentError('INVALID_INPUT', '--out FILE is required.');
    return withCore(args, async ({ client }) => {
      const result = await client.call('data.backup', { path: out });
      process.stdout.write(`Wrote ${result.path} (${result.bytes} bytes)\n`);
      return 0;
    });
  },
};
