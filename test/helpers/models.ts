import path from 'node:path';
import type { ContractClient } from '../../electron/common/client.js';
import type { EventPayload, RunStart } from '../../electron/common/contract.js';
import { buildBigramModel } from '../../electron/core/models/bigram-model.js';
import { writeGguf } from '../../electron/core/models/gguf-writer.js';
import { tempDir } from './service.js';

/** Writes the bigram model of `corpus` into a temp dir and returns its path. */
export async function writeBigramModel(corpus: string, name = 'test-bigram', contextLength?: number): Promise<string> {
  const file = path.join(tempDir('emergent-model-'), `${name}.gguf`);
  await writeGguf(file, buildBigramModel(corpus, { name, ...(contextLength === undefined ? {} : { contextLength }) }));
  return file;
}

export interface RunOutcome {
  runId: string;
  deltas: EventPayload<'run.delta'>[];
  done: EventPayload<'run.done'> | null;
  error: EventPayload<'run.error'> | null;
  /** The concatenated delta text, which must equal done.text. */
  streamed: string;
}

/** Starts a run and resolves when its run.done or run.error arrives. */
export async function runToEnd(
  client: ContractClient,
  request: RunStart,
  onDelta?: (delta: EventPayload<'run.delta'>, runId: string) => void,
): Promise<RunOutcome> {
  const outcome: RunOutcome = { runId: '', deltas: [], done: null, error: null, streamed: '' };
  const early: { kind: 'delta' | 'done' | 'error'; payload: unknown }[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const accept = (kind: 'delta' | 'done' | 'error', payload: EventPayload<'run.delta'> | EventPayload<'run.done'> | EventPayload<'run.error'>) => {
    if (outcome.runId === '') {
      early.push({ kind, payload });
      return;
    }
    if (payload.runId !== outcome.runId) return;
    if (kind === 'delta') {
      const delta = payload as EventPayload<'run.delta'>;
      outcome.deltas.push(delta);
      outcome.streamed += delta.text;
      onDelta?.(delta, outcome.runId);
    } else if (kind === 'done') {
      outcome.done = payload as EventPayload<'run.done'>;
      finish();
    } else {
      outcome.error = payload as EventPayload<'run.error'>;
      finish();
    }
  };
  const stops = [
    client.on('run.delta', (payload) => accept('delta', payload)),
    client.on('run.done', (payload) => accept('done', payload)),
    client.on('run.error', (payload) => accept('error', payload)),
  ];
  try {
    const { runId } = await client.call('runs.start', request);
    outcome.runId = runId;
    for (const event of early.splice(0)) accept(event.kind, event.payload as EventPayload<'run.delta'>);
    await finished;
    return outcome;
  } finally {
    for (const stop of stops) stop();
  }
}

/** Greedy decoding with no penalties: what the bigram oracle predicts. */
export const GREEDY = { temperature: 0, repeatPenalty: 1 } as const;
