// Messages between the extension host and the engine process: a start, then
// calls that name one of EngineClient's methods; replies, progress, settled
// rebuilds and log lines come back. Only plain data crosses (the IPC channel's
// 'advanced' serialization: structured clone).
import type { EngineOptions } from '../core/engine';
import type { IndexProgress } from '../core/index/workspaceIndex';
import type { EngineClient } from './engineSession';

/** Methods that take no signal, callback or promise: their arguments and results cross as they are. */
export type PlainMethod = Exclude<keyof EngineClient, 'refresh' | 'compute'>;

export interface EngineStart {
  /** Everything but `log`, which comes back as messages. */
  options: Omit<EngineOptions, 'log'>;
  /** The engine process's nice value (os.setPriority); unset keeps the host's. */
  priority?: number;
}

export interface EngineCall {
  id: number;
  method: PlainMethod | 'refresh' | 'compute';
  args: unknown[];
}

export type HostToEngine =
  /** The first message: opens the engine. */
  | { start: EngineStart }
  | EngineCall
  /** Aborts call `cancel` (a refresh or a compute). */
  | { cancel: number }
  /** Fault injection for tests: the engine process exits at once. */
  | { crash: true };

export type EngineToHost =
  | { opened: true }
  | { openFailed: string }
  | { id: number; ok: unknown; behind?: true }
  | { id: number; error: string }
  | { id: number; progress: IndexProgress }
  /** The rebuilds that compute call `settled` was ranked without are in place. */
  | { settled: number }
  | { log: string };
