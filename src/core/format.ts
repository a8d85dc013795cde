// Human formatting of figures: one home for the CLI, the status bar and the panel. Pure: unit-tested in Node.

const DASH = '—';

function finite(n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/** Trims a fixed-point string: "3.10" → "3.1", "4.0" → "4". */
function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** An integer without exponent notation (toFixed switches to it from 1e21). */
function int(x: number): string {
  return BigInt(Math.round(x)).toString();
}

/** 3 significant digits at most, trailing zeros dropped. */
function sig3(x: number): string {
  const a = Math.abs(x);
  if (a >= 100) return int(x);
  if (a >= 10) return trim(x.toFixed(1));
  return trim(x.toFixed(2));
}

/** Tokens: 950, 3.1k, 128k, 1.2M. */
export function formatTokens(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  if (a < 1000) return int(n);
  if (a < 10_000) return `${trim((n / 1000).toFixed(1))}k`;
  if (a < 999_500) return `${Math.round(n / 1000)}k`;
  if (a < 10_000_000) return `${trim((n / 1e6).toFixed(2))}M`;
  return `${sig3(n / 1e6)}M`;
}

/** Exact token count with thousands separators: 12,345. */
export function formatInt(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const s = int(Math.abs(n));
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

const FLOP_UNITS: Array<[number, string]> = [
  [1e18, 'EFLOP'],
  [1e15, 'PFLOP'],
  [1e12, 'TFLOP'],
  [1e9, 'GFLOP'],
  [1e6, 'MFLOP'],
  [1e3, 'kFLOP'],
];

/** FLOPs: 1.2 TFLOP, 850 GFLOP, 0 FLOP. */
export function formatFlops(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  if (a >= 1e21) return `${sig3(n / 1e18)} EFLOP`;
  for (const [scale, unit] of FLOP_UNITS) if (a >= scale * 0.9995) return `${sig3(n / scale)} ${unit}`;
  return `${sig3(n)} FLOP`;
}

const BYTE_UNITS: Array<[number, string]> = [
  [1024 ** 4, 'TiB'],
  [1024 ** 3, 'GiB'],
  [1024 ** 2, 'MiB'],
  [1024, 'KiB'],
];

/** Bytes in binary units: 512 B, 1.5 KiB, 2.25 GiB. */
export function formatBytes(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  for (const [scale, unit] of BYTE_UNITS) if (a >= scale * 0.9995) return `${sig3(n / scale)} ${unit}`;
  return `${int(n)} B`;
}

/** Seconds: 850 µs, 12 ms, 1.4 s, 2 min 5 s. */
export function formatSeconds(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  if (a === 0) return '0 s';
  if (a < 1e-3) return `${sig3(n * 1e6)} µs`;
  if (a < 0.9995) return `${sig3(n * 1e3)} ms`;
  if (a < 60) return `${sig3(n)} s`;
  if (a >= 3600) return `${sig3(n / 3600)} h`;
  const m = Math.floor(a / 60);
  const s = Math.round(a - m * 60);
  return s === 0 || s === 60 ? `${s === 60 ? m + 1 : m} min` : `${m} min ${s} s`;
}

/** US dollars: $0, $0.0004, $0.004, $0.12, $3.40, $1,234. */
export function formatUsd(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  if (n === 0) return '$0';
  const a = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  if (a >= 1000) return `${sign}$${formatInt(a)}`;
  if (a >= 1) return `${sign}$${a.toFixed(2)}`;
  if (a >= 0.01) return `${sign}$${trim(a.toFixed(3))}`;
  // Two significant digits for small amounts.
  const digits = Math.min(8, Math.max(2, -Math.floor(Math.log10(a)) + 1));
  return `${sign}$${trim(a.toFixed(digits))}`;
}

/** A price in running text (status bar, CLI): an unknown price still reads as money, `$–`. */
export function formatPrice(n: number | null | undefined): string {
  return finite(n) ? formatUsd(n) : '$–';
}

/** A share in [0, 1] as a percentage: 14%, 0.3%, <0.1%. */
export function formatPercent(share: number | null | undefined): string {
  if (!finite(share)) return DASH;
  const p = share * 100;
  if (p === 0) return '0%';
  if (Math.abs(p) < 0.1) return '<0.1%';
  if (Math.abs(p) < 10) return `${trim(p.toFixed(1))}%`;
  if (Math.abs(p) >= 1e6) return p > 0 ? '>999,999%' : '<-999,999%';
  return `${formatInt(p)}%`;
}

/** Relevance score in [0, 1] with two decimals. */
export function formatScore(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  return n.toFixed(2);
}

/** Decode speed: 42 tok/s. */
export function formatRate(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  return `${sig3(n)} tok/s`;
}

/** `path:12–40` (or `path:12` for one line). */
export function formatLocation(path: string, startLine: number, endLine: number): string {
  return startLine === endLine ? `${path}:${startLine}` : `${path}:${startLine}–${endLine}`;
}

/**
 * Budgets and context limits: multiples of 1,024 in the "k = 1,024" convention
 * model cards use (8,192 → 8k, 131,072 → 128k); anything else as formatTokens.
 */
export function formatBudget(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  if (n >= 1024 && n % 1024 === 0 && n < 1024 * 1024 * 10) return `${n / 1024}k`;
  return formatTokens(n);
}

/** Splits `a/b/c.ts` into ['a/b/', 'c.ts'] so the UI can elide the folder and keep the file name. */
export function splitPath(path: string): [dir: string, base: string] {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? ['', path] : [path.slice(0, i + 1), path.slice(i + 1)];
}
