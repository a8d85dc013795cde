// Only the newest computation may show: each start aborts the one before it and
// hands out a ticket; a result whose ticket is no longer current is dropped.
// Pure (no VS Code) so that rapid cursor moves can be tested without an editor.

export interface RunTicket {
  readonly signal: AbortSignal;
  /** True while no newer run has started. */
  isCurrent(): boolean;
}

export class LatestRun {
  private generation = 0;
  private inflight: AbortController | undefined;

  /** Starts a run: the previous one is aborted and its ticket stops being current. */
  begin(): RunTicket {
    const gen = ++this.generation;
    this.inflight?.abort();
    const abort = new AbortController();
    this.inflight = abort;
    return { signal: abort.signal, isCurrent: () => gen === this.generation };
  }

  /** Aborts the run in flight (dispose). */
  cancel(): void {
    this.inflight?.abort();
  }
}

/**
 * A result that was shown while a better one was on its way (a readout ranked
 * from the previous index during a rebuild) is asked for again once it can be:
 * `again` runs when the shown result's `behind` settles, unless a newer result
 * was shown meanwhile.
 */
export class AskAgain {
  private waiting: Promise<void> | undefined;

  constructor(private readonly again: () => void) {}

  /** Records the shown result's `behind` (undefined: it is current, nothing to wait for). */
  shown(behind: Promise<void> | undefined): void {
    this.waiting = behind;
    void behind?.then(() => {
      if (this.waiting !== behind) return;
      this.waiting = undefined;
      this.again();
    });
  }

  cancel(): void {
    this.waiting = undefined;
  }
}
