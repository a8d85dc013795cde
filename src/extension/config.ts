// Reads and validates the `contextBudget.*` settings. Pure (takes a getter) so
// it is tested without VS Code. A bad value gets one message naming the setting
// and falls back to its default; nothing else is affected.
import { DEFAULT_SETTINGS, type EngineSettings } from '../core/engine';
import type { RankerDevice } from '../core/rank/ranker';

export interface ExtensionSettings {
  engine: EngineSettings;
  device: RankerDevice;
  userModelPath: string | undefined;
  exclude: string[];
  maxFileSizeKB: number;
  statusBar: { enabled: boolean; warnAt: number; errorAt: number };
}

export const DEFAULT_EXTENSION_BUDGET = 8192;

type Getter = (key: string) => unknown;

function num(get: Getter, key: string, def: number, min: number, max: number, errors: string[]): number {
  const v = get(key);
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    errors.push(`contextBudget.${key} must be a number between ${min} and ${max}; using ${def}`);
    return def;
  }
  return v;
}

function str(get: Getter, key: string, def: string, errors: string[]): string {
  const v = get(key);
  if (v === undefined || v === null || v === '') return def;
  if (typeof v !== 'string') {
    errors.push(`contextBudget.${key} must be a string; using '${def}'`);
    return def;
  }
  return v.trim();
}

/**
 * @param trusted  false in a restricted-mode workspace: settings that point at
 *                 files or define profiles are taken from user settings only
 *                 (the getter must already do that; we also drop the model path).
 */
export function readSettings(get: Getter, trusted: boolean): { settings: ExtensionSettings; errors: string[] } {
  const errors: string[] = [];
  let budget: number | 'model' = DEFAULT_EXTENSION_BUDGET;
  const rawBudget = get('budget');
  // Numeric strings get the same range as numbers ('0' or twenty digits are not budgets).
  const asNumber = typeof rawBudget === 'string' && /^\d+$/.test(rawBudget.trim()) ? Number(rawBudget) : rawBudget;
  if (rawBudget === 'model') budget = 'model';
  else if (typeof asNumber === 'number' && Number.isFinite(asNumber) && asNumber >= 1 && asNumber <= 10_000_000) budget = Math.floor(asNumber);
  else if (rawBudget !== undefined && rawBudget !== null) errors.push(`contextBudget.budget must be a positive number of tokens or 'model'; using ${DEFAULT_EXTENSION_BUDGET}`);

  const prefixShare = num(get, 'prefixShare', DEFAULT_SETTINGS.prefixShare, 0, 1, errors);
  let suffixShare = num(get, 'suffixShare', DEFAULT_SETTINGS.suffixShare, 0, 1, errors);
  if (prefixShare + suffixShare > 1) {
    errors.push('contextBudget.prefixShare + contextBudget.suffixShare exceed 1; the suffix share is reduced');
    suffixShare = 1 - prefixShare;
  }
  const format = str(get, 'promptFormat', 'markdown', errors);
  const device = str(get, 'ranker.device', 'auto', errors);
  const exclude = get('exclude');
  const userModelPath = str(get, 'ranker.userModelPath', '', errors);
  const settings: ExtensionSettings = {
    engine: {
      ...DEFAULT_SETTINGS,
      model: str(get, 'model', DEFAULT_SETTINGS.model, errors),
      hardware: str(get, 'hardware', DEFAULT_SETTINGS.hardware, errors),
      budget,
      reserveOutputTokens: Math.floor(num(get, 'reserveOutputTokens', DEFAULT_SETTINGS.reserveOutputTokens, 0, 10_000_000, errors)),
      prefixShare,
      suffixShare,
      stableShare: num(get, 'stableShare', DEFAULT_SETTINGS.stableShare, 0, 1, errors),
      format: format === 'xml' ? 'xml' : 'markdown',
      userModels: trusted ? get('models') : undefined,
      userHardware: trusted ? get('hardwareProfiles') : undefined,
    },
    device: device === 'gpu' || device === 'cpu' ? device : 'auto',
    userModelPath: trusted && userModelPath ? userModelPath : undefined,
    exclude: Array.isArray(exclude) ? exclude.filter((e): e is string => typeof e === 'string') : [],
    maxFileSizeKB: num(get, 'maxFileSizeKB', 1024, 1, 1_048_576, errors),
    statusBar: {
      enabled: get('statusBar.enabled') !== false,
      warnAt: num(get, 'statusBar.warnAt', 0.8, 0, 1, errors),
      errorAt: num(get, 'statusBar.errorAt', 1, 0, 100, errors),
    },
  };
  if (device !== 'auto' && device !== 'gpu' && device !== 'cpu') errors.push(`contextBudget.ranker.device must be auto, gpu or cpu; using auto`);
  if (Array.isArray(exclude) && exclude.some((e) => typeof e !== 'string')) errors.push('contextBudget.exclude must list strings; other entries are ignored');
  return { settings, errors };
}

/** `files.exclude` entries that are switched on, as gitignore-style globs. */
export function filesExcludeGlobs(filesExclude: unknown): string[] {
  if (!filesExclude || typeof filesExclude !== 'object') return [];
  return Object.entries(filesExclude as Record<string, unknown>)
    .filter(([, on]) => on === true)
    .map(([glob]) => glob);
}
