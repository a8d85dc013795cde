// Pre-package check (run by `npm run package` after the production build, before
// vsce): the linux-x64 VSIX is useless without the native ONNX Runtime binding, its
// shared library, the tiktoken WASM and the encoder files, and must not carry other
// platforms' binaries. Exits 1 with one line per problem.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// `--root DIR` checks another tree (used by the test with a deliberately broken dist/).
const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? process.argv[rootArg + 1] : join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const ortBin = 'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';

/** [path relative to the repository, what it is] */
export const REQUIRED = [
  ['dist/extension.js', 'extension bundle'],
  ['dist/indexWorker.js', 'index worker bundle'],
  ['dist/bpeWorker.js', 'tokenizer worker bundle'],
  ['dist/modelWorker.js', 'ranker model worker bundle'],
  ['dist/engineProcess.js', 'engine process bundle'],
  ['dist/node_modules/onnxruntime-node/package.json', 'onnxruntime-node package'],
  ['dist/node_modules/onnxruntime-node/dist/index.js', 'onnxruntime-node JS entry'],
  ['dist/node_modules/onnxruntime-common/package.json', 'onnxruntime-common package'],
  [`${ortBin}/onnxruntime_binding.node`, 'ONNX Runtime native binding (linux-x64)'],
  [`${ortBin}/libonnxruntime.so.1`, 'ONNX Runtime shared library (linux-x64)'],
  ['dist/tiktoken_bg.wasm', 'tiktoken WASM'],
  ['dist/encoders/o200k_base.json', 'tiktoken encoder o200k_base'],
  ['dist/encoders/cl100k_base.json', 'tiktoken encoder cl100k_base'],
];

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

export function checkPackage() {
  const problems = [];
  if (!existsSync(dist)) {
    return [`dist/ is missing: run \`node scripts/build.mjs --production\` first`];
  }
  for (const [rel, what] of REQUIRED) {
    const p = join(root, rel);
    if (!existsSync(p)) problems.push(`missing ${what}: ${rel}`);
    else if (statSync(p).size === 0) problems.push(`empty ${what}: ${rel}`);
  }
  // Only linux-x64 native code may ship in a linux-x64 VSIX.
  for (const f of walk(join(dist, 'node_modules'))) {
    const rel = relative(root, f).split('\\').join('/');
    if (/\.(node|so(\.\d+)*|dll|dylib)$/.test(rel) && !rel.startsWith(`${ortBin}/`)) {
      problems.push(`foreign native binary (not linux-x64): ${rel}`);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = checkPackage();
  if (problems.length) {
    console.error('check-package: the VSIX would be broken:');
    for (const p of problems) console.error(`  - ${p}`);
    console.error('Fix: `npm install` (with onnxruntime-node-install=skip in .npmrc), then `node scripts/build.mjs --production`.');
    process.exit(1);
  }
  console.log(`check-package: OK (${REQUIRED.length} required files present, linux-x64 binaries only)`);
}
