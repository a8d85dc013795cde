import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileLookup, resolveImport } from '../../src/core/index/imports';

function lookup(paths: string[]): FileLookup {
  const files = new FileLookup();
  for (const p of paths) files.add(p);
  return files;
}

describe('import resolution (JavaScript and TypeScript)', () => {
  const files = lookup([
    'src/main.ts',
    'src/util.ts',
    'src/esm.ts',
    'src/both.ts',
    'src/both/index.ts',
    'src/folder/index.tsx',
    'src/types.d.ts',
    'src/data.json',
    'src/v1.2.ts',
    'lib/old.js',
    'src/index.ts',
  ]);
  const resolve = (spec: string, from = 'src/main.ts', language = 'typescript') => resolveImport(from, spec, language, files);

  it('resolves a relative path by extension, in the order TypeScript tries them', () => {
    assert.deepEqual(resolve('./util'), ['src/util.ts']);
    assert.deepEqual(resolve('./types'), ['src/types.d.ts']);
    assert.deepEqual(resolve('../lib/old'), ['lib/old.js']);
    assert.deepEqual(resolve('./v1.2'), ['src/v1.2.ts']);
  });

  it('maps an ES-module .js specifier to its .ts source, and takes an exact file as it is', () => {
    assert.deepEqual(resolve('./esm.js'), ['src/esm.ts']);
    assert.deepEqual(resolve('./data.json'), ['src/data.json']);
  });

  it('resolves a folder to its index file; a file of the same name comes first', () => {
    assert.deepEqual(resolve('./folder'), ['src/folder/index.tsx']);
    assert.deepEqual(resolve('./both'), ['src/both.ts']);
    assert.deepEqual(resolve('./', 'src/main.ts', 'javascript'), ['src/index.ts']);
    assert.deepEqual(resolve('..', 'src/folder/index.tsx'), ['src/index.ts']);
    assert.deepEqual(resolve('../', 'src/folder/index.tsx'), ['src/index.ts']);
    assert.deepEqual(resolveImport('top.ts', './', 'typescript', lookup(['top.ts', 'index.js'])), ['index.js']);
  });

  it('resolves nothing for packages and for paths no indexed file has', () => {
    assert.deepEqual(resolve('react'), []);
    assert.deepEqual(resolve('./missing'), []);
    assert.deepEqual(resolve('./util/deep'), []);
    assert.deepEqual(resolve('../../outside/util'), []);
  });

  it('follows the set of files as they come and go', () => {
    const live = lookup(['a/main.ts']);
    assert.deepEqual(resolveImport('a/main.ts', './late', 'typescript', live), []);
    live.add('a/late.tsx');
    assert.deepEqual(resolveImport('a/main.ts', './late', 'typescript', live), ['a/late.tsx']);
    live.delete('a/late.tsx');
    live.add('a/late/index.js');
    assert.deepEqual(resolveImport('a/main.ts', './late', 'typescript', live), ['a/late/index.js']);
    live.delete('a/late/index.js');
    assert.deepEqual(resolveImport('a/main.ts', './late', 'typescript', live), []);
  });
});
