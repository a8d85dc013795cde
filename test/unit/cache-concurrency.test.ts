// Two VS Code windows on one folder write the same cache file at once: two child
// processes save different snapshots many times while this process keeps loading.
// Every load must be undefined or one writer's whole snapshot, never a mix.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CHUNK_OPTIONS } from '../../src/core/chunk/chunker';
import { loadIndexCache } from '../../src/core/index/cache';
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
for (let k = 0; k < Number(times); k++) saveIndexCache(cacheDir, ${JSON.stringify(ROOT)}, 'o200k_base', DEFAULT_CHUNK_OPTIONS, files, { text: ['const', ' x'], tokens: [1, 1] });
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
      const res = loadIndexCache(dir, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS);
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
    const final = loadIndexCache(dir, ROOT, 'o200k_base', DEFAULT_CHUNK_OPTIONS);
    assert.ok(final && (final.files.size === 400 || final.files.size === 250));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
});
