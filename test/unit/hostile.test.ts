// The scanner, the index and the CLI over a hostile workspace (built at test time
// by test/fixtures/hostile/generate.ts): nothing throws, nothing hangs, every bad
// file is a counted skip by reason or is handled, the CLI exits 0 with sane JSON.
// Files deleted, truncated or growing while being read are injected by hooking
// fs.promises.open (the module object readSource uses).
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, promises as fsp, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { workerScript } from '../../src/core/index/indexWorkers';
import { WorkspaceIndex } from '../../src/core/index/workspaceIndex';
import { readSource } from '../../src/core/scan/readSource';
import { scanWorkspace } from '../../src/core/scan/scanner';
import { loadTokenizer } from '../../src/core/tokens/tokenizer';
import { generateHostileWorkspace } from '../fixtures/hostile/generate';
import { makeWorkspace } from '../helpers/workspace';

const h = generateHostileWorkspace({ bigLogMB: Number(process.env.CONTEXT_BUDGET_FUZZ_RUNS) > 0 ? 50 : 3 });
after(() => h.cleanup());
const isRoot = process.getuid?.() === 0;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

/** Rejects when `p` takes longer than `ms` (a hang is a failure, not a stuck suite). */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

describe('hostile workspace', { timeout: 120_000 }, () => {
  it('scanner: lists the indexable files, counts each bad entry by reason, follows no link out of the root', async () => {
    const res = await within(20_000, scanWorkspace(h.root), 'scan');
    const paths = new Set(res.files.map((f) => f.path));
    for (const p of h.indexable) assert.ok(paths.has(p), `missing ${JSON.stringify(p)}`);
    assert.ok(paths.has(h.deepFile), 'a 200-level deep file is found');
    for (const p of paths) assert.ok(!p.startsWith('links/outside') && !p.includes('secret.ts') || p === 'locked/secret.ts', p);
    assert.ok(![...paths].some((p) => p.startsWith('links/up/')), 'a link to an ancestor is not walked again');
    assert.equal(res.skipped['outside-root'], 4, 'dir and file links out, /etc/passwd, /dev/zero');
    assert.ok((res.skipped['symlink-loop'] ?? 0) >= 3, 'ancestor loop, self loop, dangling');
    assert.equal(res.skipped['too-large'], 2, 'big log and 2 MB bundle over the default 1 MB limit');
    if (h.fifo) assert.equal(res.skipped.unreadable, 1, 'the FIFO is counted, never opened');
  });

  it('index (in-process): never throws, skips by reason, decodes UTF-16/BOM, chunk texts match their counts', async () => {
    const index = await within(60_000, WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 0 }), 'index');
    const s = index.stats();
    assert.equal(s.complete, true);
    assert.equal(s.skipped.binary, 3, JSON.stringify(s.skipped));
    assert.equal(s.skipped.minified, 1, JSON.stringify(s.skipped));
    for (const p of h.indexable) assert.ok(index.record(p), `not indexed: ${JSON.stringify(p)}`);
    assert.deepEqual(index.chunksOf('empty.ts'), []);
    const tok = await loadTokenizer('o200k_base');
    for (const f of ['enc/utf16le.ts', 'enc/utf16be.ts', 'enc/bom8.ts', 'eol/crlf.ts', 'eol/mixed.py', 'eol/cr-only.txt', 'bad/stray.ts']) {
      for (const c of index.chunksOf(f)) assert.equal(tok.count(index.chunkText(c)), c.tokens, c.id);
    }
    assert.ok(index.chunksOf('enc/utf16be.ts').some((c) => c.uses.includes('twice')));
    assert.ok(!index.chunkText(index.chunksOf('enc/bom8.ts')[0]).startsWith('\ufeff'));
  });

  it('index warm from its cache (no text in memory): UTF-16 and BOM files slice to the counted text', async () => {
    const cacheDir = join(h.outside, 'cache');
    await WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 0, cacheDir });
    const warm = await WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 0, cacheDir });
    assert.equal(warm.stats().filesRead, 0);
    const tok = await loadTokenizer('o200k_base');
    for (const f of ['enc/utf16le.ts', 'enc/utf16be.ts', 'enc/bom8.ts']) {
      for (const c of warm.chunksOf(f)) assert.equal(tok.count(warm.chunkText(c)), c.tokens, c.id);
    }
  });

  it('index: with a large size limit the 2 MB one-line bundle is skipped as minified and the big log is indexed', async () => {
    const index = await within(120_000, WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 0, maxFileSizeKB: 64 * 1024 }), 'index');
    assert.equal(index.stats().skipped.minified, 2);
    assert.ok(index.chunksOf('logs/huge.log').length > 10);
  });

  it('index (worker threads): the same records as in-process', { skip: !workerScript() && 'dist/indexWorker.js not built' }, async () => {
    const a = await within(60_000, WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 0 }), 'index');
    const b = await within(60_000, WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 2 }), 'index');
    // Chunks as plain data: term numbering inside an index depends on the order files arrived.
    const dump = (i: WorkspaceIndex) => [...i.files()].sort().map((f) => [f, JSON.parse(JSON.stringify(i.chunksOf(f)))]);
    assert.deepEqual(dump(b), dump(a));
    assert.deepEqual(b.stats().skipped, a.stats().skipped);
  });

  it('incremental path: a FIFO, a link out, a vanished file and a directory give no record and no hang', async () => {
    const index = await WorkspaceIndex.build(h.root, { encoding: 'o200k_base', workers: 0 });
    if (h.fifo) assert.deepEqual(await within(5000, index.updateFile('pipe.ts'), 'updateFile(FIFO)'), []);
    assert.equal(index.fileText('pipe.ts'), undefined, 'fileText never blocks on a FIFO');
    assert.deepEqual(await within(5000, index.updateFile('no/such/file.ts'), 'updateFile(vanished)'), []);
    assert.deepEqual(await within(5000, index.updateFile('names'), 'updateFile(dir)'), []);
    assert.deepEqual(await within(5000, index.updateFile('links/zero'), 'updateFile(/dev/zero)'), []);
  });

  it('CLI index exits 0 with sane JSON; rank works on odd names and refuses a FIFO with one line', async () => {
    const r = await within(60_000, cli(['index', '--root', h.root, '--no-cache', '--json']), 'cli index');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.ok(j.files >= h.indexable.length && j.chunks > 0 && j.tokens > 0);
    for (const v of Object.values(j.skipped)) assert.ok(Number.isInteger(v) && (v as number) > 0);
    for (const file of ['names/new\nline.ts', 'names/ünïcødé-名前.ts', 'enc/utf16be.ts', 'eol/mixed.py', h.deepFile]) {
      const q = await within(60_000, cli(['rank', '--root', h.root, '--no-cache', '--device', 'cpu', '--json', '--file', file, '--line', '1', '--budget', '800']), 'cli rank');
      assert.equal(q.code, 0, `${JSON.stringify(file)}: ${q.err}`);
      const out = JSON.parse(q.out);
      assert.equal(out.file, file);
      assert.ok(out.totals.promptTokens <= 800);
      assert.ok(!out.chunks.some((c: any) => c.path.startsWith('links/outside') || c.path === 'links/passwd'));
    }
    if (h.fifo) {
      const q = await within(60_000, cli(['rank', '--root', h.root, '--no-cache', '--device', 'cpu', '--json', '--file', 'pipe.ts', '--line', '1']), 'cli rank FIFO');
      assert.equal(q.code, 2);
      assert.equal(q.err.trim().split('\n').length, 1, q.err);
    }
  });

  it('the tokenizer stays fast on pathological runs (200,000 letters, 100,000 spaces)', async () => {
    const tok = await loadTokenizer('o200k_base');
    const t = performance.now();
    const n = tok.count('a'.repeat(200_000)) + tok.count(' '.repeat(100_000) + 'x') + tok.count('漢'.repeat(50_000));
    assert.ok(n > 0);
    assert.ok(performance.now() - t < 10_000, `${Math.round(performance.now() - t)} ms`);
    // Real code is not cut: a 300-char line of code counts as tiktoken counts it.
    const code = 'const total = items.map((item) => item.price * item.quantity).reduce((a, b) => a + b, 0); '.repeat(4);
    assert.equal(tok.count(code), tok.encode(code).length);
  });
});

describe('files changing while being read', () => {
  const w = makeWorkspace({});
  after(() => w.cleanup());
  const origOpen = fsp.open;
  /** Runs `fn` with fs.promises.open hooked: after stat() of `target`, `act` runs. */
  async function withHook<T>(target: string, act: () => void, fn: () => Promise<T>): Promise<T> {
    (fsp as { open: typeof fsp.open }).open = (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await origOpen(...args);
      if (String(args[0]) === target) {
        const stat = handle.stat.bind(handle);
        (handle as { stat: typeof handle.stat }).stat = (async (...a: Parameters<typeof handle.stat>) => {
          const st = await stat(...a);
          act();
          return st;
        }) as typeof handle.stat;
      }
      return handle;
    }) as typeof fsp.open;
    try {
      return await fn();
    } finally {
      (fsp as { open: typeof fsp.open }).open = origOpen;
    }
  }

  it('truncated after stat: what is left is read, no throw', async () => {
    const p = join(w.root, 't.ts');
    writeFileSync(p, 'export const x = 1;\n'.repeat(100));
    const res = await withHook(p, () => truncateSync(p, 25), () => readSource(p, 1 << 20));
    assert.ok('text' in res, JSON.stringify(res));
    assert.equal(res.size, 25);
  });

  it('deleted after open: the open handle still reads it (POSIX), no throw', async () => {
    const p = join(w.root, 'd.ts');
    writeFileSync(p, 'export const y = 2;\n');
    const res = await withHook(p, () => unlinkSync(p), () => readSource(p, 1 << 20));
    assert.ok('text' in res || res.skip === 'vanished', JSON.stringify(res));
  });

  it('growing while read (a log being written): read as of the stat size, not skipped as too large', async () => {
    const p = join(w.root, 'g.log');
    writeFileSync(p, 'line\n'.repeat(100));
    const res = await withHook(p, () => appendFileSync(p, 'more\n'.repeat(1000)), () => readSource(p, 1 << 20));
    assert.ok('text' in res, JSON.stringify(res));
    assert.equal(res.size, 500);
  });

  it(`permission denied is a counted skip (EACCES simulated${isRoot ? ': running as root, where chmod 000 does not block reads' : ''})`, async () => {
    const p = join(w.root, 'locked.ts');
    writeFileSync(p, 'export const z = 3;\n');
    chmodSync(p, 0);
    (fsp as { open: typeof fsp.open }).open = (async (...args: Parameters<typeof fsp.open>) => {
      if (String(args[0]) === p) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return origOpen(...args);
    }) as typeof fsp.open;
    try {
      assert.deepEqual(await readSource(p, 1 << 20), { skip: 'unreadable' });
      const index = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
      assert.equal(index.stats().skipped.unreadable, 1);
      assert.equal(index.record('locked.ts'), undefined);
    } finally {
      (fsp as { open: typeof fsp.open }).open = origOpen;
      chmodSync(p, 0o644);
    }
    // As non-root the real chmod 000 case also runs in index.test.ts; as root it cannot be tested for real.
  });

  it('files deleted and truncated during a full refresh: refresh completes, no record for a vanished file', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `f${i}.ts`);
    for (const n of names) writeFileSync(join(w.root, n), `export const v = ${'1 + '.repeat(200)}1;\n`.repeat(20));
    const index = await WorkspaceIndex.create(w.root, { encoding: 'o200k_base', workers: 0 });
    let i = 0;
    const chaos = setInterval(() => {
      for (let k = 0; k < 5 && i < names.length; k++, i += 2) {
        try {
          if (i % 4 === 0) unlinkSync(join(w.root, names[i]));
          else truncateSync(join(w.root, names[i]), 7);
        } catch {
          /* already gone */
        }
      }
    }, 1);
    try {
      const stats = await within(60_000, index.refresh(), 'refresh under churn');
      assert.equal(stats.complete, true);
    } finally {
      clearInterval(chaos);
    }
    await index.refresh(); // settles
    const fresh = await WorkspaceIndex.build(w.root, { encoding: 'o200k_base', workers: 0 });
    assert.deepEqual([...index.files()].sort(), [...fresh.files()].sort());
    for (const f of fresh.files()) assert.deepEqual(index.chunksOf(f), fresh.chunksOf(f), f);
  });
});
