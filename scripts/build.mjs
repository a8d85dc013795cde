// Builds the three bundles (extension, CLI, webview) plus dev tools, and lays the
// runtime assets next to them: the tiktoken WASM and encoder files, the
// onnxruntime-node package with only this platform's binaries, grammars, model.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const nm = (p) => join(root, 'node_modules', p);

// Native and WASM-backed modules stay outside the bundle, loaded from dist/.
const nodeExternals = ['vscode', 'onnxruntime-node'];

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  legalComments: 'none',
};

/** Node entry points: [source, output name]. */
const nodeEntries = [
  ['src/extension/extension.ts', 'extension'],
  ['src/cli/main.ts', 'cli'],
  ['src/core/index/indexWorker.ts', 'indexWorker'],
  ['src/core/tokens/bpeWorker.ts', 'bpeWorker'],
  ['src/core/rank/modelWorker.ts', 'modelWorker'],
  ['src/extension/engineProcess.ts', 'engineProcess'],
];
// Dev tools never ship in the VSIX (.vscodeignore whitelists only the above).
const devEntries = [
  ['bench/bench.ts', 'bench'],
  ['bench/eval.ts', 'eval'],
  ['scripts/train.ts', 'train'],
  ['scripts/build-model.ts', 'build-model'],
  ['bench/load.ts', 'load'],
  ['bench/soak.ts', 'soak'],
];

function copyAssets() {
  mkdirSync(join(dist, 'encoders'), { recursive: true });
  cpSync(nm('tiktoken/tiktoken_bg.wasm'), join(dist, 'tiktoken_bg.wasm'));
  for (const enc of ['o200k_base', 'cl100k_base']) {
    cpSync(nm(`tiktoken/encoders/${enc}.json`), join(dist, 'encoders', `${enc}.json`));
  }
  // onnxruntime-node: JS + linux-x64 binaries only (other platforms are ~250 MB).
  const ortOut = join(dist, 'node_modules/onnxruntime-node');
  rmSync(ortOut, { recursive: true, force: true });
  cpSync(nm('onnxruntime-node/package.json'), join(ortOut, 'package.json'));
  for (const f of readdirSync(nm('onnxruntime-node/dist'))) {
    if (f.endsWith('.js')) cpSync(nm(`onnxruntime-node/dist/${f}`), join(ortOut, 'dist', f));
  }
  const bin = `bin/napi-v6/${process.platform}/${process.arch}`;
  cpSync(nm(`onnxruntime-node/${bin}`), join(ortOut, bin), { recursive: true });
  const commonOut = join(dist, 'node_modules/onnxruntime-common');
  rmSync(commonOut, { recursive: true, force: true });
  cpSync(nm('onnxruntime-common/package.json'), join(commonOut, 'package.json'));
  cpSync(nm('onnxruntime-common/dist/cjs'), join(commonOut, 'dist/cjs'), {
    recursive: true,
    filter: (src) => !src.endsWith('.map') && !src.endsWith('.d.ts'),
  });
  // Tree-sitter runtime and the grammars VS Code itself ships.
  mkdirSync(join(dist, 'grammars'), { recursive: true });
  cpSync(nm('web-tree-sitter/web-tree-sitter.wasm'), join(dist, 'web-tree-sitter.wasm'));
  const grammars = ['typescript', 'tsx', 'javascript', 'python', 'go', 'java', 'rust', 'cpp', 'c-sharp'];
  for (const g of grammars) {
    cpSync(nm(`@vscode/tree-sitter-wasm/wasm/tree-sitter-${g}.wasm`), join(dist, 'grammars', `tree-sitter-${g}.wasm`));
  }
  // The ranker's model file is committed under media/model (built by npm run build:model).
  if (existsSync(join(root, 'media/model'))) cpSync(join(root, 'media/model'), join(dist, 'model'), { recursive: true });
  // Webview toolkit: shipped as a file, loaded by the panel's HTML under its CSP.
}

async function main() {
  mkdirSync(dist, { recursive: true });
  const dev = devEntries.filter(([src]) => existsSync(join(root, src)));
  const node = { ...common, platform: 'node', format: 'cjs', target: 'node20', external: nodeExternals };
  const builds = [
    ...[...nodeEntries, ...dev].map(([src, out]) => ({
      ...node,
      entryPoints: [join(root, src)],
      outfile: join(dist, `${out}.js`),
      banner: out === 'cli' || dev.some((d) => d[1] === out) ? { js: '#!/usr/bin/env node' } : undefined,
    })),
    {
      ...common,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      entryPoints: [join(root, 'webview/main.ts')],
      outfile: join(dist, 'webview.js'),
    },
  ];
  copyAssets();
  if (watch) {
    for (const b of builds) await (await esbuild.context(b)).watch();
    console.log('[build] watching');
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
  if (existsSync(join(root, 'webview/panel.css'))) cpSync(join(root, 'webview/panel.css'), join(dist, 'panel.css'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
