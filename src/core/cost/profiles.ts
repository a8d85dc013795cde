// Model and hardware profiles: the built-in data files plus the user's own
// entries from the settings `contextBudget.models` / `contextBudget.hardware`.
// User entries are validated one by one; a malformed entry is skipped with an
// error that names the entry and the field, and everything else keeps working.
// A user entry whose id matches a built-in overrides it field by field (nested
// `architecture`, `price`, `sources` objects merge one level deep).
import type { AttentionPattern, HardwareProfile, ModelArchitecture, ModelPrice, ModelProfile } from './types';
import modelsData from './models.json';
import hardwareData from './hardware.json';

export const DEFAULT_MODEL_ID = 'gpt-4o';
export const DEFAULT_HARDWARE_ID = 'h100-sxm';
export const THIS_CPU_ID = 'this-cpu';

export interface Profiles {
  models: Map<string, ModelProfile>;
  hardware: Map<string, HardwareProfile>;
  /** One line per problem in the user's entries, naming the entry and the field. */
  errors: string[];
}

export interface LoadProfilesOptions {
  /** A measured `this-cpu` profile (from probeCpu) that replaces the placeholder. */
  thisCpu?: HardwareProfile;
}

const ID_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** Thrown inside a validator; caught per entry. */
class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 40 ? `${s.slice(0, 37)}...` : s;
  } catch {
    return String(v);
  }
}

function num(o: Obj, key: string, path: string, opts: { integer?: boolean; min?: number; minExclusive?: number; max?: number }): number {
  const v = o[key];
  const field = path + key;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(field, `must be a number (got ${show(v)})`);
  if (opts.integer && !Number.isInteger(v)) throw new FieldError(field, `must be an integer (got ${show(v)})`);
  if (opts.minExclusive !== undefined && !(v > opts.minExclusive)) throw new FieldError(field, `must be greater than ${opts.minExclusive} (got ${v})`);
  if (opts.min !== undefined && v < opts.min) throw new FieldError(field, `must be at least ${opts.min} (got ${v})`);
  if (opts.max !== undefined && v > opts.max) throw new FieldError(field, `must be at most ${opts.max} (got ${v})`);
  return v;
}

const posInt = { integer: true, min: 1 } as const;
const positive = { minExclusive: 0 } as const;
const nonNeg = { min: 0 } as const;

function optNum(o: Obj, key: string, path: string, opts: Parameters<typeof num>[3]): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, path, opts);
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') throw new FieldError(path + key, `must be a non-empty string (got ${show(v)})`);
  return v;
}

function stringRecord(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw new FieldError(field, `must be an object of strings (got ${show(v)})`);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new FieldError(`${field}.${k}`, `must be a string (got ${show(s)})`);
    out[k] = s;
  }
  return out;
}

function stringList(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new FieldError(field, `must be an array of strings (got ${show(v)})`);
  return v as string[];
}

function validateId(o: Obj): string {
  const id = o.id;
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw new FieldError('id', `must be lowercase letters, digits, '.', '_' or '-' (got ${show(id)})`);
  }
  return id;
}

export function validatePattern(v: unknown, field = 'pattern'): AttentionPattern {
  if (!isObj(v)) throw new FieldError(field, `must be an object with a kind (got ${show(v)})`);
  const p = `${field}.`;
  switch (v.kind) {
    case 'dense':
      return { kind: 'dense' };
    case 'sliding':
      return { kind: 'sliding', window: num(v, 'window', p, posInt) };
    case 'local-global': {
      const window = num(v, 'window', p, posInt);
      const localLayers = num(v, 'localLayers', p, { integer: true, min: 0 });
      const globalLayers = num(v, 'globalLayers', p, { integer: true, min: 0 });
      if (localLayers + globalLayers === 0) throw new FieldError(`${p}localLayers`, 'localLayers + globalLayers must be at least 1');
      return { kind: 'local-global', window, localLayers, globalLayers };
    }
    default:
      throw new FieldError(`${p}kind`, `must be "dense", "sliding" or "local-global" (got ${show(v.kind)})`);
  }
}

const ARCH_FIELDS = new Set(['layers', 'hiddenSize', 'attentionHeads', 'kvHeads', 'headDim', 'vHeadDim', 'kvCacheElementsPerLayer', 'totalParams', 'activeParams', 'bytesPerParam', 'kvBytesPerElement', 'pattern', 'experts']);

function validateArchitecture(v: unknown): ModelArchitecture | null {
  if (v === null) return null;
  if (!isObj(v)) throw new FieldError('architecture', `must be an object, or null when the architecture is not public (got ${show(v)})`);
  const p = 'architecture.';
  for (const k of Object.keys(v)) if (!ARCH_FIELDS.has(k)) throw new FieldError(p + k, 'is not a known architecture field');
  const arch: ModelArchitecture = {
    layers: num(v, 'layers', p, posInt),
    hiddenSize: num(v, 'hiddenSize', p, posInt),
    attentionHeads: num(v, 'attentionHeads', p, posInt),
    kvHeads: num(v, 'kvHeads', p, posInt),
    headDim: num(v, 'headDim', p, posInt),
    totalParams: num(v, 'totalParams', p, positive),
    activeParams: num(v, 'activeParams', p, positive),
    bytesPerParam: v.bytesPerParam === undefined ? 2 : num(v, 'bytesPerParam', p, positive),
    kvBytesPerElement: v.kvBytesPerElement === undefined ? 2 : num(v, 'kvBytesPerElement', p, positive),
    pattern: v.pattern === undefined ? { kind: 'dense' } : validatePattern(v.pattern, `${p}pattern`),
  };
  if (arch.kvHeads > arch.attentionHeads) throw new FieldError(`${p}kvHeads`, `must not exceed attentionHeads (${arch.attentionHeads}); got ${arch.kvHeads}`);
  if (arch.activeParams > arch.totalParams) throw new FieldError(`${p}activeParams`, `must not exceed totalParams (${arch.totalParams}); got ${arch.activeParams}`);
  const vHeadDim = optNum(v, 'vHeadDim', p, posInt);
  if (vHeadDim !== undefined) arch.vHeadDim = vHeadDim;
  const kvEl = optNum(v, 'kvCacheElementsPerLayer', p, posInt);
  if (kvEl !== undefined) arch.kvCacheElementsPerLayer = kvEl;
  if (v.experts !== undefined) {
    if (!isObj(v.experts)) throw new FieldError(`${p}experts`, `must be an object (got ${show(v.experts)})`);
    const ep = `${p}experts.`;
    const total = num(v.experts, 'total', ep, posInt);
    const active = num(v.experts, 'active', ep, { integer: true, min: 1, max: total });
    const shared = optNum(v.experts, 'shared', ep, { integer: true, min: 0 });
    arch.experts = shared === undefined ? { total, active } : { total, active, shared };
  }
  return arch;
}

function validatePrice(v: unknown): ModelPrice | null {
  if (v === null || v === undefined) return null;
  if (!isObj(v)) throw new FieldError('price', `must be an object or null (got ${show(v)})`);
  const cached = (o: Obj, p: string): number | null => (o.cachedInputPerMTok === undefined || o.cachedInputPerMTok === null ? null : num(o, 'cachedInputPerMTok', p, nonNeg));
  const price: ModelPrice = {
    inputPerMTok: num(v, 'inputPerMTok', 'price.', nonNeg),
    cachedInputPerMTok: cached(v, 'price.'),
    outputPerMTok: num(v, 'outputPerMTok', 'price.', nonNeg),
  };
  if (v.longContext !== undefined) {
    const lc = v.longContext;
    if (!isObj(lc)) throw new FieldError('price.longContext', `must be an object (got ${show(lc)})`);
    const p = 'price.longContext.';
    price.longContext = {
      aboveInputTokens: num(lc, 'aboveInputTokens', p, posInt),
      inputPerMTok: num(lc, 'inputPerMTok', p, nonNeg),
      cachedInputPerMTok: cached(lc, p),
      outputPerMTok: num(lc, 'outputPerMTok', p, nonNeg),
    };
  }
  return price;
}

/** Validates one model entry; throws FieldError naming the field. */
function validateModel(o: Obj, origin: 'builtin' | 'user'): ModelProfile {
  const id = validateId(o);
  const encoding = o.encoding ?? 'o200k_base';
  if (encoding !== 'o200k_base' && encoding !== 'cl100k_base') {
    throw new FieldError('encoding', `must be "o200k_base" or "cl100k_base" (got ${show(encoding)})`);
  }
  if (o.architecture === undefined) throw new FieldError('architecture', 'is required (null when the architecture is not public)');
  const profile: ModelProfile = {
    id,
    name: o.name === undefined ? id : str(o, 'name', ''),
    encoding,
    contextLength: num(o, 'contextLength', '', posInt),
    architecture: validateArchitecture(o.architecture),
    price: validatePrice(o.price),
    sources: stringRecord(o.sources, 'sources'),
    origin,
  };
  const maxOut = optNum(o, 'maxOutputTokens', '', posInt);
  if (maxOut !== undefined) profile.maxOutputTokens = maxOut;
  const notes = stringList(o.notes, 'notes');
  if (notes) profile.notes = notes;
  return profile;
}

function validateHardware(o: Obj, origin: 'builtin' | 'user'): HardwareProfile {
  const id = validateId(o);
  const hw: HardwareProfile = {
    id,
    name: o.name === undefined ? id : str(o, 'name', ''),
    peakFlops: num(o, 'peakFlops', '', positive),
    memoryBandwidth: num(o, 'memoryBandwidth', '', positive),
    memoryBytes: num(o, 'memoryBytes', '', positive),
    sources: stringRecord(o.sources, 'sources'),
    origin,
  };
  const ce = optNum(o, 'computeEfficiency', '', { minExclusive: 0, max: 1 });
  if (ce !== undefined) hw.computeEfficiency = ce;
  const be = optNum(o, 'bandwidthEfficiency', '', { minExclusive: 0, max: 1 });
  if (be !== undefined) hw.bandwidthEfficiency = be;
  const notes = stringList(o.notes, 'notes');
  if (notes) hw.notes = notes;
  if (o.measured === true) hw.measured = true;
  return hw;
}

const MODEL_FIELDS = new Set(['id', 'name', 'encoding', 'contextLength', 'maxOutputTokens', 'architecture', 'price', 'sources', 'notes', 'origin']);
const HARDWARE_FIELDS = new Set(['id', 'name', 'peakFlops', 'memoryBandwidth', 'memoryBytes', 'computeEfficiency', 'bandwidthEfficiency', 'sources', 'notes', 'measured', 'origin']);

/** Shallow merge of a user override onto a built-in; nested objects merge one level. */
function mergeOverride(base: Obj, override: Obj, nested: string[]): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (nested.includes(k) && isObj(v) && isObj(base[k])) out[k] = { ...(base[k] as Obj), ...v };
    else out[k] = v;
  }
  return out;
}

/** Settings may hold an array of profiles or an object keyed by id. */
function entriesOf(raw: unknown, setting: string, errors: string[]): Array<{ label: string; entry: unknown }> {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw.map((entry, i) => ({ label: `${setting}[${i}]`, entry }));
  if (isObj(raw)) {
    return Object.entries(raw).map(([key, entry]) => {
      const withId = isObj(entry) && entry.id === undefined ? { ...entry, id: key } : entry;
      return { label: `${setting}.${key}`, entry: withId };
    });
  }
  errors.push(`${setting}: must be an array of profiles or an object keyed by id (got ${show(raw)}); ignored`);
  return [];
}

function loadUser<T extends { id: string; sources: Record<string, string> }>(
  raw: unknown,
  setting: string,
  into: Map<string, T>,
  builtinRaw: Map<string, Obj>,
  known: Set<string>,
  nested: string[],
  validate: (o: Obj, origin: 'builtin' | 'user') => T,
  errors: string[],
): void {
  for (const { label, entry } of entriesOf(raw, setting, errors)) {
    const name = isObj(entry) && typeof entry.id === 'string' ? ` "${entry.id}"` : '';
    if (!isObj(entry)) {
      errors.push(`${label}: must be an object (got ${show(entry)}); entry skipped`);
      continue;
    }
    try {
      const unknown = Object.keys(entry).filter((k) => !known.has(k));
      for (const k of unknown) errors.push(`${label}${name}: field "${k}" is not a known field; ignored`);
      const clean: Obj = Object.fromEntries(Object.entries(entry).filter(([k]) => known.has(k) && k !== 'origin'));
      const id = typeof clean.id === 'string' ? clean.id.toLowerCase() : clean.id;
      const base = typeof id === 'string' ? builtinRaw.get(id) : undefined;
      const merged = base ? mergeOverride(base, { ...clean, id }, nested) : { ...clean, id: clean.id };
      if (!base && merged.sources === undefined) merged.sources = { all: `user setting ${setting}` };
      const profile = validate(merged, 'user');
      if (base) profile.sources = { ...profile.sources, override: `fields overridden by the user setting ${setting}` };
      into.set(profile.id, profile);
    } catch (err) {
      if (err instanceof FieldError) errors.push(`${label}${name}: field "${err.field}" ${err.message}; entry skipped`);
      else errors.push(`${label}${name}: ${err instanceof Error ? err.message : String(err)}; entry skipped`);
    }
  }
}

interface Builtins {
  models: Map<string, ModelProfile>;
  hardware: Map<string, HardwareProfile>;
  modelsRaw: Map<string, Obj>;
  hardwareRaw: Map<string, Obj>;
}

let builtins: Builtins | undefined;

function loadBuiltins(): Builtins {
  if (builtins) return builtins;
  const b: Builtins = { models: new Map(), hardware: new Map(), modelsRaw: new Map(), hardwareRaw: new Map() };
  for (const raw of (modelsData as { models: unknown[] }).models) {
    const o = raw as Obj;
    try {
      const m = validateModel(o, 'builtin');
      b.models.set(m.id, m);
      b.modelsRaw.set(m.id, o);
    } catch (err) {
      const f = err instanceof FieldError ? ` field "${err.field}"` : '';
      throw new Error(`Context Budget: built-in model ${show(o.id)}${f} ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const raw of (hardwareData as { hardware: unknown[] }).hardware) {
    const o = raw as Obj;
    try {
      const h = validateHardware(o, 'builtin');
      b.hardware.set(h.id, h);
      b.hardwareRaw.set(h.id, o);
    } catch (err) {
      const f = err instanceof FieldError ? ` field "${err.field}"` : '';
      throw new Error(`Context Budget: built-in hardware ${show(o.id)}${f} ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  builtins = b;
  return b;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * Built-in profiles plus the user's entries (`contextBudget.models`,
 * `contextBudget.hardware`: arrays or objects keyed by id). Never throws for
 * user input: problems come back in `errors`.
 */
export function loadProfiles(userModels?: unknown, userHardware?: unknown, options: LoadProfilesOptions = {}): Profiles {
  const b = loadBuiltins();
  const errors: string[] = [];
  const models = new Map<string, ModelProfile>([...b.models].map(([k, v]) => [k, clone(v)]));
  const hardware = new Map<string, HardwareProfile>([...b.hardware].map(([k, v]) => [k, clone(v)]));
  if (options.thisCpu) hardware.set(THIS_CPU_ID, clone(options.thisCpu));
  loadUser(userModels, 'contextBudget.models', models, b.modelsRaw, MODEL_FIELDS, ['architecture', 'price', 'sources'], validateModel, errors);
  const hwRaw = new Map(b.hardwareRaw);
  if (options.thisCpu) hwRaw.set(THIS_CPU_ID, options.thisCpu as unknown as Obj);
  loadUser(userHardware, 'contextBudget.hardware', hardware, hwRaw, HARDWARE_FIELDS, ['sources'], validateHardware, errors);
  return { models, hardware, errors };
}

/** Model ids, built-in order (then user-added ones) when `models` is given. */
export function listModelIds(models?: Map<string, ModelProfile>): string[] {
  return [...(models ?? loadBuiltins().models).keys()];
}

export function listHardwareIds(hardware?: Map<string, HardwareProfile>): string[] {
  return [...(hardware ?? loadBuiltins().hardware).keys()];
}

/** A built-in model by id (case-insensitive), or undefined. */
export function builtinModel(id: string): ModelProfile | undefined {
  const m = loadBuiltins().models.get(id.toLowerCase());
  return m && clone(m);
}

export function builtinHardware(id: string): HardwareProfile | undefined {
  const h = loadBuiltins().hardware.get(id.toLowerCase());
  return h && clone(h);
}
