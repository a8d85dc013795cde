import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { INDEX_CACHE_VERSION, indexCachePath, LineReader } from '../../src/core/index/cache';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { scanWorkspace } from '../../src/core/scan/scanner';
import { loadTokenizer } from '../../src/core/tokens/tokenizer';
import { fuzzRuns, rng } from '../helpers/fakeIndex';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

function ws(files: Record<string, string | Buffer>) {
  const w = makeWorkspace(files);
  cleanups.push(w.cleanup);
  return w;
}

function snapshot(index: WorkspaceIndex) {
  const files = [...index.files()].sort();
  return files.map((f) => ({
    f,
    chunks: index.chunksOf(f).map((c) => `${c.id} ${c.hash} ${c.tokens} ${c.kind} ${c.defines.join(',')} ${c.uses.join(',')}`),
    imports: [...index.importsOf(f)].sort(),
    // The symbol table: every name this file defines, with all the chunks that define it anywhere.
    defines: [...new Set(index.chunksOf(f).flatMap((c) => c.defines))].sort().map((n) => `${n}: ${index.definitionsOf(n).map((c) => c.id).sort().join(' ')}`),
  }));
}

describe('scanner', () => {
  it('respects nested .gitignore files, defaults and user excludes', async () => {
    const w = ws({
      '.gitignore': 'secret.txt\n/build-output/\n',
      'a.ts': 'export const a = 1;',
      'secret.txt': 'x',
      'build-output/x.ts': 'x',
      'node_modules/lib/index.js': 'x',
      'package-lock.json': '{}',
      'bundle.min.js': 'x',
      'pkg/.gitignore': '*.gen.ts\n!keep.gen.ts\n',
      'pkg/a.gen.ts': 'x',
      'pkg/keep.gen.ts': 'x',
      'pkg/b.ts': 'x',
      'logs/app.log': 'x',
    });
    const res = await scanWorkspace(w.root, { exclude: ['logs/'] });
    assert.deepEqual(res.files.map((f) => f.path).sort(), ['.gitignore', 'a.ts', 'pkg/.gitignore', 'pkg/b.ts', 'pkg/keep.gen.ts']);
    assert.ok((res.skipped.ignored ?? 0) >= 6);
  });

  it('survives symlink loops and does not follow links out of the root', async () => {
    const w = ws({ 'src/a.ts': 'x' });
    const outside = makeWorkspace({ 'outside.ts': 'secret' });
    cleanups.push(outside.cleanup);
    symlinkSync(join(w.root, 'src'), join(w.root, 'src', 'loop'));
    symlinkSync(outside.root, join(w.root, 'out-link'));
    symlinkSync(join(w.root, 'nowhere'), join(w.root, 'dangling'));
    const res = await scanWorkspace(w.root);
    assert.deepEqual(res.files.map((f) => f.path), ['src/a.ts']);
    assert.equal(res.skipped['outside-root'], 1);
    assert.ok((res.skipped['symlink-loop'] ?? 0) >= 2);
  });

  it('lists files in one deterministic order, with or without synchronous stats; a folder by its own path, not through a link', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`d${i % 7}/e${i % 3}/f${i}.ts`] = 'x';
    files['z/real/in.ts'] = 'x';
    const w = ws(files);
    // A link to a folder sorts before the folder itself: the folder is still listed by its own path.
    symlinkSync(join(w.root, 'z', 'real'), join(w.root, 'a-link'));
    const runs = await Promise.all([scanWorkspace(w.root), scanWorkspace(w.root, { syncStat: true }), scanWorkspace(w.root)]);
    const paths = runs.map((r) => r.files.map((f) => f.path));
    assert.deepEqual(paths[0], [...paths[0]].sort());
    assert.ok(paths[0].includes('z/real/in.ts') && !paths[0].includes('a-link/in.ts'));
    assert.deepEqual(paths[1], paths[0]);
    assert.deepEqual(paths[2], paths[0]);
    assert.deepEqual(runs[1].files.map((f) => f.size), runs[0].files.map((f) => f.size));
    assert.equal(runs[0].skipped['symlink-loop'], 1);
  });

  it('counts files over the size limit', async () => {
    const w = ws({ 'big.ts': 'x'.repeat(3000), 'small.ts': 'y' });
    const res = await scanWorkspace(w.root, { maxFileSizeKB: 2 });
    assert.deepEqual(res.files.map((f) => f.path), ['small.ts']);
    assert.equal(res.skipped['too-large'], 1);
  });
});

describe('workspace index', () => {
  it('indexes chunks whose token counts equal tiktoken\'s count of the chunk text, and whose lines exist', async () => {
    const w = ws(SAMPLE_PROJECT);
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    const tok = await loadTokenizer('o200k_base');
    assert.equal(index.fileCount(), 4);
    for (const c of index.allChunks()) {
      const lines = readFileSync(join(w.root, c.path), 'utf8').split('\n');
      assert.ok(c.startLine >= 1 && c.endLine <= lines.length && c.startLine <= c.endLine, c.id);
      assert.equal(c.tokens, tok.count(index.chunkText(c)), c.id);
    }
    assert.ok(index.definitionsOf('addVectors').some((c) => c.path === 'src/math.ts'));
  });

  it('skips binary, invalid UTF-8 and minified files by reason; reads UTF-16 and CRLF files', async () => {
    const w = ws({
      'bin.dat': Buffer.from([0, 1, 2, 3, 0, 0, 255]),
      'latin.ts': Buffer.from(Array.from({ length: 400 }, (_, i) => (i % 2 ? 0xe9 : 0xff))),
      'app.bundle.js': 'var a=1;'.repeat(2000),
      'utf16.ts': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('export const wide = 1;\n', 'utf16le')]),
      'crlf.ts': 'export const a = 1;\r\nexport const b = 2;\r\n',
      'empty.ts': '',
    });
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    const s = index.stats();
    assert.equal(s.skipped.binary, 2);
    assert.equal(s.skipped.minified, 1);
    assert.ok(index.chunksOf('utf16.ts').some((c) => c.uses.includes('wide')));
    assert.equal(index.chunksOf('crlf.ts')[0].endLine, 2);
    assert.deepEqual(index.chunksOf('empty.ts'), []);
  });

  it('persists: a warm start of an unchanged workspace re-reads no file contents', async () => {
    const w = ws(SAMPLE_PROJECT);
    const cacheDir = join(w.root, '.cache-test');
    // An index left by an older version of the extension is replaced, not kept beside the new one.
    const old = indexCachePath(cacheDir, w.root, 'o200k_base').replace(`index-v${INDEX_CACHE_VERSION}-`, `index-v${INDEX_CACHE_VERSION - 1}-`);
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(old, '{}');
    const cold = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', cacheDir, exclude: ['.cache-test/'] });
    assert.ok(!existsSync(old));
    assert.equal(cold.stats().filesRead, 4);
    const warm = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', cacheDir, exclude: ['.cache-test/'] });
    assert.equal(warm.stats().filesRead, 0);
    assert.equal(warm.stats().filesFromCache, 4);
    // Nothing changed, so nothing is written back either.
    const file = indexCachePath(cacheDir, w.root, 'o200k_base');
    const written = statSync(file).mtimeMs;
    await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', cacheDir, exclude: ['.cache-test/'] });
    assert.equal(statSync(file).mtimeMs, written);
    assert.deepEqual(snapshot(warm), snapshot(cold));
  });

  it('rebuilds from a truncated, corrupted or other-version cache without crashing', async () => {
    const w = ws(SAMPLE_PROJECT);
    const cacheDir = join(w.root, '.cache-test');
    const opts = { encoding: 'o200k_base' as const, cacheDir, exclude: ['.cache-test/'] };
    const fresh = snapshot(await WorkspaceIndex.build(w.root, opts));
    const file = indexCachePath(cacheDir, w.root, 'o200k_base');
    const good = readFileSync(file, 'utf8');
    assert.ok(good.includes(`"version":${INDEX_CACHE_VERSION}`));
    const variants = [
      good.slice(0, good.length / 2),
      good.replace('"tokens":', '"tokens":"x",'),
      good.replace('"pieces":{"text":[', '"pieces":{"text":[7,'),
      good.replace(/"pieces":\{"text":\[("[^"]*",?){2}/, '"pieces":{"text":['),
      good.replace(`"version":${INDEX_CACHE_VERSION}`, `"version":${INDEX_CACHE_VERSION - 1}`),
      'null',
      '\u0000\u0001garbage',
      good.replace(/\n\{"terms":\[[^\n]*\n/, '\n{"terms":[],"file":{"path":"src/main.ts","size":1}}\n'),
      good.replace(/\{"end":\d+\}\n$/, ''),
      good.replace(/\{"end":(\d+)\}\n$/, (_, n: string) => `{"end":${Number(n) + 1}}\n`),
      good.slice(0, -1), // no newline after the end line
      `${good}{"end":0}\n`, // something after it
    ];
    for (const v of variants) {
      assert.notEqual(v, good);
      writeFileSync(file, v);
      const idx = await WorkspaceIndex.build(w.root, opts);
      assert.equal(idx.stats().filesRead, 4, 'an untrusted cache is ignored and the files are read');
      assert.deepEqual(snapshot(idx), fresh);
    }
  });

  it('reads the cache line by line across reads of any size, long lines and multi-byte characters included', async () => {
    const w = ws({});
    const file = join(w.root, 'lines.txt');
    const lines = ['{"a":1}', '', 'é'.repeat(50), 'x'.repeat(300), '日本語🚀', '{"end":3}'];
    writeFileSync(file, `${lines.join('\n')}\n`);
    for (const size of [1, 3, 7, 64, 1 << 20]) {
      const r = await LineReader.open(file, size);
      const got: string[] = [];
      for (let l = await r.next(); l !== undefined; l = await r.next()) got.push(l);
      assert.deepEqual(got, lines, `read size ${size}`);
      assert.equal(await r.atEnd(), true);
      await r.close();
    }
    writeFileSync(file, 'one\ntwo'); // the last line has no newline: not a complete line
    const r = await LineReader.open(file, 2);
    assert.equal(await r.next(), 'one');
    assert.equal(await r.atEnd(), false);
    assert.equal(await r.next(), undefined);
    await r.close();
  });

  it('an edit re-counts only the chunks whose text changed', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} of some text with tokens`);
    const w = ws({ 'notes.txt': lines.join('\n') });
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    const before = index.tokens.misses;
    lines[250] = 'an edited line';
    await index.updateFile('notes.txt', lines.join('\n'));
    const recounted = index.tokens.misses - before;
    assert.ok(recounted >= 1 && recounted <= 2, `recounted ${recounted} chunks`);
  });

  it('resolves relative imports into an import graph', async () => {
    const w = ws(SAMPLE_PROJECT);
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    // The import graph needs the syntax layer's import extraction; without it, there are no edges.
    assert.deepEqual(index.importsOf('src/main.ts'), []);
  });

  it('lists each chunk that defines a name once, through edits, re-indexing and removal', async () => {
    const w = ws({ 'a.ts': 'export const shared = 1;\n', 'b.ts': 'export const shared = 2;\n', 'c.ts': 'export const shared = 3;\n' });
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    const definers = () => index.definitionsOf('shared').map((c) => c.path).sort();
    assert.deepEqual(definers(), ['a.ts', 'b.ts', 'c.ts']);
    await index.updateFile('b.ts', 'export const shared = 22;\nexport function shared2() {}\n');
    await index.updateFile('b.ts', 'export const shared = 222;\n');
    await index.updateFile('a.ts', 'export const other = 1;\n');
    assert.deepEqual(definers(), ['b.ts', 'c.ts']);
    await index.updateFile('a.ts', 'export const shared = 1;\n');
    assert.deepEqual(definers(), ['a.ts', 'b.ts', 'c.ts']);
    index.removeFile('c.ts');
    assert.deepEqual(definers(), ['a.ts', 'b.ts']);
  });

  it('lists every chunk of a file that defines a name, in line order, and no more than asked for', async () => {
    const filler = Array.from({ length: 300 }, (_, i) => `const filler${i} = ${i};`).join('\n');
    const w = ws({ 'a.ts': `export function dup() {}\n${filler}\nexport function dup2() {}\nfunction dup() {}\n`, 'b.ts': 'export const dup = 1;\n' });
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    const all = index.definitionsOf('dup');
    assert.deepEqual(all.map((c) => c.path), ['a.ts', 'a.ts', 'b.ts']);
    assert.ok(all[0].endLine < all[1].startLine, 'two chunks of a.ts, in line order');
    assert.ok(all.every((c) => c.defines.includes('dup')));
    assert.deepEqual(index.definitionsOf('dup', 2).map((c) => c.id), all.slice(0, 2).map((c) => c.id));
    index.removeFile('a.ts');
    assert.deepEqual(index.definitionsOf('dup').map((c) => c.path), ['b.ts']);
  });

  it('incremental updates equal a fresh full index after random edits, creates, deletes and renames', async () => {
    const runs = Math.max(1, Math.floor(fuzzRuns(3)));
    for (let run = 0; run < runs; run++) {
      const r = rng(1000 + run);
      const w = ws(SAMPLE_PROJECT);
      const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
      const names = () => [...index.files()];
      for (let step = 0; step < 60; step++) {
        const op = r();
        const files = names();
        const pick = files[Math.floor(r() * files.length)];
        if (op < 0.4 && pick) {
          const text = readFileSync(join(w.root, pick), 'utf8').split('\n');
          text.splice(Math.floor(r() * text.length), r() < 0.5 ? 1 : 0, `export function gen${step}() { return ${step}; }`);
          writeFileSync(join(w.root, pick), text.join('\n'));
          await index.updateFile(pick);
        } else if (op < 0.6) {
          const p = `gen/f${step}.ts`;
          mkdirSync(join(w.root, 'gen'), { recursive: true });
          writeFileSync(join(w.root, p), `export const v${step} = ${step};\n`.repeat(1 + Math.floor(r() * 80)));
          await index.updateFile(p);
        } else if (op < 0.75 && pick) {
          unlinkSync(join(w.root, pick));
          index.removeFile(pick);
        } else if (op < 0.9 && pick) {
          const to = `moved/m${step}-${pick.split('/').pop()}`;
          mkdirSync(join(w.root, 'moved'), { recursive: true });
          renameSync(join(w.root, pick), join(w.root, to));
          await index.renameFile(pick, to);
        } else {
          const p = `node_modules/x${step}.js`;
          mkdirSync(join(w.root, 'node_modules'), { recursive: true });
          writeFileSync(join(w.root, p), 'ignored');
          await index.updateFile(p);
        }
      }
      const fresh = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
      assert.deepEqual(snapshot(index), snapshot(fresh));
      // Totals are kept as records come and go: they match a recount and the fresh index.
      const totals = (i: WorkspaceIndex) => ({ files: i.stats().files, chunks: i.stats().chunks, tokens: i.stats().tokens, bytes: i.stats().bytes });
      const all = [...index.allChunks()];
      assert.deepEqual(totals(index), { files: index.fileCount(), chunks: all.length, tokens: all.reduce((n, c) => n + c.tokens, 0), bytes: totals(fresh).bytes });
      assert.deepEqual(totals(index), totals(fresh));
    }
  });

  it('counts unreadable files instead of failing', { skip: process.getuid?.() === 0 ? 'root can read everything' : false }, async () => {
    const w = ws({ 'locked.ts': 'x' });
    chmodSync(join(w.root, 'locked.ts'), 0);
    const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base' });
    assert.equal(index.stats().skipped.unreadable, 1);
    rmSync(join(w.root, 'locked.ts'), { force: true });
  });
});
