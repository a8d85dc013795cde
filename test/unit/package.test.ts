// The VSIX file list is a whitelist (.vscodeignore). This test asks vsce itself what
// it would package (`vsce ls --no-dependencies`, as `npm run package` does) and
// checks it against the whitelist, then packages for real into a temp folder to
// check the size target and that the archive holds exactly that list.
// Needs dist/ (npm test builds first).
//
// vsce globs and pattern-matches every file under the project (30 ms per thousand
// files, and local caches such as test/e2e/.host hold tens of thousands), so the
// test runs vsce on a staged copy of what a clean clone holds after the build:
// the files git knows (tracked or not ignored) plus dist/, hard-linked into a temp
// folder. The e2e suite compares the real `npm run package` output with `vsce ls`
// on the working tree itself.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const MAX_VSIX_BYTES = 40 * 1024 * 1024;
const ORT_BIN = 'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/';

/** Files that must ship. */
const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'media/icon.png',
  'dist/extension.js',
  'dist/indexWorker.js',
  'dist/bpeWorker.js',
  'dist/modelWorker.js',
  'dist/engineProcess.js',
  'dist/tiktoken_bg.wasm',
  'dist/encoders/o200k_base.json',
  'dist/encoders/cl100k_base.json',
  'dist/node_modules/onnxruntime-node/package.json',
  'dist/node_modules/onnxruntime-node/dist/index.js',
  'dist/node_modules/onnxruntime-common/package.json',
  `${ORT_BIN}onnxruntime_binding.node`,
  `${ORT_BIN}libonnxruntime.so.1`,
];

/** Every shipped file must match one of these (mirrors .vscodeignore). */
const WHITELIST: RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^CHANGELOG\.md$/,
  /^media\/icon\.png$/,
  /^media\/[^/]+\.(svg|css)$/,
  /^dist\/(?!(bench|eval|train|build-model|load|soak)\.js$)[^/]+\.js$/,
  /^dist\/[^/]+\.wasm$/,
  /^dist\/panel\.css$/,
  /^dist\/encoders\/[^/]+\.json$/,
  /^dist\/grammars\/[^/]+\.wasm$/,
  /^dist\/model\/.+$/,
  /^dist\/node_modules\/onnxruntime-node\/package\.json$/,
  /^dist\/node_modules\/onnxruntime-node\/dist\/[^/]+\.js$/,
  /^dist\/node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/[^/]+$/,
  /^dist\/node_modules\/onnxruntime-common\/package\.json$/,
  /^dist\/node_modules\/onnxruntime-common\/dist\/cjs\/[^/]+\.(js|json)$/,
];

const FORBIDDEN: [RegExp, string][] = [
  [/^(src|test|webview|scripts|bench|\.ci|\.vscode|node_modules)\//, 'source, tests or tooling'],
  [/\.map$/, 'source map'],
  [/\.d\.ts$/, 'type declaration'],
  [/\.tsx?$/, 'TypeScript source'],
  [/\.vsix$/, 'nested VSIX'],
  [/^dist\/(bench|eval|train|build-model|load|soak)\.js$/, 'dev tool bundle'],
  [/\/napi-v6\/(darwin|win32)\/|\/linux\/arm64\//, 'non-linux-x64 binary'],
];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

let staged: string | undefined;
/** A temp folder with what a clean clone holds after the build (see the header). */
function stage(): string {
  if (staged) return staged;
  let files: string[];
  try {
    const out = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    files = out.split('\0').filter(Boolean);
  } catch {
    staged = root; // not a git checkout: use the tree as it is
    return staged;
  }
  files.push(...walk(join(root, 'dist')).map((p) => relative(root, p)));
  const dir = mkdtempSync(join(tmpdir(), 'cb-stage-'));
  for (const rel of new Set(files)) {
    const from = join(root, rel);
    if (!existsSync(from) || statSync(from).isDirectory()) continue; // deleted, or a submodule
    const to = join(dir, rel);
    mkdirSync(dirname(to), { recursive: true });
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
    }
  }
  staged = dir;
  return dir;
}

after(() => {
  if (staged && staged !== root) rmSync(staged, { recursive: true, force: true });
});

let listed: string[] | undefined;
function vsceLs(): string[] {
  if (listed) return listed;
  let out: string;
  try {
    out = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: stage(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    assert.fail(`vsce ls failed (is package.json a valid manifest?):\n${err.stderr ?? ''}${err.stdout ?? ''}`);
  }
  listed = out.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).sort();
  return listed;
}

const distReady = existsSync(join(root, 'dist', 'extension.js'));
const skip = distReady ? false : 'dist/extension.js missing: run `node scripts/build.mjs` first';

test('vsce ls: the file list is the whitelist', { skip }, () => {
  const files = vsceLs();
  for (const f of REQUIRED) assert.ok(files.includes(f), `required file not packaged: ${f}`);
  for (const f of files) {
    for (const [re, what] of FORBIDDEN) assert.ok(!re.test(f), `${what} in the VSIX: ${f}`);
    assert.ok(WHITELIST.some((re) => re.test(f)), `file outside the whitelist in the VSIX: ${f}`);
  }
  const binaries = files.filter((f) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(f));
  assert.deepEqual(binaries.filter((f) => !f.startsWith(ORT_BIN)), [], 'native binaries outside linux-x64');
});

test('check-package passes on the built dist/', { skip }, () => {
  const out = execFileSync(process.execPath, [join(root, 'scripts', 'check-package.mjs')], { cwd: root, encoding: 'utf8' });
  assert.match(out, /check-package: OK/);
});

test('check-package names each missing runtime file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-check-'));
  try {
    mkdirSync(join(dir, 'dist', 'encoders'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'extension.js'), '//');
    writeFileSync(join(dir, 'dist', 'encoders', 'o200k_base.json'), '{}');
    const res = spawnSync(process.execPath, [join(root, 'scripts', 'check-package.mjs'), '--root', dir], { encoding: 'utf8' });
    assert.equal(res.status, 1);
    for (const f of ['onnxruntime_binding.node', 'libonnxruntime.so.1', 'dist/tiktoken_bg.wasm', 'dist/encoders/cl100k_base.json']) {
      assert.ok(res.stderr.includes(f), `no message about ${f}:\n${res.stderr}`);
    }
    assert.ok(!res.stderr.includes('o200k_base.json'), 'present encoder reported missing');
    assert.ok(!/\n\s+at /.test(res.stderr), 'stack trace instead of a message');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vsce package: linux-x64 VSIX within 40 MB holding exactly the listed files', { skip, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-vsix-'));
  try {
    const vsix = join(dir, 'test.vsix');
    execFileSync(process.execPath, [vsce, 'package', '--target', 'linux-x64', '--no-dependencies', '-o', vsix], {
      cwd: stage(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const size = statSync(vsix).size;
    assert.ok(size <= MAX_VSIX_BYTES, `VSIX is ${(size / 1048576).toFixed(1)} MB > 40 MB`);
    const entries = zipEntries(vsix);
    // vsce stores README.md as readme.md, LICENSE as LICENSE.txt, CHANGELOG.md as changelog.md.
    const renamed: Record<string, string> = { 'readme.md': 'README.md', 'LICENSE.txt': 'LICENSE', 'changelog.md': 'CHANGELOG.md' };
    const packaged = entries
      .filter((e) => e.startsWith('extension/'))
      .map((e) => e.slice('extension/'.length))
      .map((e) => renamed[e] ?? e)
      .sort();
    assert.deepEqual(packaged, vsceLs());
    assert.ok(entries.includes('extension.vsixmanifest'), 'extension.vsixmanifest missing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Names in a zip's central directory (no unzip dependency). */
function zipEntries(file: string): string[] {
  const buf = readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'bad central directory');
    const n = buf.readUInt16LE(p + 28), m = buf.readUInt16LE(p + 30), k = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + n));
    p += 46 + n + m + k;
  }
  return names;
}
