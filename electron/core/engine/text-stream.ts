/**
 * Turns generated tokens into text as it streams: holds back bytes of an unfinished UTF-8
 * character (byte-fallback tokens split multi-byte characters) and any tail that might be the
 * start of a stop sequence, so neither a broken character nor part of a stop string is ever
 * shown and then taken back.
 */
export type Detokenize = (tokens: readonly number[], context: readonly number[]) => string;

const REPLACEMENT = '\uFFFD';
/** A UTF-8 character is at most 4 bytes, so at most 4 byte tokens can be pending. */
const MAX_PENDING_TOKENS = 4;
const CONTEXT_TOKENS = 8;

export interface StreamStep {
  /** Text that is final and can be shown. */
  text: string;
  /** Set when a stop sequence was found: generation must stop; `text` ends before it. */
  stopped: boolean;
}

export class TokenTextStream {
  private pending: number[] = [];
  private readonly context: number[];
  private held = '';
  private done = false;

  constructor(
    private readonly detokenize: Detokenize,
    private readonly stopSequences: readonly string[],
    /** Tokens before the first generated one (the prompt's tail), for correct spacing. */
    precedingTokens: readonly number[] = [],
  ) {
    this.context = precedingTokens.slice(-CONTEXT_TOKENS);
  }

  push(token: number): StreamStep {
    if (this.done) return { text: '', stopped: true };
    this.pending.push(token);
    const decoded = this.detokenize(this.pending, this.context);
    if (decoded.endsWith(REPLACEMENT) && this.pending.length < MAX_PENDING_TOKENS) return { text: '', stopped: false };
    this.context.push(...this.pending);
    this.context.splice(0, Math.max(0, this.context.length - CONTEXT_TOKENS));
    this.pending = [];
    return this.accept(decoded);
  }

  /** At the end of generation: whatever was held back is final now. */
  flush(): string {
    if (this.done) return '';
    this.done = true;
    const rest = this.pending.length > 0 ? this.detokenize(this.pending, this.context) : '';
    this.pending = [];
    const text = this.held + rest;
    this.held = '';
    const cut = firstStopIndex(text, this.stopSequences);
    return cut === -1 ? text : text.slice(0, cut);
  }

  private accept(decoded: string): StreamStep {
    const text = this.held + decoded;
    const cut = firstStopIndex(text, this.stopSequences);
    if (cut !== -1) {
      this.done = true;
      this.held = '';
      return { text: text.slice(0, cut), stopped: true };
    }
    const keep = longestStopPrefixSuffix(text, this.stopSequences);
    this.held = text.slice(text.length - keep);
    return { text: text.slice(0, text.length - keep), stopped: false };
  }
}

function firstStopIndex(text: string, stops: readonly string[]): number {
  let first = -1;
  for (const stop of stops) {
    const index = text.indexOf(stop);
    if (index !== -1 && (first === -1 || index < first)) first = index;
  }
  return first;
}

/** Length of the longest end of `text` that is the beginning of some stop sequence. */
function longestStopPrefixSuffix(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}
