// Number formatting in the panel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatBudget, formatBytes, formatFlops, formatInt, formatLocation, formatPercent, formatPrice, formatRate, formatScore, formatSeconds, formatTokens, formatUsd, splitPath } from '../../src/core/format';

describe('webview format', () => {
  it('tokens', () => {
    assert.equal(formatTokens(0), '0');
    assert.equal(formatTokens(950), '950');
    assert.equal(formatTokens(3100), '3.1k');
    assert.equal(formatTokens(4000), '4k');
    assert.equal(formatTokens(12_345), '12k');
    assert.equal(formatTokens(131_072), '131k');
    assert.equal(formatTokens(999_999), '1M');
    assert.equal(formatTokens(1_204_331), '1.2M');
    assert.equal(formatTokens(25_000_000), '25M');
  });

  it('budgets use k = 1,024 for multiples of 1,024', () => {
    assert.equal(formatBudget(8192), '8k');
    assert.equal(formatBudget(131_072), '128k');
    assert.equal(formatBudget(130_048), '127k');
    assert.equal(formatBudget(256), '256');
    assert.equal(formatBudget(5000), '5k');
  });

  it('integers with separators', () => {
    assert.equal(formatInt(4924), '4,924');
    assert.equal(formatInt(1_204_331), '1,204,331');
    assert.equal(formatInt(-12_000), '-12,000');
    assert.equal(formatInt(12), '12');
  });

  it('FLOPs', () => {
    assert.equal(formatFlops(0), '0 FLOP');
    assert.equal(formatFlops(6.36e12), '6.36 TFLOP');
    assert.equal(formatFlops(85.4e12), '85.4 TFLOP');
    assert.equal(formatFlops(275e9), '275 GFLOP');
    assert.equal(formatFlops(380e15), '380 PFLOP');
    assert.equal(formatFlops(999.9e9), '1 TFLOP');
    assert.equal(formatFlops(3e21), '3000 EFLOP');
  });

  it('bytes (binary units)', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(128 * 1024 * 1024), '128 MiB');
    assert.equal(formatBytes(16.06e9), '15 GiB');
    assert.equal(formatBytes(2 * 1024 ** 4), '2 TiB');
  });

  it('seconds', () => {
    assert.equal(formatSeconds(0), '0 s');
    assert.equal(formatSeconds(0.00085), '850 µs');
    assert.equal(formatSeconds(0.0423), '42.3 ms');
    assert.equal(formatSeconds(0.216), '216 ms');
    assert.equal(formatSeconds(2.04), '2.04 s');
    assert.equal(formatSeconds(125), '2 min 5 s');
    assert.equal(formatSeconds(120), '2 min');
    assert.equal(formatSeconds(1010), '16 min 50 s');
    assert.equal(formatSeconds(5400), '1.5 h');
  });

  it('dollars', () => {
    assert.equal(formatUsd(0), '$0');
    assert.equal(formatUsd(0.0004), '$0.0004');
    assert.equal(formatUsd(0.00098), '$0.00098');
    assert.equal(formatUsd(0.004), '$0.004');
    assert.equal(formatUsd(0.12), '$0.12');
    assert.equal(formatUsd(3.4), '$3.40');
    assert.equal(formatUsd(1234.5), '$1,235');
  });

  it('percent, score, rate, location, path split', () => {
    assert.equal(formatPercent(0.14), '14%');
    assert.equal(formatPercent(0.074), '7.4%');
    assert.equal(formatPercent(0.0004), '<0.1%');
    assert.equal(formatPercent(0), '0%');
    assert.equal(formatScore(0.834), '0.83');
    assert.equal(formatRate(142), '142 tok/s');
    assert.equal(formatLocation('a.ts', 3, 9), 'a.ts:3–9');
    assert.equal(formatLocation('a.ts', 3, 3), 'a.ts:3');
    assert.deepEqual(splitPath('src/core/a.ts'), ['src/core/', 'a.ts']);
    assert.deepEqual(splitPath('a.ts'), ['', 'a.ts']);
  });

  it('shows a dash for null, undefined and non-finite values', () => {
    for (const f of [formatTokens, formatBudget, formatInt, formatFlops, formatBytes, formatSeconds, formatUsd, formatPercent, formatScore, formatRate]) {
      for (const v of [null, undefined, NaN, Infinity]) assert.equal(f(v), '—', `${f.name}(${v})`);
    }
  });

  it('never prints NaN, Infinity or exponent notation for finite input (fuzz)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e24, noNaN: true }), (v) => {
        for (const f of [formatTokens, formatBudget, formatInt, formatFlops, formatBytes, formatSeconds, formatUsd, formatPercent, formatRate]) {
          const s = f(v);
          assert.ok(!/NaN|Infinity|e\+|e-/.test(s), `${f.name}(${v}) = ${s}`);
        }
        return true;
      }),
      { numRuns: Number(process.env.CONTEXT_BUDGET_FUZZ_RUNS ?? 300) },
    );
  });
});

describe('formatPrice', () => {
  it('reads as money even when the price is unknown', () => {
    assert.equal(formatPrice(null), '$–');
    assert.equal(formatPrice(0.0076), formatUsd(0.0076));
  });
});
