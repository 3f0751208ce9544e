/**
 * Coalesces a run's streamed text into events: at most one per interval (a frame, ~16 ms) or
 * per N tokens, never one message per token, so IPC and sockets stay cheap at 1,000 tok/s.
 */
import type { TokenProbability } from '../../common/contract.js';

export interface Delta {
  text: string;
  tokens?: TokenProbability[];
}

export class DeltaCoalescer {
  private text = '';
  private tokens: TokenProbability[] = [];
  private pendingTokens = 0;
  private timer: NodeJS.Timeout | null = null;
  private sentFirst = false;

  constructor(
    private readonly emit: (delta: Delta) => void,
    private readonly intervalMs = 16,
    private readonly maxTokens = 256,
  ) {}

  add(text: string, token?: TokenProbability): void {
    this.text += text;
    if (token) this.tokens.push(token);
    this.pendingTokens++;
    // The first text goes out at once: time to first token is what people feel.
    if ((!this.sentFirst && this.text !== '') || this.pendingTokens >= this.maxTokens) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.text === '' && this.tokens.length === 0) return;
    const delta: Delta = this.tokens.length > 0 ? { text: this.text, tokens: this.tokens } : { text: this.text };
    this.text = '';
    this.tokens = [];
    this.pendingTokens = 0;
    this.sentFirst = true;
    this.emit(delta);
  }
}
