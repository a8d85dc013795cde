// `context-budget cost`: what a context window costs for a model on some hardware.
//   context-budget cost --model ID --tokens N [--output-tokens M] [--cached-tokens K]
//                       [--hardware ID] [--efficiency F] [--compare] [--json]
//   context-budget cost --list [--json]
// Exit codes: 0 ok, 2 bad input (one line on stderr, no stack trace).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { comparePatterns, estimateCost } from '../../core/cost/costModel';
import { probeCpu } from '../../core/cost/cpuProbe';
import { DEFAULT_HARDWARE_ID, DEFAULT_MODEL_ID, loadProfiles, THIS_CPU_ID } from '../../core/cost/profiles';
import type { CostEstimate, HardwareProfile, ModelProfile } from '../../core/cost/types';

export interface CliOut {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE =
  'usage: context-budget cost --model ID --tokens N [--output-tokens M] [--cached-tokens K] [--hardware ID] [--efficiency F] [--compare] [--json]\n' +
  '       context-budget cost --list [--json]';

class UsageError extends Error {}

function parseCount(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = v.replace(/[_,]/g, '');
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a non-negative whole number of tokens (got '${v}')`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} is too large (got '${v}')`);
  return n;
}

function cacheDir(): string {
  if (process.env.CONTEXT_BUDGET_CACHE_DIR) return process.env.CONTEXT_BUDGET_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'context-budget');
}

// ---- formatting ----

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatFlops(f: number): string {
  const units: Array<[number, string]> = [[1e18, 'EFLOP'], [1e15, 'PFLOP'], [1e12, 'TFLOP'], [1e9, 'GFLOP'], [1e6, 'MFLOP']];
  for (const [scale, unit] of units) if (f >= scale) return `${(f / scale).toPrecision(4)} ${unit}`;
  return `${int(f)} FLOP`;
}

export function formatBytes(b: number): string {
  const units: Array<[number, string]> = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [scale, unit] of units) if (b >= scale) return `${Number((b / scale).toPrecision(4))} ${unit}`;
  return `${int(b)} B`;
}

export function formatSeconds(s: number): string {
  if (s >= 1) return `${s.toPrecision(4)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toPrecision(4)} ms`;
  return `${(s * 1e6).toPrecision(4)} µs`;
}

export function formatUsd(u: number): string {
  if (u === 0) return '$0';
  if (u >= 1) return `$${u.toFixed(2)}`;
  return `$${u.toPrecision(3)}`;
}

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

function humanEstimate(e: CostEstimate, model: ModelProfile, hw: HardwareProfile): string {
  const lines: string[] = [];
  const head = table([
    ['Model', `${model.name} (${model.id}), context ${int(model.contextLength)} tokens, ${model.encoding}`],
    ['Hardware', e.architectureKnown ? `${hw.name} (${hw.id})` : 'n/a (hosted model)'],
    ['Request', `${int(e.inputTokens)} input (${int(e.cachedInputTokens)} cached) + ${int(e.outputTokens)} output tokens`],
  ], '');
  lines.push(head, '');
  const rows: string[][] = [];
  if (e.architectureKnown && e.totalFlops !== null && e.linearFlops !== null && e.attentionFlops !== null) {
    const share = ((e.attentionShare ?? 0) * 100).toFixed(1);
    rows.push(['Prefill FLOPs', formatFlops(e.totalFlops), `linear ${formatFlops(e.linearFlops)} + attention ${formatFlops(e.attentionFlops)} (${share}%)`]);
    rows.push(['KV cache', formatBytes(e.kvCacheBytes ?? 0), `weights ${formatBytes(e.weightsBytes ?? 0)}; fits in ${formatBytes(hw.memoryBytes)}: ${e.fitsInMemory ? 'yes' : 'NO'}`]);
    rows.push(['Time to first token', formatSeconds(e.ttftSeconds ?? 0), 'roofline']);
    rows.push(['Decode', `${formatSeconds(e.decodeSecondsPerToken ?? 0)}/token`, `${(e.decodeTokensPerSecond ?? 0).toPrecision(4)} tokens/s`]);
  } else {
    rows.push(['Compute, KV cache, time', 'n/a', 'architecture not public']);
  }
  if (e.priceUsd !== null) {
    rows.push(['Price', formatUsd(e.priceUsd), `input ${formatUsd(e.inputPriceUsd ?? 0)} + cached ${formatUsd(e.cachedInputPriceUsd ?? 0)} + output ${formatUsd(e.outputPriceUsd ?? 0)}`]);
  } else {
    rows.push(['Price', 'n/a', 'no list price']);
  }
  lines.push(table(rows));
  if (e.notes.length) {
    lines.push('', 'Notes');
    for (const n of e.notes) lines.push(`  - ${n}`);
  }
  return lines.join('\n');
}

function listText(models: ModelProfile[], hardware: HardwareProfile[]): string {
  const money = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `$${v}`);
  const mrows = [['id', 'context', 'encoding', 'architecture', 'in/1M', 'cached/1M', 'out/1M']];
  for (const m of models) {
    mrows.push([m.id, int(m.contextLength), m.encoding, m.architecture ? 'public' : 'not public', money(m.price?.inputPerMTok), money(m.price?.cachedInputPerMTok), money(m.price?.outputPerMTok)]);
  }
  const hrows = [['id', 'peak TFLOP/s', 'bandwidth GB/s', 'memory GB', 'name']];
  for (const h of hardware) {
    hrows.push([h.id, (h.peakFlops / 1e12).toPrecision(4), (h.memoryBandwidth / 1e9).toPrecision(4), (h.memoryBytes / 1e9).toPrecision(4), h.id === THIS_CPU_ID ? `${h.name}; measured when used` : h.name]);
  }
  return ['Models', table(mrows), '', 'Hardware', table(hrows)].join('\n');
}

export async function runCost(argv: string[], out: CliOut): Promise<number> {
  try {
    // `--tokens -5` would be read as a missing value; join it so the number check explains.
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (/^--[a-z-]+$/.test(argv[i]) && i + 1 < argv.length && /^-\d/.test(argv[i + 1])) args.push(`${argv[i]}=${argv[++i]}`);
      else args.push(argv[i]);
    }
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string', short: 'm' },
        tokens: { type: 'string', short: 'n' },
        'output-tokens': { type: 'string' },
        'cached-tokens': { type: 'string' },
        hardware: { type: 'string' },
        efficiency: { type: 'string' },
        compare: { type: 'boolean' },
        json: { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      out.stdout(USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const profiles = loadProfiles();
    if (values.list) {
      const models = [...profiles.models.values()];
      const hardware = [...profiles.hardware.values()];
      if (values.json) {
        out.stdout(JSON.stringify({
          models: models.map((m) => ({ id: m.id, name: m.name, contextLength: m.contextLength, encoding: m.encoding, architectureKnown: m.architecture !== null, price: m.price })),
          hardware: hardware.map((h) => ({ id: h.id, name: h.name, peakFlops: h.peakFlops, memoryBandwidth: h.memoryBandwidth, memoryBytes: h.memoryBytes })),
        }, null, 2));
      } else {
        out.stdout(listText(models, hardware));
      }
      return 0;
    }
    const modelId = (values.model ?? DEFAULT_MODEL_ID).toLowerCase();
    const model = profiles.models.get(modelId);
    if (!model) throw new UsageError(`unknown model '${values.model}' (see context-budget cost --list)`);
    const hwId = (values.hardware ?? DEFAULT_HARDWARE_ID).toLowerCase();
    if (!profiles.hardware.has(hwId)) throw new UsageError(`unknown hardware '${values.hardware}' (see context-budget cost --list)`);
    const tokens = parseCount('tokens', values.tokens);
    if (tokens === undefined) throw new UsageError('--tokens N is required');
    const outputTokens = parseCount('output-tokens', values['output-tokens']) ?? 0;
    const cachedInputTokens = parseCount('cached-tokens', values['cached-tokens']) ?? 0;
    if (cachedInputTokens > tokens) throw new UsageError(`--cached-tokens (${cachedInputTokens}) cannot exceed --tokens (${tokens})`);
    let computeEfficiency: number | undefined;
    if (values.efficiency !== undefined) {
      computeEfficiency = Number(values.efficiency);
      if (!/^\d*\.?\d+$/.test(values.efficiency) || !(computeEfficiency > 0 && computeEfficiency <= 1)) {
        throw new UsageError(`--efficiency must be a number in (0, 1] (got '${values.efficiency}')`);
      }
    }
    let hw = profiles.hardware.get(hwId)!;
    if (hwId === THIS_CPU_ID && model.architecture) hw = await probeCpu(cacheDir());
    const req = { inputTokens: tokens, outputTokens, cachedInputTokens, computeEfficiency };
    const estimate = estimateCost(model, hw, req);
    const comparisons = values.compare ? comparePatterns(model, hw, req) : [];
    if (values.json) {
      const body = values.compare
        ? { ...estimate, patterns: comparisons.map((c) => ({ id: c.id, label: c.label, native: c.native, attentionFlops: c.estimate.attentionFlops, totalFlops: c.estimate.totalFlops, kvCacheBytes: c.estimate.kvCacheBytes, ttftSeconds: c.estimate.ttftSeconds, attentionVsNative: c.attentionVsNative })) }
        : estimate;
      out.stdout(JSON.stringify(body, null, 2));
    } else {
      let text = humanEstimate(estimate, model, hw);
      if (values.compare) {
        if (comparisons.length === 0) {
          text += '\n\nWhat if: not available (architecture not public)';
        } else {
          const rows = [['pattern', 'attention', 'vs own', 'KV cache', 'TTFT']];
          for (const c of comparisons) {
            const e = c.estimate;
            rows.push([`${c.label}${c.native ? ' (own)' : ''}`, formatFlops(e.attentionFlops ?? 0), c.attentionVsNative === null ? '-' : `${c.attentionVsNative.toFixed(3)}x`, formatBytes(e.kvCacheBytes ?? 0), formatSeconds(e.ttftSeconds ?? 0)]);
          }
          text += `\n\nWhat if (same ${int(tokens)}-token window)\n${table(rows)}`;
        }
      }
      out.stdout(text);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof RangeError) {
      out.stderr(`context-budget cost: ${err.message}`);
      return 2;
    }
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const msg = (err as Error).message.split(/\.\s|\n/)[0].replace(/\.$/, '');
      out.stderr(`context-budget cost: ${msg} (try --help)`);
      return 2;
    }
    out.stderr(`context-budget cost: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
