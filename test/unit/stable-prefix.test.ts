// The stable layer through the whole engine: cursor moves inside one file keep
// the head of the packed prompt byte-identical (what a provider's prompt cache
// reuses), and turning the layer off brings back cursor-only packing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContextEngine, MIN_STABLE_TOKENS, stableLayerTokens } from '../../src/core/engine';
import { prefixReuse } from '../../src/core/pack/prefixReuse';
import { emptySignals } from '../../src/core/types';
import { makeWorkspace } from '../helpers/workspace';

// A cursor file that imports from a dozen modules and uses each in its own stretch of lines.
function project(): Record<string, string> {
  const files: Record<string, string> = {};
  const main: string[] = [];
  for (let m = 0; m < 12; m++) {
    main.push(`import { helper${m}, Shape${m} } from './lib/module${m}';`);
    const lib: string[] = [];
    for (let f = 0; f < 6; f++) {
      lib.push(`export function ${f === 0 ? `helper${m}` : `inner${m}x${f}`}(value: number, label: string): string {`);
      for (let k = 0; k < 8; k++) lib.push(`  const step${k} = value * ${k + f} + label.length; // module ${m} part ${f}`);
      lib.push('  return String(step7);', '}', '');
    }
    lib.push(`export interface Shape${m} { width: number; height: number; name: string }`);
    files[`src/lib/module${m}.ts`] = lib.join('\n');
  }
  main.push('');
  for (let m = 0; m < 12; m++) {
    main.push(`export function use${m}(shape: Shape${m}): string {`);
    for (let k = 0; k < 20; k++) main.push(`  const r${k} = helper${m}(shape.width + ${k}, shape.name);`);
    main.push('  return r19;', '}', '');
  }
  files['src/main.ts'] = main.join('\n');
  return files;
}

const w = makeWorkspace(project());
let engine: ContextEngine;
before(async () => {
  engine = await ContextEngine.open({ root: w.root, settings: { budget: 4000 }, index: { syntax: null }, ranker: { device: 'cpu' } });
  await engine.refresh();
});
after(async () => {
  await engine.dispose();
  w.cleanup();
});

describe('stable prompt prefix', () => {
  it('keeps the stable layer, sent first, byte-identical across cursor moves in a file', async () => {
    const tokenizer = engine.index.tokens.tokenizer;
    let prev: { text: string; stableIds: string[]; stableText: string } | undefined;
    let reused = 0;
    for (let line = 30; line <= 250; line += 10) {
      const { report, prompt } = await engine.compute({ path: 'src/main.ts', line, column: 0 }, emptySignals());
      const stableIds = report.items.filter((i) => i.reason === 'stable').map((i) => i.id).sort();
      assert.ok(stableIds.length > 0, 'the layer has chunks');
      const stableBlocks = prompt.blocks.filter((b) => b.stable);
      assert.deepEqual(prompt.blocks.slice(0, stableBlocks.length), stableBlocks, 'stable blocks come first');
      const stableText = prompt.text.slice(0, prompt.text.indexOf(`### ${prompt.blocks[stableBlocks.length]?.path ?? 'src/main.ts'}:`));
      assert.ok(stableText.length > 0);
      assert.ok(prompt.tokens <= report.budget);
      if (prev) {
        assert.deepEqual(stableIds, prev.stableIds);
        assert.equal(stableText, prev.stableText);
        const r = prefixReuse(prev.text, prompt.text, tokenizer);
        assert.ok(r.reusedTokens >= tokenizer.count(stableText) - 1, `reused ${r.reusedTokens} tokens at line ${line}`);
        reused += r.reusedTokens;
      }
      prev = { text: prompt.text, stableIds, stableText };
    }
    assert.ok(reused > 0);
  });

  it('fills the layer from the file-level ranking within its share of the snippet budget', async () => {
    const { report } = await engine.compute({ path: 'src/main.ts', line: 100, column: 0 }, emptySignals());
    const stableTokens = report.items.filter((i) => i.reason === 'stable').reduce((s, i) => s + i.tokens, 0);
    assert.ok(stableTokens > 0 && stableTokens <= stableLayerTokens(engine.settings, report.budget));
    // What the layer holds: definitions of the names the file imports.
    assert.ok(report.items.some((i) => i.reason === 'stable' && i.path.startsWith('src/lib/module')));
  });

  it('is off at share 0: every kept snippet is then the cursor ranking\'s choice', async () => {
    assert.ok(engine.updateSettings({ stableShare: 0 }));
    try {
      const { report } = await engine.compute({ path: 'src/main.ts', line: 100, column: 0 }, emptySignals());
      assert.ok(report.items.some((i) => i.selected));
      assert.ok(report.items.every((i) => i.reason !== 'stable'));
    } finally {
      engine.updateSettings({ stableShare: 0.5 });
    }
  });
});

describe('stableLayerTokens', () => {
  it('takes its share of what the cursor window\'s nominal shares leave, none below the smallest worth caching, and treats bad shares as 0 or 1', () => {
    const s = { prefixShare: 0.3, suffixShare: 0.15 };
    assert.equal(stableLayerTokens({ ...s, stableShare: 0.5 }, 8000), 2200);
    assert.equal(stableLayerTokens({ ...s, stableShare: 0.5 }, 4000), 1100);
    assert.equal(stableLayerTokens({ ...s, stableShare: 0.5 }, 3000), 0, `825 tokens < ${MIN_STABLE_TOKENS}`);
    assert.equal(stableLayerTokens({ ...s, stableShare: 0 }, 8000), 0);
    assert.equal(stableLayerTokens({ ...s, stableShare: Number.NaN }, 8000), 0);
    assert.equal(stableLayerTokens({ ...s, stableShare: 7 }, 8000), 4400);
    assert.equal(stableLayerTokens({ prefixShare: 0.6, suffixShare: 0.6, stableShare: 1 }, 8000), 0);
  });
});
