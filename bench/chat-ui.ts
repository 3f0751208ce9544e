/**
 * Chat panel benchmarks, in Debian's Chromium against a real `emergent serve`:
 *  1. opening a 5,000-message conversation (seeded into the store before the server starts),
 *     timed in the page from the click in the conversation list to the frame whose DOM holds
 *     the newest message, cold (just after a reload) and warm (re-opened in the same page);
 *  2. frames dropped while synthetic run.delta events arrive at 1,000 and 4,000 tok/s. The
 *     page's WebSocket is routed through Playwright: every message is forwarded, except that
 *     `chat.send` is answered here (no model runs) and the run's events are injected here, one
 *     delta every 16 ms, as the engine's coalescer sends them. Playwright's route delivers each
 *     message through a script in the page, a little more work per message than a bare socket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { CallMessageSchema, WEBSOCKET_PATH, type EventMessage, type ResultMessage } from '../electron/common/protocol.js';
import { methods, type EventName, type EventPayload, type MethodOutput } from '../electron/common/contract.js';
import { demoModelPath } from '../electron/core/models/demo-model.js';
import { Store } from '../electron/core/store/store.js';
import { launchChromium, serve, type Served } from '../test/helpers/browser.js';
import { median, type BenchRow, type BenchSection } from './report.js';
import { random } from './store.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const LONG_MESSAGES = 5000;
const LONG_TITLE = 'A long conversation (5,000 messages)';
const LONG_MARKER = `That was message ${LONG_MESSAGES.toLocaleString('en')} of ${LONG_MESSAGES.toLocaleString('en')}.`;
const SHORT_TITLE = 'A short conversation';
const SHORT_MARKER = 'The short conversation ends here.';
const STREAM_TITLE = 'Streaming';
const OPEN_TARGET_MS = 300;
/** What the engine's coalescer aims for: one run.delta per frame. */
const DELTA_INTERVAL_MS = 16;
const CHARS_PER_TOKEN = 4;
const STREAM_SECONDS = 5;

export interface ChatBenchOptions {
  repeats: number;
}

// ---- Text: markdown as a chat holds it, from a seeded generator --------------------------------

const WORDS = (
  'the a of to and in is it that for on with as this be are by from or at an which can you your we our will not ' +
  'function value model token context memory thread request response server client cache index query result error ' +
  'string number array object type interface module import export build test file path data store message reply ' +
  'stream event frame render list table column layout style state update change version release option setting ' +
  'default latency throughput batch sequence prompt template sample temperature probability vocabulary layer weight ' +
  'matrix vector tensor quantization precision kernel buffer queue worker process signal timeout retry fallback'
).split(' ');
const IDENTIFIERS = ['result', 'items', 'config', 'tokens', 'count', 'buffer', 'entry', 'options', 'total', 'cache'];
const CALLS = ['parse', 'render', 'load', 'fetchAll', 'normalize', 'merge', 'encode', 'split', 'validate', 'flush'];

class MarkdownText {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = random(seed);
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)] as T;
  }

  private between(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  sentence(): string {
    const words = Array.from({ length: this.between(6, 18) }, () => {
      const word = this.pick(WORDS);
      const roll = this.next();
      return roll < 0.04 ? `\`${word}\`` : roll < 0.07 ? `**${word}**` : word;
    });
    const text = words.join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}${this.next() < 0.15 ? '?' : '.'}`;
  }

  paragraph(): string {
    return Array.from({ length: this.between(2, 5) }, () => this.sentence()).join(' ');
  }

  list(): string {
    const ordered = this.next() < 0.4;
    return Array.from({ length: this.between(3, 6) }, (_, i) => `${ordered ? `${i + 1}.` : '-'} ${this.sentence()}`).join('\n');
  }

  code(): string {
    const language = this.pick(['ts', 'python', 'sh']);
    const lines = Array.from({ length: this.between(3, 12) }, () => {
      const name = this.pick(IDENTIFIERS);
      const call = this.pick(CALLS);
      if (language === 'python') return `${name} = ${call}(${this.pick(IDENTIFIERS)}, ${this.between(1, 512)})`;
      if (language === 'sh') return `npm run ${call} -- --${name} ${this.between(1, 64)}`;
      return `const ${name} = ${call}(${this.pick(IDENTIFIERS)}, ${this.between(1, 512)});`;
    });
    return `\`\`\`${language}\n${lines.join('\n')}\n\`\`\``;
  }

  /** A person's message: a sentence or a few, now and then with a snippet. */
  userMessage(): string {
    const text = Array.from({ length: this.between(1, 3) }, () => this.sentence()).join(' ');
    return this.next() < 0.1 ? `${text}\n\n${this.code()}` : text;
  }

  /** A reply: paragraphs, lists, code and now and then a heading, from a line to a few screens. */
  assistantMessage(): string {
    const blocks: string[] = [];
    const count = this.next() < 0.2 ? 1 : this.between(2, 8);
    for (let i = 0; i < count; i++) {
      const roll = this.next();
      if (roll < 0.5) blocks.push(this.paragraph());
      else if (roll < 0.72) blocks.push(this.list());
      else if (roll < 0.92) blocks.push(this.code());
      else blocks.push(`### ${this.sentence().replace(/[.?]$/u, '')}`);
    }
    return blocks.join('\n\n');
  }

  /** At least `length` characters of reply text, for the synthetic stream. */
  stream(length: number): string {
    let text = '';
    while (text.length < length) text += `${this.assistantMessage()}\n\n`;
    return text;
  }
}

// ---- The data dir ---------------------------------------------------------------------------------

interface Seeded {
  messageBytes: number;
  seedMs: number;
}

/** The three conversations, written before the server starts (it opens the same database). */
async function seed(dataDir: string): Promise<Seeded> {
  const text = new MarkdownText(7);
  const started = performance.now();
  const store = await Store.open(dataDir);
  let messageBytes = 0;
  try {
    const add = (conversationId: string, count: number, last: string) => {
      let parentId: string | null = null;
      for (let i = 0; i < count; i++) {
        const role = i % 2 === 0 ? 'user' : 'assistant';
        let content = role === 'user' ? text.userMessage() : text.assistantMessage();
        if (i === count - 1) content += `\n\n${last}`;
        messageBytes += Buffer.byteLength(content);
        parentId = store.conversations.addMessage({ conversationId, parentId, role, content, modelId: role === 'assistant' ? 'bench-model' : null }).id;
      }
    };
    store.transaction(() => add(store.conversations.create({ title: LONG_TITLE }).id, LONG_MESSAGES, LONG_MARKER));
    store.transaction(() => {
      add(store.conversations.create({ title: SHORT_TITLE }).id, 6, SHORT_MARKER);
      // A model path, or the composer asks for a model before it sends (the file is never loaded).
      add(store.conversations.create({ title: STREAM_TITLE, modelPath: demoModelPath() }).id, 20, 'Ready to stream.');
    });
  } finally {
    store.close();
  }
  return { messageBytes, seedMs: performance.now() - started };
}

// ---- 1. Opening a conversation ----------------------------------------------------------------------

interface Opened {
  /** From the click to the frame whose DOM holds the newest message. */
  ms: number;
  /** The panel's own `emergent:chat-open` measure, when it recorded one. */
  panelMs: number | null;
}

/**
 * Clicks a conversation in the list and times, in the page, until the frame in which the newest
 * message's text is in the DOM (requestAnimationFrame callbacks run just before the frame paints).
 */
function openConversation(page: Page, title: string, marker: string): Promise<Opened> {
  return page.evaluate(
    async ({ title, marker }) => {
      const button = document.querySelector<HTMLButtonElement>(`nav[aria-label="Conversations"] button.open[title="${title}"]`);
      if (!button) throw new Error(`No conversation titled “${title}” in the list.`);
      const shown = () => {
        const articles = document.querySelectorAll('article.message');
        for (let i = articles.length - 1; i >= Math.max(0, articles.length - 3); i--) {
          if ((articles[i]?.textContent ?? '').includes(marker)) return true;
        }
        return false;
      };
      performance.clearMeasures('emergent:chat-open');
      const started = performance.now();
      button.click();
      const ms = await new Promise<number>((resolve, reject) => {
        const poll = () => {
          const now = performance.now();
          if (shown()) resolve(now - started);
          else if (now - started > 60_000) reject(new Error(`“${title}” did not show its newest message within 60 s.`));
          else requestAnimationFrame(poll);
        };
        requestAnimationFrame(poll);
      });
      // The panel measures in a frame after it has the path: give it two more.
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      const measure = performance.getEntriesByName('emergent:chat-open', 'measure').at(-1);
      return { ms, panelMs: measure?.duration ?? null };
    },
    { title, marker },
  );
}

/** After a reload: the list is drawn and the remembered conversation is open and shown. */
async function waitUntilOpen(page: Page, title: string, marker: string): Promise<void> {
  await page.waitForFunction(
    ({ title, marker }) => {
      const button = document.querySelector(`nav[aria-label="Conversations"] button.open[title="${title}"]`);
      return button?.getAttribute('aria-current') === 'page' && Array.from(document.querySelectorAll('article.message')).some((article) => (article.textContent ?? '').includes(marker));
    },
    { title, marker },
    { timeout: 60_000, polling: 'raf' },
  );
  // Let the start-up calls that follow an open (context meter, models) settle.
  await page.waitForTimeout(500);
}

async function benchOpen(browser: Browser, address: string, repeats: number): Promise<{ cold: Opened[]; warm: Opened[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(address);
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await page.locator(`nav[aria-label="Conversations"] button.open[title="${SHORT_TITLE}"]`).waitFor();
    // The short conversation is the one remembered, so a reload opens it and not the long one.
    await openConversation(page, SHORT_TITLE, SHORT_MARKER);
    const cold: Opened[] = [];
    const warm: Opened[] = [];
    for (let i = 0; i < repeats; i++) {
      await page.reload();
      await waitUntilOpen(page, SHORT_TITLE, SHORT_MARKER);
      cold.push(await openConversation(page, LONG_TITLE, LONG_MARKER));
      await page.waitForTimeout(300);
      await openConversation(page, SHORT_TITLE, SHORT_MARKER);
      await page.waitForTimeout(300);
      warm.push(await openConversation(page, LONG_TITLE, LONG_MARKER));
      await page.waitForTimeout(300);
      await openConversation(page, SHORT_TITLE, SHORT_MARKER);
    }
    return { cold, warm };
  } finally {
    await context.close();
  }
}

// ---- 2. Streaming --------------------------------------------------------------------------------

/** Sits between the page and the server: forwards everything but `chat.send`, which it answers. */
class SyntheticRuns {
  private socket: WebSocketRoute | null = null;
  private turns = 0;
  private waiting: ((turn: MethodOutput<'chat.send'>) => void) | null = null;

  async attach(page: Page): Promise<void> {
    await page.routeWebSocket(
      (url) => url.pathname === WEBSOCKET_PATH,
      (socket) => {
        const server = socket.connectToServer();
        this.socket = socket;
        socket.onMessage((message) => {
          if (!this.answer(typeof message === 'string' ? message : message.toString('utf8'))) server.send(message);
        });
        server.onMessage((message) => socket.send(message));
      },
    );
  }

  /** The next `chat.send` the page makes, as answered. */
  nextTurn(): Promise<MethodOutput<'chat.send'>> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    if (!this.socket) throw new Error('The page has no WebSocket to send events to.');
    const message: EventMessage = { type: 'event', event, payload };
    this.socket.send(JSON.stringify(message));
  }

  private answer(text: string): boolean {
    const call = CallMessageSchema.safeParse(JSON.parse(text));
    if (!call.success || call.data.method !== 'chat.send' || !this.socket) return false;
    const input = methods['chat.send'].input.parse(call.data.input);
    const n = ++this.turns;
    const now = Date.now();
    const base = { conversationId: input.conversationId, modelId: null, createdAt: now };
    const userMessage = { ...base, id: `synthetic-user-${n}`, parentId: input.parentId ?? null, role: 'user' as const, content: input.content };
    const assistantMessage = { ...base, id: `synthetic-reply-${n}`, parentId: userMessage.id, role: 'assistant' as const, content: '', modelId: 'synthetic' };
    // Checked against the contract, as the page's client would receive it from the core.
    const turn = methods['chat.send'].output.parse({ userMessage, assistantMessage, runId: `synthetic-run-${n}`, modelId: 'synthetic', droppedMessages: 0 });
    const result: ResultMessage = { type: 'result', id: call.data.id, result: { ok: true, value: turn } };
    this.socket.send(JSON.stringify(result));
    this.waiting?.(turn);
    this.waiting = null;
    return true;
  }
}

interface Frames {
  times: number[];
  longTasks: number[];
}

/** A requestAnimationFrame loop and a long-task observer in the page, until `stopFrames`. */
function startFrames(page: Page): Promise<void> {
  return page.evaluate(() => {
    const record: Frames & { running: boolean; observer: PerformanceObserver | null } = { times: [], longTasks: [], running: true, observer: null };
    const frame = (time: number) => {
      if (!record.running) return;
      record.times.push(time);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    if (PerformanceObserver.supportedEntryTypes.includes('longtask')) {
      record.observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) record.longTasks.push(entry.duration);
      });
      record.observer.observe({ type: 'longtask' });
    }
    Object.assign(window, { emergentBenchFrames: record });
  });
}

function stopFrames(page: Page): Promise<Frames & { longTasksObserved: boolean }> {
  return page.evaluate(() => {
    const record = (window as unknown as { emergentBenchFrames: Frames & { running: boolean; observer: PerformanceObserver | null } }).emergentBenchFrames;
    record.running = false;
    record.observer?.disconnect();
    return { times: record.times, longTasks: record.longTasks, longTasksObserved: record.observer !== null };
  });
}

interface Streamed {
  tokensPerSecond: number;
  /** Deltas sent and the rate they were actually sent at (Node's timers are not exact). */
  deltas: number;
  sentTokensPerSecond: number;
  frames: number;
  dropped: number;
  /** Frames missed in all: a 50 ms interval at 16.7 ms frames is two. */
  missed: number;
  medianFrameMs: number;
  longestFrameMs: number;
  longTasks: number;
  longestTaskMs: number;
  longTasksObserved: boolean;
  /** What the reply's live counter said at the end ("≈ 5,000 tokens"). */
  liveStats: string;
}

const sleepUntil = (time: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, time - performance.now())));

/** Sends a message from the composer and streams a synthetic reply to it at `tokensPerSecond`. */
async function streamReply(page: Page, runs: SyntheticRuns, text: string, tokensPerSecond: number, seconds: number): Promise<Streamed> {
  const chunk = Math.round((tokensPerSecond * DELTA_INTERVAL_MS * CHARS_PER_TOKEN) / 1000);
  const count = Math.round((seconds * 1000) / DELTA_INTERVAL_MS);
  const body = text.slice(0, chunk * count);
  const turnAnswered = runs.nextTurn();
  const composer = page.getByRole('textbox', { name: 'Message', exact: true });
  await composer.fill(`Write ${seconds} seconds of text at ${tokensPerSecond} tokens per second.`);
  await composer.press('Enter');
  const { runId } = await turnAnswered;
  await page.locator('article.message[aria-busy="true"]').waitFor();
  await page.waitForTimeout(300);

  await startFrames(page);
  const started = performance.now();
  let lastSentAt = started;
  for (let i = 0; i < count; i++) {
    await sleepUntil(started + i * DELTA_INTERVAL_MS);
    runs.emit('run.delta', { runId, text: body.slice(i * chunk, (i + 1) * chunk) });
    lastSentAt = performance.now();
  }
  await page.waitForTimeout(100);
  const frames = await stopFrames(page);
  const liveStats = await page.locator('article.message[aria-busy="true"] .live-stats').innerText();
  const generatedTokens = Math.round(body.length / CHARS_PER_TOKEN);
  const totalMs = lastSentAt - started;
  runs.emit('run.done', {
    runId,
    text: body,
    stopReason: 'maxTokens',
    metrics: {
      loadMs: 0,
      timeToFirstTokenMs: 0,
      promptTokens: 0,
      reusedPromptTokens: 0,
      promptTokensPerSecond: null,
      generatedTokens,
      tokensPerSecond: generatedTokens / (totalMs / 1000),
      totalMs,
      threads: 1,
    },
  });
  // The reply is finished and the page reads the conversation back from the store.
  await page.locator('article.message[aria-busy="true"]').waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Send', exact: true }).waitFor();
  await page.waitForTimeout(500);

  return {
    tokensPerSecond,
    deltas: count,
    sentTokensPerSecond: (count - 1) * (chunk / CHARS_PER_TOKEN) / (totalMs / 1000),
    ...frameStats(frames),
    liveStats,
  };
}

type FrameStats = Pick<Streamed, 'frames' | 'dropped' | 'missed' | 'medianFrameMs' | 'longestFrameMs' | 'longTasks' | 'longestTaskMs' | 'longTasksObserved'>;

/** A frame is late when its interval exceeds 1.5x the median one. */
function frameStats(frames: Frames & { longTasksObserved: boolean }): FrameStats {
  const intervals = frames.times.slice(1).map((time, i) => time - (frames.times[i] ?? time));
  const typical = median(intervals);
  const late = intervals.filter((interval) => interval > 1.5 * typical);
  return {
    frames: intervals.length,
    dropped: late.length,
    missed: late.reduce((sum, interval) => sum + Math.max(1, Math.round(interval / typical) - 1), 0),
    medianFrameMs: typical,
    longestFrameMs: Math.max(0, ...intervals),
    longTasks: frames.longTasks.length,
    longestTaskMs: Math.max(0, ...frames.longTasks),
    longTasksObserved: frames.longTasksObserved,
  };
}

/**
 * The same page doing nothing for as long: headless Chromium renders in software on a shared
 * 2-core machine and misses some frames on its own; the streaming rows are read against this.
 */
async function idleFrames(page: Page, seconds: number): Promise<FrameStats> {
  await startFrames(page);
  await page.waitForTimeout(seconds * 1000);
  return frameStats(await stopFrames(page));
}

async function benchStreaming(browser: Browser, address: string): Promise<{ idle: FrameStats; streamed: Streamed[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const runs = new SyntheticRuns();
    await runs.attach(page);
    await page.goto(address);
    await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
    await page.locator(`nav[aria-label="Conversations"] button.open[title="${STREAM_TITLE}"]`).waitFor();
    await openConversation(page, STREAM_TITLE, 'Ready to stream.');
    const text = new MarkdownText(11).stream(4000 * STREAM_SECONDS * CHARS_PER_TOKEN + 4096);
    // A short unmeasured reply first, so the measured ones do not pay for the first compile.
    await streamReply(page, runs, text, 1000, 1);
    const idle = await idleFrames(page, STREAM_SECONDS);
    const streamed: Streamed[] = [];
    for (const tokensPerSecond of [1000, 4000]) streamed.push(await streamReply(page, runs, text, tokensPerSecond, STREAM_SECONDS));
    return { idle, streamed };
  } finally {
    await context.close();
  }
}

// ---- The section ------------------------------------------------------------------------------------

function openRow(label: string, opened: readonly Opened[]): BenchRow {
  const times = opened.map((open) => open.ms);
  const panel = opened.flatMap((open) => (open.panelMs === null ? [] : [open.panelMs]));
  const worst = Math.max(...times);
  return {
    metric: `open the ${LONG_MESSAGES.toLocaleString('en')}-message conversation, ${label}, ms (median of ${times.length})`,
    app: median(times),
    target: `≤ ${OPEN_TARGET_MS} ms`,
    extra:
      `worst ${worst.toFixed(0)} ms${worst > OPEN_TARGET_MS ? ' (over target)' : ''}; ` +
      `panel's emergent:chat-open ${panel.length > 0 ? `median ${median(panel).toFixed(0)} ms, worst ${Math.max(...panel).toFixed(0)} ms` : 'not recorded'}; ` +
      `all: ${times.map((time) => time.toFixed(0)).join(', ')} ms`,
  };
}

function streamRow(streamed: Streamed, idle: FrameStats): BenchRow {
  const longTasks = !streamed.longTasksObserved
    ? 'long tasks not observable here'
    : streamed.longTasks === 0
      ? 'no long tasks'
      : `${streamed.longTasks} long task(s), longest ${streamed.longestTaskMs.toFixed(0)} ms`;
  return {
    metric: `frames dropped streaming ${streamed.tokensPerSecond.toLocaleString('en')} tok/s for ${STREAM_SECONDS} s`,
    app: streamed.dropped,
    // The reference: the same page idle for as long (what the machine drops by itself).
    bare: idle.dropped,
    target: 'no dropped frames',
    extra:
      `reference: the page idle for ${STREAM_SECONDS} s (${idle.dropped}/${idle.frames} late, longest ${idle.longestFrameMs.toFixed(1)} ms); ` +
      `${streamed.dropped}/${streamed.frames} frames late (≈ ${streamed.missed} missed); longest frame ${streamed.longestFrameMs.toFixed(1)} ms, ` +
      `median ${streamed.medianFrameMs.toFixed(1)} ms; ${longTasks}; ${streamed.deltas} deltas sent at ${streamed.sentTokensPerSecond.toFixed(0)} tok/s; ` +
      `reply counter at the end: "${streamed.liveStats}"`,
  };
}

/** Why the Chat panel bench cannot run here, or null when it can. */
export function chatBenchUnavailable(): string | null {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html'))) {
    return 'The Chat panel bench needs the built renderer, and dist/renderer is missing: run `npm run build` first.';
  }
  return null;
}

export async function benchChatPanel(options: ChatBenchOptions): Promise<BenchSection[]> {
  const unavailable = chatBenchUnavailable();
  if (unavailable !== null) throw new Error(unavailable);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emergent-chat-bench-'));
  let served: Served | null = null;
  let browser: Browser | null = null;
  try {
    // Other work on the machine shows up as late frames: say how busy it was.
    const loadAverage = os.loadavg()[0] ?? 0;
    const seeded = await seed(dataDir);
    served = await serve(dataDir);
    browser = await launchChromium();
    const opened = await benchOpen(browser, served.address, options.repeats);
    const { idle, streamed } = await benchStreaming(browser, served.address);
    return [
      {
        title: 'Chat panel: a long conversation and a fast stream',
        note:
          `headless Chromium ${browser.version()} (software rendering), 1280x800, against emergent serve on a temp data dir; ` +
          `${LONG_MESSAGES.toLocaleString('en')} messages of markdown (${(seeded.messageBytes / 1024 ** 2).toFixed(1)} MB, seeded in ${(seeded.seedMs / 1000).toFixed(1)} s) ` +
          'opened by a click in the list, timed in the page to the frame that holds the newest message; cold = first open after a reload, ' +
          'warm = re-opened after another conversation. Streams: synthetic run.delta events (no model), one per 16 ms, through a routed WebSocket; ' +
          `a frame is dropped when its interval exceeds 1.5x the median; load average ${loadAverage.toFixed(1)} at the start`,
        rows: [openRow('cold', opened.cold), openRow('warm', opened.warm), ...streamed.map((row) => streamRow(row, idle))],
      },
    ];
  } finally {
    await browser?.close();
    const code = await served?.stop();
    if (served && code !== 0) process.stderr.write(`emergent serve exited with ${code}:\n${served.stderr()}\n`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
