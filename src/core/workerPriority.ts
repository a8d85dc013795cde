// Background threads (index workers, the tokenizer worker) run at a lower CPU
// priority than the extension host's own thread: on a machine with few cores
// they would otherwise take turns with it, and every turn they take is time the
// editor's event loop waits (bench:load on 2 cores: stalls stretched by half).
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value for background threads (0 normal, 19 lowest). */
const BACKGROUND_NICE = 10;

/**
 * Lowers the calling worker thread's priority. Linux only: there a thread has
 * its own nice value (found through /proc/thread-self); elsewhere the same call
 * would lower the whole process, the editor's thread included.
 */
export function lowerThisThreadPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, BACKGROUND_NICE);
  } catch {
    // No /proc, or not allowed: the thread keeps normal priority.
  }
}
