/**
 * Keeps the run search index caught up in the background: after an import (or at start-up,
 * after a migration queued the whole history) it indexes queued runs in slices of about
 * 25 ms, yielding to the event loop between slices so calls and streams stay responsive.
 */
import type { SearchIndex } from './store/search.js';

/** Runs per slice: about 25 ms of FTS5 tokenizing for chat-sized runs on a slow core. */
const SLICE_RUNS = 500;

export class BackgroundIndexer {
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(
    private readonly search: SearchIndex,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Starts (or keeps) indexing until nothing is queued. Cheap to call often. */
  kick(): void {
    if (this.disposed || this.timer !== null) return;
    this.timer = setTimeout(() => this.slice(), 0);
    // Indexing never keeps a CLI command or a test process alive.
    this.timer.unref();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private slice(): void {
    this.timer = null;
    if (this.disposed) return;
    try {
      if (this.search.indexPending(SLICE_RUNS) > 0 && this.search.hasPending()) this.kick();
    } catch (error) {
      // A busy or full disk: what is not indexed stays pending, searches still catch up; the
      // next kick tries again.
      this.onError(error);
    }
  }
}
