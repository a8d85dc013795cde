// Two VS Code windows on one folder write the same cache file at once: two child
// processes save different snapshots many times while this process keeps loading.
// Every load must be undefined or one writer's whole snapshot, never a mix.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CHUNK_OPTIONS } from '../../src/core/chunk/chunker';
import { ABANDONED_TEMP_MS, indexCachePath, loadIndexCache, saveIndexCache } from '../../src/core/index/cache';
import { fuzzRuns } from '../helpers/fakeIndex';

const dir = mkdtempSync(join(tmpdir(), 'cb-cache2-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = '/work/some/project';

const writer = `
import { saveIndexCache } from ${JSON.stringify(resolve(__dirname, '../../src/core/index/cache'))};
import { DEFAULT_CHUNK_OPTIONS } from ${JSON.stringify(resolve(__dirname, '../../src/core/chunk/chunker'))};
const [cacheDir, tag, nFiles, times] = process.argv.slice(2);
const files = Array.from({ length: Number(nFiles) }, (_, i) => ({
  path: tag + '/f' + i + '.ts', size: 100 + i, mtimeMs: 1, hash: 'h' + i, language: 'typescript',
  chunks: [{ id: tag + '/f' + i + '.ts#1-3', path: tag + '/f' + i + '.ts', startLine: 1, endLine: 3, language: 'typescript', kind: 'window', defines: ['x' + i], uses: ['a', 'b'], hash: 'c' + i, tokens: 10 + i }],
  imports: [],
}));
void (async () => {
  for (let k = 0; k < Number(times); k++) await saveIndexCache(cacheDir, ${JSON.stringify(ROOT)}, 'o200k_base', DEFAULT_CHUNK_OPTIONS, files, { text: ['const', ' x'], tokens: [1, 1] });
})();
`;

function runWriter(tag: string, nFiles: number, times: number): Promise<number> {
  const script = join(dir, 'writer.ts');
  writeFileSync(script, writer);
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, dir, tag, String(nFiles), String(times)], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', rej);
    p.on('exit', (code) => res(code ?? 1));
  });
}

describe('cache written by two windows at once', () => {
  it('loads always give undefined or one whole snapshot; no temp files are left', { timeout: 120_000 }, async () => {
    const times = Math.max(150, Math.floor(fuzzRuns(150)));
    let done = 0;
    const writers = [runWriter('a', 400, times), runWriter('b', 250, times)].map((p) => p.then((c) => (done++, c)));
    const seen = { undefined: 0, a: 0, b: 0 };
    while (done < 2) {
      const res = await loadIndexCache(dir, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS);
      if (!res) seen.undefined++;
      else {
        const tags = new Set([...res.files.keys()].map((p) => p.split('/')[0]));
        assert.equal(tags.size, 1, 'a snapshot mixes both writers');
        const tag = [...tags][0] as 'a' | 'b';
        assert.equal(res.files.size, tag === 'a' ? 400 : 250, 'a partial snapshot');
        seen[tag]++;
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(writers), [0, 0]);
    assert.ok(seen.a + seen.b > 0, JSON.stringify(seen));
    const final = await loadIndexCache(dir, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS);
    assert.ok(final && (final.files.size === 400 || final.files.size === 250));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
});

describe('cache of a large workspace', () => {
  it('saves and loads line by line, leaving the event loop free between files', async () => {
    const big = mkdtempSync(join(tmpdir(), 'cb-cache-big-'));
    try {
      const files = Array.from({ length: 20_000 }, (_, i) => ({
        path: `d${i % 50}/f${i}.ts`, size: 100, mtimeMs: 1, hash: `h${i}`, language: 'typescript', imports: [],
        chunks: [{ id: '', path: `d${i % 50}/f${i}.ts`, startLine: 1, endLine: 9, language: 'typescript', kind: 'window' as const, defines: [], uses: ['alpha', `t${i % 3000}`], hash: `c${i}`, tokens: 9 }],
      }));
      let ticks = 0;
      const tick = (): void => {
        ticks++;
        if (!stop) setImmediate(tick);
      };
      let stop = false;
      setImmediate(tick);
      await saveIndexCache(big, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS, files, { text: [], tokens: [] });
      const ticksWhileSaving = ticks;
      const loaded = await loadIndexCache(big, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS);
      stop = true;
      assert.ok(ticksWhileSaving > 1, `the event loop ran ${ticksWhileSaving} times while saving`);
      assert.ok(ticks > ticksWhileSaving + 1, 'and while loading');
      assert.equal(loaded?.files.size, 20_000);
      assert.deepEqual(loaded?.files.get('d7/f12357.ts')?.chunks[0].uses, ['alpha', 't357']);
      assert.equal(loaded?.files.get('d7/f12357.ts')?.chunks[0].id, 'd7/f12357.ts#1-9');
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });
});

describe('temp files of saves that were cut off', () => {
  it('are removed by the next save once abandoned; a save still writing keeps its own', async () => {
    const d = mkdtempSync(join(tmpdir(), 'cb-cache-tmp-'));
    try {
      const target = indexCachePath(d, ROOT, 'o200k_base');
      const abandoned = `${target}.999.deadbeef.tmp`;
      const writing = `${target}.998.cafef00d.tmp`;
      const otherIndex = join(d, 'index-v1-someotherroot-o200k_base.json.1.aa.tmp');
      for (const f of [abandoned, writing, otherIndex]) writeFileSync(f, 'partial');
      const old = (Date.now() - ABANDONED_TEMP_MS - 60_000) / 1000;
      utimesSync(abandoned, old, old);
      utimesSync(otherIndex, old, old);
      await saveIndexCache(d, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS, [], { text: [], tokens: [] });
      const left = readdirSync(d).sort();
      assert.ok(!left.includes(abandoned.slice(d.length + 1)), left.join(', '));
      assert.ok(left.includes(writing.slice(d.length + 1)), 'a save in progress keeps its temp file');
      assert.ok(left.includes('index-v1-someotherroot-o200k_base.json.1.aa.tmp'), "another index's files are not this save's to remove");
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
