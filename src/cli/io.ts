// What CLI commands write to, injectable so tests capture output.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Progress lines go to stderr only when it is a terminal. */
  isTTY?: boolean;
}

/** Bad arguments: reported as one line, exit code 2. */
export class UsageError extends Error {}

/** The OS's per-user cache folder for our persisted indexes. */
export function defaultCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, 'context-budget');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'context-budget');
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'context-budget', 'Cache');
  return join(homedir(), '.cache', 'context-budget');
}
