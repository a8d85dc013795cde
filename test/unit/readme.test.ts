// The README lists every command and setting the manifest contributes, and nothing else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const readme = readFileSync('README.md', 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README is in sync with package.json', () => {
  it('lists every contributed command by id and title', () => {
    const text = section('Commands');
    const listed = [...text.matchAll(/`(contextBudget\.[A-Za-z.]+)`/g)].map((m) => m[1]).sort();
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(listed, contributed);
    for (const c of pkg.contributes.commands) assert.ok(text.includes(`| ${c.title} |`), c.title);
  });

  it('lists every contributed setting with its default', () => {
    const text = section('Settings');
    const rows = new Map([...text.matchAll(/^\| `(contextBudget\.[A-Za-z.]+)` \| `([^`]*)` \|/gm)].map((m) => [m[1], m[2]]));
    const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;
    assert.deepEqual([...rows.keys()].sort(), Object.keys(props).sort());
    for (const [key, p] of Object.entries(props)) {
      const d = p.default;
      const shown = typeof d === 'string' ? (d === '' ? '""' : d) : JSON.stringify(d);
      assert.equal(rows.get(key), shown, key);
    }
  });

  it('has the two-command quick start and the CI script runs the same test command', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /npm install && npm test/);
    assert.match(readFileSync('.ci/run', 'utf8'), /^npm test$/m);
  });

  it('every command has a codicon and the Context Budget category', () => {
    for (const c of pkg.contributes.commands) {
      assert.equal(c.category, 'Context Budget');
      assert.match(c.icon, /^\$\([a-z-]+\)$/);
    }
  });
});
