// `context-budget cost`: exit codes, JSON field names, human output, --list.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatBytes, formatFlops, formatSeconds, formatUsd, runCost } from '../../src/cli/commands/cost';
import { CPU_PROBE_FILE } from '../../src/core/cost/cpuProbe';

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCost(argv, { stdout: (s) => (stdout += s + '\n'), stderr: (s) => (stderr += s + '\n') });
  return { code, stdout, stderr };
}

test('--json gives the estimate with plain field names and the exact figures', async () => {
  const r = await run('--model', 'llama-3.1-8b', '--tokens', '8192', '--json');
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const j = JSON.parse(r.stdout);
  for (const k of ['model', 'hardware', 'inputTokens', 'outputTokens', 'cachedInputTokens', 'contextLimit', 'architectureKnown', 'kvCacheBytes', 'attentionFlops', 'linearFlops', 'totalFlops', 'attentionShare', 'weightsBytes', 'fitsInMemory', 'ttftSeconds', 'decodeSecondsPerToken', 'decodeTokensPerSecond', 'inputPriceUsd', 'cachedInputPriceUsd', 'outputPriceUsd', 'priceUsd', 'notes']) {
    assert.ok(k in j, k);
  }
  assert.equal(j.model, 'llama-3.1-8b');
  assert.equal(j.hardware, 'h100-sxm');
  assert.equal(j.kvCacheBytes, 1024 ** 3);
  assert.equal(j.attentionFlops, 17_594_333_528_064);
  assert.equal(j.priceUsd, null);
});

test('hosted model JSON: nulls for architecture figures, numbers for price', async () => {
  const r = await run('--model', 'GPT-4o', '--tokens', '1000', '--output-tokens', '500', '--cached-tokens', '200', '--json');
  assert.equal(r.code, 0);
  const j = JSON.parse(r.stdout);
  assert.equal(j.architectureKnown, false);
  assert.equal(j.totalFlops, null);
  assert.equal(j.kvCacheBytes, null);
  assert.ok(Math.abs(j.priceUsd - (800 * 2.5 + 200 * 1.25 + 500 * 10) / 1e6) < 1e-12);
});

test('human output is a small table with the key figures', async () => {
  const r = await run('--model', 'llama-3.1-8b', '--tokens', '8192', '--hardware', 'a100-80gb', '--compare');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Prefill FLOPs\s+149\.2 TFLOP/);
  assert.match(r.stdout, /KV cache\s+1 GiB/);
  assert.match(r.stdout, /NVIDIA A100/);
  assert.match(r.stdout, /attention 17\.59 TFLOP \(11\.8%\)/);
  assert.match(r.stdout, /sliding window 4,096/);
  const hosted = await run('--model', 'claude-sonnet-4', '--tokens', '10000');
  assert.match(hosted.stdout, /architecture not public/);
  assert.match(hosted.stdout, /Price\s+\$0\.0300/);
});

test('--list prints every model and hardware id; --list --json is parseable', async () => {
  const r = await run('--list');
  assert.equal(r.code, 0);
  for (const id of ['llama-3.1-8b', 'gpt-4o', 'gemini-2.5-flash', 'h100-sxm', 'this-cpu']) assert.match(r.stdout, new RegExp(`\\b${id.replace(/\./g, '\\.')}\\b`));
  const j = JSON.parse((await run('--list', '--json')).stdout);
  assert.ok(j.models.some((m: { id: string; architectureKnown: boolean }) => m.id === 'gpt-4o' && m.architectureKnown === false));
  assert.ok(j.hardware.some((h: { id: string }) => h.id === 'rtx-4090'));
});

test('bad input: one clear stderr line, exit 2, no stack trace', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--model', 'nope', '--tokens', '5'], /unknown model 'nope'/],
    [['--model', 'gpt-4o', '--tokens', '5', '--hardware', 'tpu'], /unknown hardware 'tpu'/],
    [['--model', 'gpt-4o'], /--tokens N is required/],
    [['--model', 'gpt-4o', '--tokens', '-5'], /--tokens must be a non-negative whole number/],
    [['--model', 'gpt-4o', '--tokens', '1e3'], /--tokens must be a non-negative whole number/],
    [['--model', 'gpt-4o', '--tokens', '10', '--cached-tokens', '20'], /--cached-tokens \(20\) cannot exceed --tokens \(10\)/],
    [['--model', 'gpt-4o', '--tokens', '10', '--efficiency', '2'], /--efficiency must be a number in \(0, 1\]/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--model'], /--model/],
    [['stray'], /unexpected argument 'stray'/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^context-budget cost: /);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('token counts accept digit separators; --help exits 0', async () => {
  const r = await run('--model', 'gpt-4o', '--tokens', '1_000', '--json');
  assert.equal(JSON.parse(r.stdout).inputTokens, 1000);
  const h = await run('--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: context-budget cost/);
});

test('--hardware this-cpu uses the probe and its cache directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-cli-probe-'));
  const prev = process.env.CONTEXT_BUDGET_CACHE_DIR;
  process.env.CONTEXT_BUDGET_CACHE_DIR = dir;
  try {
    const r = await run('--model', 'qwen2.5-coder-7b', '--tokens', '2048', '--hardware', 'this-cpu', '--json');
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.equal(j.hardware, 'this-cpu');
    const cache = JSON.parse(readFileSync(join(dir, CPU_PROBE_FILE), 'utf8'));
    // The TTFT is the compute bound on the measured peak (efficiency 1).
    assert.ok(Math.abs(j.ttftSeconds - j.totalFlops / cache.peakFlops) / j.ttftSeconds < 1e-9);
  } finally {
    if (prev === undefined) delete process.env.CONTEXT_BUDGET_CACHE_DIR;
    else process.env.CONTEXT_BUDGET_CACHE_DIR = prev;
  }
});

test('formatters', () => {
  assert.equal(formatFlops(1.5e15), '1.500 PFLOP');
  assert.equal(formatFlops(999), '999 FLOP');
  assert.equal(formatBytes(1024 ** 3), '1 GiB');
  assert.equal(formatBytes(128 * 1024), '128 KiB');
  assert.equal(formatSeconds(0.0123), '12.30 ms');
  assert.equal(formatSeconds(2), '2.000 s');
  assert.equal(formatUsd(0.0125), '$0.0125');
  assert.equal(formatUsd(12.3456), '$12.35');
});
