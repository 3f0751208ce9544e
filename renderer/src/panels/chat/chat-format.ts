/**
 * The chat panel's pure pieces: words and numbers for people, the rows of the conversation list,
 * search snippets split into marked and plain runs, and the sampling form read from and written
 * to GenerationSettings. Nothing here touches the DOM or the client, so tests call it directly.
 */
import {
  DEFAULT_MAX_TOKENS,
  DEFAULT_SAMPLING,
  GenerationSettingsSchema,
  RunMetricsSchema,
  SamplingSchema,
  StopReasonSchema,
  type GenerationSettings,
  type MessageRun,
  type MethodOutput,
  type StopReason,
} from '../../../../electron/common/contract.js';

export type ConversationList = MethodOutput<'conversations.list'>;
export type ConversationSummary = ConversationList['pinned'][number];

export { DEFAULT_MAX_TOKENS };

const PERIOD_LABELS: Record<string, string> = {
  today: 'Today',
  yesterday: 'Yesterday',
  previous7Days: 'Previous 7 days',
  previous30Days: 'Previous 30 days',
};

const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' });

/** "Today", "Previous 7 days", or a month ("March 2025") for the core's `2025-03` periods. */
export function periodLabel(period: string): string {
  const known = PERIOD_LABELS[period];
  if (known) return known;
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  if (!month) return period;
  return monthFormat.format(new Date(Number(month[1]), Number(month[2]) - 1, 1));
}

export type ConversationRow =
  | { kind: 'group'; key: string; label: string }
  | { kind: 'conversation'; key: string; conversation: ConversationSummary };

/** The list flattened for one virtual list: a heading row before each group's conversations. */
export function conversationRows(list: ConversationList): ConversationRow[] {
  const rows: ConversationRow[] = [];
  const group = (key: string, label: string, conversations: readonly ConversationSummary[]) => {
    if (conversations.length === 0) return;
    rows.push({ kind: 'group', key: `group:${key}`, label });
    for (const conversation of conversations) rows.push({ kind: 'conversation', key: conversation.id, conversation });
  };
  group('pinned', 'Pinned', list.pinned);
  for (const { period, conversations } of list.periods) group(period, periodLabel(period), conversations);
  return rows;
}

export interface SnippetRun {
  text: string;
  marked: boolean;
}

/**
 * A search snippet as runs of plain and matched text, from the core's [start, end) offsets
 * (clamped to the text, sorted, overlaps merged), for <mark> elements rather than HTML.
 */
export function snippetRuns(text: string, highlights: readonly (readonly [number, number])[]): SnippetRun[] {
  const ranges = highlights
    .map(([start, end]) => [Math.max(0, Math.min(start, text.length)), Math.max(0, Math.min(end, text.length))] as const)
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  const runs: SnippetRun[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) runs.push({ text: text.slice(at, from), marked: false });
    const last = runs.at(-1);
    // Touching or overlapping ranges become one mark.
    if (last?.marked && from === at) last.text += text.slice(from, end);
    else runs.push({ text: text.slice(from, end), marked: true });
    at = end;
  }
  if (at < text.length) runs.push({ text: text.slice(at), marked: false });
  return runs;
}

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const rateFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function formatCount(value: number): string {
  return integerFormat.format(value);
}

/** "12.3 tok/s"; "≈ 12.3 tok/s" for a live estimate. */
export function formatRate(tokensPerSecond: number, estimate = false): string {
  return `${estimate ? '≈ ' : ''}${rateFormat.format(tokensPerSecond)} tok/s`;
}

/** "850 ms", "2.4 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${integerFormat.format(ms)} ms` : `${rateFormat.format(ms / 1000)} s`;
}

/** "4.1 GB", "120 MB", "512 KB": decimal units, as file managers show them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? integerFormat.format(value) : rateFormat.format(value)} ${units[unit]}`;
}

const STOP_REASON_LABELS: Record<StopReason, string> = {
  endOfText: 'End of text',
  maxTokens: 'Max tokens reached',
  stopSequence: 'Stop sequence',
  cancelled: 'Stopped',
  contextFull: 'Context full',
};

export function stopReasonLabel(reason: StopReason): string {
  return STOP_REASON_LABELS[reason];
}

/**
 * Where the last complete sentence in `text` ends, searching from `from`: after sentence
 * punctuation followed by white space, or a blank line. `from` when there is none yet.
 */
export function completedSentencesEnd(text: string, from: number): number {
  const pattern = /[.!?…。！？](?:["'”’)\]]*)\s|\n\s*\n/g;
  pattern.lastIndex = from;
  let end = from;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) end = match.index + match[0].length;
  return end;
}

/** Model markdown as words for a screen reader: markup characters dropped, white space folded. */
export function speakableText(markdown: string): string {
  return markdown
    .replace(/```[^\n]*\n?/g, ' ')
    .replace(/[*_`#>|~]+/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A first guess at a message's height on screen, before it is measured. */
export function estimateMessageHeight(content: string): number {
  const lines = content.split('\n').reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / 90)), 0);
  return 72 + lines * 22;
}

// ---- The sampling form ---------------------------------------------------------------------------

/** The numeric settings the drawer shows, in order; ranges come from the contract's schemas. */
export const NUMBER_SETTINGS = [
  { key: 'temperature', label: 'Temperature', step: 0.05, integer: false, hint: '0 always picks the likeliest token.' },
  { key: 'topK', label: 'Top-k', step: 1, integer: true, hint: 'Sample among the k likeliest tokens; 0 turns it off.' },
  { key: 'topP', label: 'Top-p', step: 0.01, integer: false, hint: 'Sample among the likeliest tokens whose probabilities add up to p.' },
  { key: 'minP', label: 'Min-p', step: 0.01, integer: false, hint: 'Drop tokens less likely than p times the likeliest one.' },
  { key: 'repeatPenalty', label: 'Repeat penalty', step: 0.05, integer: false, hint: '1 turns it off.' },
  { key: 'maxTokens', label: 'Max tokens', step: 1, integer: true, hint: 'The longest reply, in tokens.' },
] as const satisfies readonly { key: keyof GenerationSettings; label: string; step: number; integer: boolean; hint: string }[];

export type NumberSettingKey = (typeof NUMBER_SETTINGS)[number]['key'];

const MAX_TOKENS_SCHEMA = GenerationSettingsSchema.shape.maxTokens.unwrap();
const SEED_SCHEMA = SamplingSchema.shape.seed.unwrap();

/** The [min, max] the contract accepts for a numeric setting. */
export function settingRange(key: NumberSettingKey | 'seed'): { min: number; max: number } {
  const schema = key === 'maxTokens' ? MAX_TOKENS_SCHEMA : key === 'seed' ? SEED_SCHEMA : SamplingSchema.shape[key];
  return { min: schema.minValue ?? 0, max: schema.maxValue ?? Number.MAX_SAFE_INTEGER };
}

export const DEFAULT_SETTINGS = {
  temperature: DEFAULT_SAMPLING.temperature,
  topK: DEFAULT_SAMPLING.topK,
  topP: DEFAULT_SAMPLING.topP,
  minP: DEFAULT_SAMPLING.minP,
  repeatPenalty: DEFAULT_SAMPLING.repeatPenalty,
  seed: DEFAULT_SAMPLING.seed,
  maxTokens: DEFAULT_MAX_TOKENS,
  stop: [],
} as const satisfies GenerationSettings;

/** What the drawer's fields hold: text, as typed. */
export type SettingsForm = Record<NumberSettingKey | 'seed' | 'stop', string>;

/** A conversation's saved settings (a JSON object) read back; anything invalid is dropped. */
export function readSettings(saved: Record<string, unknown>): GenerationSettings {
  const parsed = GenerationSettingsSchema.safeParse(saved);
  if (parsed.success) return parsed.data;
  // Keep the settings that are valid on their own.
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(saved)) {
    if (GenerationSettingsSchema.safeParse({ [key]: value }).success) kept[key] = value;
  }
  return GenerationSettingsSchema.parse(kept);
}

/** The form for some settings: what is not set shows its default. */
export function settingsForm(settings: GenerationSettings): SettingsForm {
  const number = (key: NumberSettingKey) => String(settings[key] ?? DEFAULT_SETTINGS[key]);
  return {
    temperature: number('temperature'),
    topK: number('topK'),
    topP: number('topP'),
    minP: number('minP'),
    repeatPenalty: number('repeatPenalty'),
    maxTokens: number('maxTokens'),
    seed: settings.seed === undefined || settings.seed === null ? '' : String(settings.seed),
    stop: (settings.stop ?? []).join('\n'),
  };
}

export type SettingsFormResult =
  | { ok: true; settings: GenerationSettings }
  | { ok: false; errors: Partial<Record<keyof SettingsForm, string>> };

/**
 * The form as GenerationSettings, checked by the contract's own schema. `base` keeps settings the
 * form does not show (presence and frequency penalties ...).
 */
export function settingsFromForm(form: SettingsForm, base: GenerationSettings = {}): SettingsFormResult {
  const errors: Partial<Record<keyof SettingsForm, string>> = {};
  const shown = new Set<string>([...NUMBER_SETTINGS.map((setting) => setting.key), 'seed', 'stop']);
  const candidate: Record<string, unknown> = Object.fromEntries(Object.entries(base).filter(([key]) => !shown.has(key)));
  for (const { key } of NUMBER_SETTINGS) {
    const text = form[key].trim();
    // An empty field means the default.
    if (text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value)) errors[key] = 'Enter a number.';
    else candidate[key] = value;
  }
  const seedText = form.seed.trim();
  if (seedText === '') candidate['seed'] = null;
  else if (!/^\d+$/.test(seedText)) errors.seed = 'Enter a whole number, or leave it empty for a random seed.';
  else candidate['seed'] = Number(seedText);
  const stop = form.stop
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0);
  if (stop.length > 0) candidate['stop'] = stop;

  const parsed = GenerationSettingsSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (typeof field === 'string' && field in form && errors[field as keyof SettingsForm] === undefined) {
        errors[field as keyof SettingsForm] = issueMessage(field as keyof SettingsForm);
      }
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) {
    return { ok: false, errors: Object.keys(errors).length > 0 ? errors : { stop: 'These settings are not valid.' } };
  }
  return { ok: true, settings: parsed.data };
}

function issueMessage(field: keyof SettingsForm): string {
  if (field === 'stop') return 'At most 16 stop sequences, each at most 200 characters.';
  const { min, max } = settingRange(field);
  const integer = field === 'seed' || NUMBER_SETTINGS.some((setting) => setting.key === field && setting.integer);
  return `${integer ? 'A whole number' : 'A number'} from ${min} to ${max}${field === 'topP' ? ', above 0' : ''}.`;
}

/** Whether two settings objects say the same thing (key order and absent-vs-undefined aside). */
export function sameSettings(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (JSON.stringify(a[key] ?? null) !== JSON.stringify(b[key] ?? null)) return false;
  }
  return true;
}

// ---- A reply's run, for people -------------------------------------------------------------------

const StoredMetricsSchema = RunMetricsSchema.partial().extend({ stopReason: StopReasonSchema.optional() });
const StoredParametersSchema = GenerationSettingsSchema.partial()
  .omit({ stop: true })
  .extend({ sampling: SamplingSchema.partial().optional(), stop: GenerationSettingsSchema.shape.stop })
  .loose();

export interface RunFact {
  label: string;
  value: string;
}

/** The short line under a finished reply: "42.1 tok/s · 128 tokens · 0.21 s to first token". */
export function runSummary(run: MessageRun): string[] {
  const parsed = StoredMetricsSchema.safeParse(run.metrics ?? {});
  if (!parsed.success) return [];
  const metrics = parsed.data;
  const parts: string[] = [];
  if (metrics.tokensPerSecond != null) parts.push(formatRate(metrics.tokensPerSecond));
  if (metrics.generatedTokens) parts.push(`${formatCount(metrics.generatedTokens)} tokens`);
  if (metrics.timeToFirstTokenMs != null) parts.push(`${formatDuration(metrics.timeToFirstTokenMs)} to first token`);
  // The end of the text goes without saying, and a stopped reply has its badge.
  if (metrics.stopReason !== undefined && metrics.stopReason !== 'endOfText' && metrics.stopReason !== 'cancelled') {
    parts.push(stopReasonLabel(metrics.stopReason));
  }
  return parts;
}

/** Everything the Details of a reply show: model, settings and measurements. */
export function runFacts(run: MessageRun, modelName: string): RunFact[] {
  const facts: RunFact[] = [{ label: 'Model', value: modelName }];
  if (run.modelPath) facts.push({ label: 'File', value: run.modelPath });
  const metricsParsed = StoredMetricsSchema.safeParse(run.metrics ?? {});
  const metrics = metricsParsed.success ? metricsParsed.data : {};
  if (metrics.stopReason !== undefined) facts.push({ label: 'Stop reason', value: stopReasonLabel(metrics.stopReason) });
  if (metrics.timeToFirstTokenMs != null) facts.push({ label: 'Time to first token', value: formatDuration(metrics.timeToFirstTokenMs) });
  if (metrics.promptTokens !== undefined) {
    const reused = metrics.reusedPromptTokens ? ` (${formatCount(metrics.reusedPromptTokens)} reused)` : '';
    const rate = metrics.promptTokensPerSecond != null ? ` · ${formatRate(metrics.promptTokensPerSecond)}` : '';
    facts.push({ label: 'Prompt', value: `${formatCount(metrics.promptTokens)} tokens${reused}${rate}` });
  }
  if (metrics.generatedTokens !== undefined) {
    const rate = metrics.tokensPerSecond != null ? ` · ${formatRate(metrics.tokensPerSecond)}` : '';
    facts.push({ label: 'Generation', value: `${formatCount(metrics.generatedTokens)} tokens${rate}` });
  }
  if (metrics.totalMs !== undefined) facts.push({ label: 'Total time', value: formatDuration(metrics.totalMs) });
  if (metrics.loadMs) facts.push({ label: 'Model load', value: formatDuration(metrics.loadMs) });
  if (metrics.threads !== undefined) facts.push({ label: 'Threads', value: String(metrics.threads) });

  const parametersParsed = StoredParametersSchema.safeParse(run.parameters);
  if (parametersParsed.success) {
    const parameters = parametersParsed.data;
    const sampling = { ...parameters, ...parameters.sampling };
    const settings: string[] = [];
    if (sampling.temperature !== undefined) settings.push(`temperature ${sampling.temperature}`);
    if (sampling.topK !== undefined) settings.push(`top-k ${sampling.topK}`);
    if (sampling.topP !== undefined) settings.push(`top-p ${sampling.topP}`);
    if (sampling.minP !== undefined) settings.push(`min-p ${sampling.minP}`);
    if (sampling.repeatPenalty !== undefined) settings.push(`repeat penalty ${sampling.repeatPenalty}`);
    if (sampling.seed !== undefined) settings.push(`seed ${sampling.seed ?? 'random'}`);
    if (settings.length > 0) facts.push({ label: 'Sampling', value: settings.join(', ') });
    if (parameters.maxTokens !== undefined) facts.push({ label: 'Max tokens', value: formatCount(parameters.maxTokens) });
    if (parameters.stop && parameters.stop.length > 0) facts.push({ label: 'Stop sequences', value: parameters.stop.map((stop) => JSON.stringify(stop)).join(', ') });
  }
  if (run.error) facts.push({ label: 'Error', value: `${run.error.code}: ${run.error.message}` });
  return facts;
}
