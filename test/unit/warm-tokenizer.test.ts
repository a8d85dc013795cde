// A warm start must not build tiktoken's BPE tables (≈150 ms, ≈80 MB): the
// persisted index carries the counts of the pieces seen. Fresh processes, because
// a tokenizer is loaded once per process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const w = makeWorkspace(SAMPLE_PROJECT);
const cacheDir = mkdtempSync(join(tmpdir(), 'cb-warm-tok-'));
after(() => {
  w.cleanup();
  rmSync(cacheDir, { recursive: true, force: true });
});

const script = `
import { ContextEngine } from ${JSON.stringify(resolve(__dirname, '../../src/core/engine'))};
import { emptySignals } from ${JSON.stringify(resolve(__dirname, '../../src/core/types'))};
void (async () => {
  const engine = await ContextEngine.open({ root: process.argv[2], index: { cacheDir: process.argv[3], workers: 0 }, ranker: { device: 'cpu' } });
  const { filesRead } = await engine.refresh();
  const { prompt } = await engine.compute({ path: 'src/main.ts', line: 4, column: 0 }, emptySignals(), { budget: 400 });
  const tokenizer = engine.index.tokens.tokenizer;
  console.log(JSON.stringify({ filesRead, tokens: prompt.tokens, text: prompt.text, ...tokenizer.stats() }));
  await engine.dispose();
})();
`;

function run(): { filesRead: number; tokens: number; text: string; bpeBuilt: boolean; pieces: number } {
  const file = join(cacheDir, 'probe.ts');
  writeFileSync(file, script);
  const out = execFileSync(process.execPath, ['--import', 'tsx', file, w.root, join(cacheDir, 'index')], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('warm start and the tokenizer', () => {
  it('a warm start packs and renders a prompt without building the BPE tables, and counts the same', () => {
    const cold = run();
    assert.equal(cold.filesRead, 4);
    assert.equal(cold.bpeBuilt, true);
    const warm = run();
    assert.equal(warm.filesRead, 0);
    assert.ok(warm.pieces > 0);
    assert.equal(warm.bpeBuilt, false);
    assert.equal(warm.text, cold.text);
    assert.equal(warm.tokens, cold.tokens);
  });
});
