// Temporary workspaces on disk for index and CLI tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function makeWorkspace(files: Record<string, string | Buffer>): { root: string; write: (p: string, c: string | Buffer) => void; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'cb-ws-'));
  const write = (p: string, c: string | Buffer) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  };
  for (const [p, c] of Object.entries(files)) write(p, c);
  return { root, write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A small two-language project with an import edge and a definition to find. */
export const SAMPLE_PROJECT: Record<string, string> = {
  'src/math.ts': [
    '// Vector helpers.',
    'export interface Vec { x: number; y: number }',
    '',
    'export function addVectors(a: Vec, b: Vec): Vec {',
    '  return { x: a.x + b.x, y: a.y + b.y };',
    '}',
    '',
    'export function scaleVector(v: Vec, k: number): Vec {',
    '  return { x: v.x * k, y: v.y * k };',
    '}',
  ].join('\n'),
  'src/main.ts': [
    "import { addVectors, scaleVector } from './math';",
    '',
    'export function step(pos: { x: number; y: number }, vel: { x: number; y: number }) {',
    '  const moved = addVectors(pos, scaleVector(vel, 0.5));',
    '  return moved;',
    '}',
  ].join('\n'),
  'tools/report.py': ['import os', '', 'def summarize(rows):', '    return sum(len(r) for r in rows)', ''].join('\n'),
  'README.md': '# Sample\n\nA sample project.\n',
};
