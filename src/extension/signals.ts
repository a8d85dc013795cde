// Tracks what the user is looking at — the signals assistants rank by: open tabs
// in most-recently-used order, recently edited files and recently viewed files.
// Pure bookkeeping; the controller feeds it editor events.

const MAX_RECENT = 20;

function touch(list: string[], item: string): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
  list.unshift(item);
  if (list.length > MAX_RECENT) list.length = MAX_RECENT;
}

export class SignalTracker {
  private readonly views: string[] = [];
  private readonly edits: string[] = [];
  private openTabs: string[] = [];

  viewed(path: string): void {
    touch(this.views, path);
  }

  edited(path: string): void {
    touch(this.edits, path);
  }

  /** The currently open tabs; ordered by when they were last viewed (MRU), unseen ones last. */
  setOpenTabs(paths: string[]): void {
    const rank = (p: string) => {
      const i = this.views.indexOf(p);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    this.openTabs = [...new Set(paths)].sort((a, b) => rank(a) - rank(b));
  }

  renamed(from: string, to: string): void {
    for (const list of [this.views, this.edits, this.openTabs]) {
      const i = list.indexOf(from);
      if (i >= 0) list[i] = to;
    }
  }

  removed(path: string): void {
    for (const list of [this.views, this.edits, this.openTabs]) {
      const i = list.indexOf(path);
      if (i >= 0) list.splice(i, 1);
    }
  }

  snapshot(): { openTabs: string[]; recentEdits: string[]; recentViews: string[] } {
    return { openTabs: [...this.openTabs], recentEdits: [...this.edits], recentViews: [...this.views] };
  }
}
