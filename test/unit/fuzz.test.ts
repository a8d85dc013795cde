// Fuzz tests with fixed seeds: random bytes through the decoder and the reader,
// random and garbage text through the chunker (line windows and tree-sitter, in
// every grammar language), random mutations of a valid cache file through the
// cache loader, random file trees (odd names, symlinks, garbage .gitignore) through
// the scanner. `npm run fuzz` runs many more cases (CONTEXT_BUDGET_FUZZ_RUNS).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { chunkFile, DEFAULT_CHUNK_OPTIONS, splitLines } from '../../src/core/chunk/chunker';
import { SyntaxChunker } from '../../src/core/chunk/syntax';
import { indexCachePath, loadIndexCache } from '../../src/core/index/cache';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { decodeSource, readSource } from '../../src/core/scan/readSource';
import { scanWorkspace } from '../../src/core/scan/scanner';
import { TokenCache } from '../../src/core/tokens/tokenCache';
import { loadTokenizer, type Tokenizer } from '../../src/core/tokens/tokenizer';
import { fuzzRuns, rng } from '../helpers/fakeIndex';
import { makeWorkspace, SAMPLE_PROJECT } from '../helpers/workspace';

const SEED = 20240607;
const tmp = mkdtempSync(join(tmpdir(), 'cb-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let tok: Tokenizer;
let syntax: SyntaxChunker | undefined;
before(async () => {
  tok = await loadTokenizer('o200k_base');
  syntax = await SyntaxChunker.create().catch(() => undefined);
});

/** Bytes that are often interesting: BOMs, NULs, broken UTF-8, line ends. */
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.tuple(fc.constantFrom([0xff, 0xfe], [0xfe, 0xff], [0xef, 0xbb, 0xbf], []), fc.uint8Array({ maxLength: 512 })).map(([bom, b]) => Uint8Array.from([...bom, ...b])),
  fc.array(fc.constantFrom(0x0a, 0x0d, 0x20, 0x61, 0x00, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0x7b, 0x7d), { maxLength: 1024 }).map((a) => Uint8Array.from(a)),
);

describe('fuzz: decoder and reader', () => {
  it('decodeSource never throws and returns a string or undefined', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const t = decodeSource(bytes);
        assert.ok(t === undefined || typeof t === 'string');
        if (t !== undefined) assert.ok(t.charCodeAt(0) !== 0xfeff, 'BOM stripped');
      }),
      { seed: SEED, numRuns: fuzzRuns(300) },
    );
  });

  it('readSource never throws; text results are what decodeSource gives', async () => {
    await fc.assert(
      fc.asyncProperty(bytesArb, fc.integer({ min: 0, max: 4096 }), async (bytes, max) => {
        const p = join(tmp, 'r.bin');
        writeFileSync(p, bytes);
        const res = await readSource(p, max);
        if ('text' in res) {
          assert.ok(bytes.length <= max);
          assert.equal(res.text, decodeSource(bytes));
          assert.equal(res.size, bytes.length);
        } else {
          assert.ok(['binary', 'too-large', 'minified'].includes(res.skip), res.skip);
        }
      }),
      { seed: SEED, numRuns: fuzzRuns(150) },
    );
  });
});

/** Garbage that looks a bit like code: brackets, quotes, comments, keywords, unicode, odd line ends. */
function garbageText(r: () => number, n: number): string {
  const atoms = ['{', '}', '(', ')', '[', ']', '"', "'", '`', '/*', '*/', '//', '#', '\n', '\r\n', '\r', '\t', '  ', 'class ', 'def ', 'fn ', 'func ', 'function ', 'import ', 'from ', 'package ', 'using ', '#include <', '>', ';', ':', '=>', 'x', 'Foo', 'é', '😀', '\u0000', '\ud800', '\\', '<div>', '</', '$', '@', 'struct ', 'impl ', 'pub ', 'async ', 'await ', 'return '];
  let s = '';
  for (let i = 0; i < n; i++) s += atoms[Math.floor(r() * atoms.length)];
  return s;
}

const LANGS: Record<string, string> = {
  typescript: 'a.ts', typescriptreact: 'a.tsx', javascript: 'a.js', python: 'a.py', go: 'a.go', java: 'A.java', rust: 'a.rs', c: 'a.c', cpp: 'a.cpp', csharp: 'A.cs', plaintext: 'a.txt', markdown: 'a.md',
};

describe('fuzz: chunker', () => {
  it('chunkFile (with and without tree-sitter, every language) never throws; spans are in range and counts exact', async () => {
    const runs = Math.max(12, Math.floor(fuzzRuns(12) / 10)); // 12 languages × runs × 2 chunkers
    const tokens = new TokenCache(tok);
    for (const [language, path] of Object.entries(LANGS)) {
      if (syntax?.supports(language)) await syntax.ensureLanguage(language);
      for (let run = 0; run < runs; run++) {
        const r = rng(SEED + run * 31 + language.length);
        const text = garbageText(r, 20 + Math.floor(r() * 600));
        const nLines = splitLines(text).length;
        for (const withSyntax of [false, true]) {
          const chunks = chunkFile(path, text, language, tokens, { ...DEFAULT_CHUNK_OPTIONS, maxChunkTokens: 16 + Math.floor(r() * 200) }, withSyntax ? syntax : undefined);
          for (const c of chunks) {
            assert.ok(c.startLine >= 1 && c.endLine <= nLines && c.startLine <= c.endLine, `${language} ${c.id} of ${nLines}`);
            assert.equal(c.tokens, tok.count(splitLines(text).slice(c.startLine - 1, c.endLine).join('\n')), c.id);
          }
        }
      }
    }
  });
});

describe('fuzz: cache loader', () => {
  const w = makeWorkspace(SAMPLE_PROJECT);
  after(() => w.cleanup());
  const cacheDir = join(w.root, '.cache');
  let good = '';
  const chunkOptions = DEFAULT_CHUNK_OPTIONS;
  before(async () => {
    await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', cacheDir, exclude: ['.cache/'], workers: 0 });
    good = readFileSync(indexCachePath(cacheDir, w.root, 'o200k_base'), 'utf8');
  });

  /** A loaded cache is valid: every record well-formed (the loader's own checks, asserted from outside). */
  function assertValid(res: Awaited<ReturnType<typeof loadIndexCache>>): void {
    if (res === undefined) return;
    for (const [path, f] of res.files) {
      assert.equal(f.path, path);
      assert.ok(typeof f.size === 'number' && Number.isFinite(f.size));
      assert.ok(Array.isArray(f.chunks) && Array.isArray(f.imports));
      for (const c of f.chunks) {
        assert.equal(c.path, path);
        assert.ok(Number.isFinite(c.tokens) && c.tokens >= 0 && c.startLine >= 1 && c.endLine >= c.startLine);
        assert.ok(Array.isArray(c.uses) && Array.isArray(c.defines));
      }
    }
  }

  /** JSON-level mutations: replace, delete or retype one value somewhere in the tree. */
  function mutateJson(value: unknown, r: () => number): unknown {
    const junk = [null, 0, -1, 1e309, 'x', '', [], {}, true, '__proto__', { __proto__: { polluted: 1 } }, [null], NaN];
    if (Array.isArray(value) && value.length && r() < 0.8) {
      const copy = [...value];
      const i = Math.floor(r() * copy.length);
      if (r() < 0.15) copy.splice(i, 1);
      else if (r() < 0.15) copy.push(copy[i]);
      else copy[i] = mutateJson(copy[i], r);
      return copy;
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && r() < 0.85) {
      const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      const keys = Object.keys(copy);
      const k = keys[Math.floor(r() * keys.length)];
      if (k === undefined) return copy;
      if (r() < 0.15) delete copy[k];
      else copy[k] = mutateJson(copy[k], r);
      return copy;
    }
    return junk[Math.floor(r() * junk.length)];
  }

  it('loadIndexCache returns undefined or a valid cache for byte- and JSON-level mutations, never throws', async () => {
    const file = indexCachePath(cacheDir, w.root, 'o200k_base');
    // One JSON value per line: mutations act on the list of lines' values.
    const parsed = good.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    assertValid(await loadIndexCache(cacheDir, w.root, 'o200k_base', chunkOptions));
    assert.ok(await loadIndexCache(cacheDir, w.root, 'o200k_base', chunkOptions), 'the good cache loads');
    const runs = fuzzRuns(300);
    let loaded = 0;
    for (let run = 0; run < runs; run++) {
      const r = rng(SEED + run);
      let text: string;
      const kind = r();
      if (kind < 0.35) {
        const b = Buffer.from(good);
        for (let k = 0, n = 1 + Math.floor(r() * 8); k < n; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        text = b.toString('latin1');
      } else if (kind < 0.5) {
        text = good.slice(0, Math.floor(r() * good.length));
      } else {
        let v: unknown = parsed;
        for (let k = 0, n = 1 + Math.floor(r() * 3); k < n; k++) v = mutateJson(v, r);
        text = Array.isArray(v) ? `${v.map((x) => JSON.stringify(x) ?? 'undefined').join('\n')}\n` : (JSON.stringify(v) ?? 'undefined');
      }
      writeFileSync(file, text);
      const res = await loadIndexCache(cacheDir, w.root, 'o200k_base', chunkOptions);
      assertValid(res);
      if (res) loaded++;
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    }
    assert.ok(loaded < runs, 'mutations are rejected at least sometimes');
  });
});

describe('fuzz: scanner over random file trees', () => {
  const NAME_PARTS = ['a', 'B', ' ', 'é', '名', '😀', '.', '..x', '-', '#', '!', '*', '?', '[', ']', '\\', '\n', '\t', "'", '"', 'node_modules', '.git', 'src', 'x.ts', 'y.py', 'z.min.js'];
  const GITIGNORE_LINES = ['*', '!*', '*.ts', '!x.ts', '/src/', '**/', '\\', '[', '[z-a]', '!', '#', '**/**/**', 'a/**/b', '/', '.', '..', '...', '\u0000', ' ', '\\!x', '?', '[!a]', '{a,b}'];

  function randomName(r: () => number): string {
    let s = '';
    for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) s += NAME_PARTS[Math.floor(r() * NAME_PARTS.length)];
    return s === '.' || s === '..' || s.includes('/') || s.includes('\u0000') ? 'n' : s;
  }

  it('never throws; lists only regular files inside the root; no link is followed out', async () => {
    const runs = Math.max(25, Math.floor(fuzzRuns(25) / 20)); // each run writes a tree to disk
    for (let run = 0; run < runs; run++) {
      const r = rng(SEED * 7 + run);
      const root = mkdtempSync(join(tmp, 'tree-'));
      const outside = mkdtempSync(join(tmp, 'out-'));
      writeFileSync(join(outside, 'secret.ts'), 'x');
      const dirs = [''];
      for (let i = 0, n = 5 + Math.floor(r() * 40); i < n; i++) {
        const parent = dirs[Math.floor(r() * dirs.length)];
        const name = randomName(r);
        const rel = parent ? `${parent}/${name}` : name;
        const abs = join(root, rel);
        try {
          const k = r();
          if (k < 0.25) {
            mkdirSync(abs, { recursive: true });
            dirs.push(rel);
          } else if (k < 0.75) writeFileSync(abs, garbageText(r, Math.floor(r() * 50)));
          else if (k < 0.85) writeFileSync(join(root, parent, '.gitignore'), Array.from({ length: 1 + Math.floor(r() * 5) }, () => GITIGNORE_LINES[Math.floor(r() * GITIGNORE_LINES.length)]).join('\n'));
          else {
            const targets = ['..', '.', outside, join(outside, 'secret.ts'), 'missing', root, join(root, dirs[Math.floor(r() * dirs.length)])];
            symlinkSync(targets[Math.floor(r() * targets.length)], abs);
          }
        } catch {
          /* name clash with an existing entry: fine */
        }
      }
      const exclude = r() < 0.3 ? [GITIGNORE_LINES[Math.floor(r() * GITIGNORE_LINES.length)]] : [];
      const res = await scanWorkspace(root, { exclude });
      const rootReal = realpathSync(root);
      for (const f of res.files) {
        const real = realpathSync(f.abs);
        assert.ok(real === rootReal || real.startsWith(rootReal + sep), `${JSON.stringify(f.path)} → ${real}`);
        assert.ok(statSync(f.abs).isFile());
        assert.ok(!f.path.startsWith('/') && !f.path.split('/').includes('..'));
      }
      for (const v of Object.values(res.skipped)) assert.ok(Number.isInteger(v) && (v as number) > 0);
    }
  });
});
