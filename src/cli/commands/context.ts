// The commands that need an index and a cursor: report, rank, pack, index.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { splitLines } from '../../core/chunk/chunker';
import { ContextEngine, EngineError, type ComputedContext } from '../../core/engine';
import type { IndexProgress } from '../../core/index/workspaceIndex';
import { relativePath } from '../../core/scan/scanner';
import { PROMPT_FORMATS, type PromptFormat } from '../../core/pack/render';
import type { ContextReport } from '../../core/report';
import type { EditorSignals } from '../../core/types';
import { defaultCacheDir, UsageError, type CliIO } from '../io';
import { formatReport } from './reportTable';

const commonOptions = {
  root: { type: 'string' },
  file: { type: 'string' },
  line: { type: 'string' },
  column: { type: 'string' },
  budget: { type: 'string' },
  model: { type: 'string' },
  hardware: { type: 'string' },
  open: { type: 'string', multiple: true },
  recent: { type: 'string', multiple: true },
  pin: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  device: { type: 'string' },
  'output-tokens': { type: 'string' },
  'stable-share': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

const CURSOR_HELP = `  --root DIR            workspace root (default: current folder)
  --file PATH           file with the cursor, relative to --root or absolute
  --line N              cursor line, 1-based
  --column C            cursor column, 0-based (default 0)
  --budget TOKENS       tokens for the packed context, cursor window included
                        (default: the model's context limit minus the output reserve)
  --model ID            model profile (default gpt-4o; 'context-budget cost --list')
  --hardware ID         hardware profile for latency estimates (default h100-sxm)
  --open PATH           an open editor tab (repeatable, most recent first)
  --recent PATH         a recently edited file (repeatable, most recent first)
  --pin CHUNK_ID        always include this chunk (repeatable)
  --exclude GLOB        leave matching files out of the index (gitignore syntax, repeatable)
  --cache-dir DIR       where the index is persisted (default: the OS cache folder)
  --no-cache            do not read or write the persisted index
  --device auto|gpu|cpu where the ranker runs (default auto)
  --output-tokens M     output tokens assumed for latency and price (default 256)
  --stable-share S      share of the snippet budget sent first from a ranking of the
                        whole file, unchanged across cursor moves (0-1, default 0.5; 0 = off)`;

const HELPS: Record<string, string> = {
  report: `Usage: context-budget report [FILE:LINE] [options]\n\nA human table: budget, selected and dropped chunks, cost.\n\n${CURSOR_HELP}\n  --json                print the full report as JSON\n`,
  rank: `Usage: context-budget rank --root DIR --file PATH --line N [options] --json
       context-budget rank --root DIR --queries FILE.jsonl [options] --json

Ranked chunks for a cursor, best first, with what the packer selects.
With --queries, one JSON object per input line ({"file","line","column"?,"id"?}), index built once.

${CURSOR_HELP}
  --queries FILE.jsonl  batch mode
  --json                JSON output (the only output of rank)
`,
  pack: `Usage: context-budget pack [FILE:LINE] [options]\n\nPrints the packed prompt.\n\n${CURSOR_HELP}\n  --format md|xml|json  prompt format (default md)\n`,
  index: `Usage: context-budget index [--root DIR] [--cache-dir DIR] [--no-cache] [--exclude GLOB]... [--json]\n\nIndexes the workspace and prints files, chunks, tokens, skipped files by reason and time.\n`,
};

type Values = {
  root?: string;
  file?: string;
  line?: string;
  column?: string;
  budget?: string;
  model?: string;
  hardware?: string;
  open?: string[];
  recent?: string[];
  pin?: string[];
  exclude?: string[];
  'cache-dir'?: string;
  'no-cache'?: boolean;
  device?: string;
  'output-tokens'?: string;
  'stable-share'?: string;
  json?: boolean;
  help?: boolean;
  format?: string;
  queries?: string;
};

function parse(argv: string[], extra: ParseArgsConfig['options'] = {}): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...commonOptions, ...extra }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

function intOption(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min) throw new UsageError(`--${name} must be at least ${min}, got ${n}`);
  return n;
}

function shareOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a number from 0 to 1, got '${raw}'`);
  return n;
}

function rootOf(values: Values): string {
  const root = resolve(values.root ?? process.cwd());
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`root '${values.root ?? root}' is not a folder`);
  return root;
}

/** A path from the command line, relative to the root, `/`-separated; errors when outside the root. */
export function relativeToRoot(root: string, file: string): string {
  const abs = isAbsolute(file) ? file : resolve(root, file);
  const rel = relativePath(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new UsageError(`file '${file}' is outside the root ${root}`);
  return rel;
}

async function openEngine(values: Values, io: CliIO): Promise<ContextEngine> {
  const root = rootOf(values);
  const device = values.device ?? 'auto';
  if (!['auto', 'gpu', 'cpu'].includes(device)) throw new UsageError(`--device must be auto, gpu or cpu, got '${device}'`);
  const engine = await ContextEngine.open({
    root,
    settings: {
      ...(values.model ? { model: values.model } : {}),
      ...(values.hardware ? { hardware: values.hardware } : {}),
      ...(values['output-tokens'] ? { outputTokens: intOption('output-tokens', values['output-tokens'], 0) } : {}),
      ...(values['stable-share'] !== undefined ? { stableShare: shareOption('stable-share', values['stable-share']) } : {}),
    },
    index: { cacheDir: values['no-cache'] ? undefined : resolve(values['cache-dir'] ?? defaultCacheDir()), exclude: values.exclude, syncStat: true },
    ranker: { device: device as 'auto' | 'gpu' | 'cpu' },
  });
  await engine.refresh({ onProgress: io.isTTY ? progressPrinter(io) : undefined });
  if (io.isTTY) io.stderr('\r\x1b[K');
  return engine;
}

function progressPrinter(io: CliIO): (p: IndexProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.phase !== 'done') return;
    last = now;
    const what = p.phase === 'scan' ? `scanning… ${p.done} files` : `indexing ${p.done}/${p.total} files`;
    io.stderr(`\r\x1b[K${what}`);
  };
}

function signalsOf(root: string, values: Values): EditorSignals {
  const rel = (list: string[] | undefined) => (list ?? []).map((p) => relativeToRoot(root, p));
  return {
    openTabs: rel(values.open),
    recentEdits: rel(values.recent),
    recentViews: [],
    pinned: values.pin ?? [],
    excluded: [],
  };
}

interface CursorQuery {
  file: string;
  line: number;
  column: number;
}

function checkCursor(engine: ContextEngine, q: { file: unknown; line: unknown; column?: unknown }): CursorQuery & { path: string } {
  if (typeof q.file !== 'string' || q.file === '') throw new UsageError('a cursor needs a file (--file PATH)');
  const line = typeof q.line === 'string' ? intOption('line', q.line, 1) : q.line;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 1) throw new UsageError(`line must be a positive integer, got ${JSON.stringify(q.line)}`);
  const colRaw = q.column ?? 0;
  const column = typeof colRaw === 'string' ? intOption('column', colRaw, 0)! : colRaw;
  if (typeof column !== 'number' || !Number.isInteger(column) || column < 0) throw new UsageError(`column must be a non-negative integer, got ${JSON.stringify(q.column)}`);
  const path = relativeToRoot(engine.root, q.file);
  const text = engine.index.fileText(path);
  if (text === undefined) throw new UsageError(`cannot read file '${q.file}'`);
  const lines = splitLines(text).length;
  if (line > lines) throw new UsageError(`line ${line} is out of range: ${path} has ${lines} lines`);
  return { file: q.file, line, column, path };
}

function positionalCursor(positionals: string[], values: Values): void {
  // `FILE:LINE` as the last positional (npm start -- src/x.ts:42).
  const pos = positionals[positionals.length - 1];
  if (!pos || values.file) return;
  const m = /^(.*):(\d+)(?::(\d+))?$/.exec(pos);
  if (!m) throw new UsageError(`expected FILE:LINE, got '${pos}'`);
  values.file = m[1];
  values.line = m[2];
  if (m[3]) values.column = m[3];
}

/** The rank contract's JSON object. */
export function rankJson(report: ContextReport): Record<string, unknown> {
  return {
    version: 1,
    root: report.root,
    file: report.file,
    line: report.line,
    column: report.column,
    model: report.model,
    encoding: report.encoding,
    budget: report.budget,
    device: report.device,
    ...(report.rankerNote ? { deviceNote: report.rankerNote } : {}),
    cursor: report.cursor,
    chunks: report.items.map((i) => ({
      path: i.path,
      startLine: i.startLine,
      endLine: i.endLine,
      tokens: i.tokens,
      score: i.score,
      selected: i.selected,
      reason: i.reason,
      sources: i.sources,
    })),
    totals: { selectedTokens: report.totals.selectedTokens, candidates: report.totals.candidates, indexedFiles: report.totals.indexedFiles, promptTokens: report.totals.promptTokens },
    cost: report.cost,
  };
}

async function computeOne(engine: ContextEngine, values: Values, q: { file: unknown; line: unknown; column?: unknown }, format?: PromptFormat): Promise<ComputedContext> {
  const cursor = checkCursor(engine, q);
  const budget = intOption('budget', values.budget, 1);
  return engine.compute({ path: cursor.path, line: cursor.line, column: cursor.column }, signalsOf(engine.root, values), { budget, format });
}

export async function runRank(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { queries: { type: 'string' } });
  if (values.help) return help(io, 'rank');
  if (!values.root) throw new UsageError('rank needs --root DIR');
  if (!values.queries && (!values.file || !values.line)) throw new UsageError('rank needs --file PATH and --line N, or --queries FILE.jsonl');
  let queryLines: string[] | undefined;
  if (values.queries) {
    try {
      queryLines = readFileSync(values.queries, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    } catch {
      throw new UsageError(`cannot read queries file '${values.queries}'`);
    }
  }
  const engine = await openEngine(values, io);
  try {
    if (!queryLines) {
      const { report } = await computeOne(engine, values, { file: values.file, line: values.line, column: values.column });
      io.stdout(JSON.stringify(rankJson(report)) + '\n');
      return 0;
    }
    for (const [n, raw] of queryLines.entries()) {
      let q: { file?: unknown; line?: unknown; column?: unknown; id?: unknown };
      try {
        q = JSON.parse(raw);
        if (!q || typeof q !== 'object' || Array.isArray(q)) throw new Error('not an object');
      } catch {
        io.stdout(JSON.stringify({ version: 1, line: null, error: `query line ${n + 1} is not a JSON object` }) + '\n');
        continue;
      }
      const echo = q.id === undefined ? {} : { id: q.id };
      try {
        const { report } = await computeOne(engine, values, { file: q.file, line: q.line, column: q.column });
        io.stdout(JSON.stringify({ ...echo, ...rankJson(report) }) + '\n');
      } catch (err) {
        if (!(err instanceof UsageError || err instanceof EngineError)) throw err;
        io.stdout(JSON.stringify({ ...echo, version: 1, file: q.file ?? null, line: q.line ?? null, error: err.message }) + '\n');
      }
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}

export async function runReport(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) return help(io, 'report');
  positionalCursor(positionals, values);
  if (!values.file || !values.line) throw new UsageError('report needs a cursor: FILE:LINE or --file PATH --line N');
  const engine = await openEngine(values, io);
  try {
    const { report } = await computeOne(engine, values, { file: values.file, line: values.line, column: values.column });
    io.stdout(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report, engine.index.stats()));
    return 0;
  } finally {
    await engine.dispose();
  }
}

export async function runPack(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string' } });
  if (values.help) return help(io, 'pack');
  positionalCursor(positionals, values);
  if (!values.file || !values.line) throw new UsageError('pack needs a cursor: FILE:LINE or --file PATH --line N');
  const formatArg = values.format ?? 'md';
  const format = (formatArg === 'md' ? 'markdown' : formatArg) as PromptFormat;
  if (!PROMPT_FORMATS.includes(format)) throw new UsageError(`--format must be md, xml or json, got '${formatArg}'`);
  const engine = await openEngine(values, io);
  try {
    const { prompt, report } = await computeOne(engine, values, { file: values.file, line: values.line, column: values.column }, format);
    // The prompt exactly as counted: no newline added after it.
    io.stdout(prompt.text);
    io.stderr(`${prompt.text.endsWith('\n') ? '' : '\n'}${report.totals.promptTokens} tokens (${report.encoding}) of a ${report.budget}-token budget\n`);
    return 0;
  } finally {
    await engine.dispose();
  }
}

export async function runIndex(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv);
  if (values.help) return help(io, 'index');
  const engine = await openEngine(values, io);
  try {
    const s = engine.index.stats();
    const out = { root: engine.root, encoding: engine.index.encoding, files: s.files, chunks: s.chunks, tokens: s.tokens, bytes: s.bytes, skipped: s.skipped, filesRead: s.filesRead, filesFromCache: s.filesFromCache, ms: Math.round(s.ms) };
    if (values.json) io.stdout(JSON.stringify(out) + '\n');
    else {
      const skipped = Object.entries(s.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
      io.stdout(
        `${out.files} files, ${out.chunks} chunks, ${out.tokens.toLocaleString('en-US')} tokens (${out.encoding}), ${(out.bytes / 1e6).toFixed(1)} MB\n` +
          `skipped: ${skipped}\nread ${out.filesRead} files, ${out.filesFromCache} from cache, in ${out.ms} ms\n`,
      );
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}

function help(io: CliIO, command: string): number {
  io.stdout(HELPS[command]);
  return 0;
}
