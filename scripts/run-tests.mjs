// Runs every test file under test/unit and test/adapter with Node's own test
// runner (TypeScript through tsx). `--fuzz` runs the fuzz suites longer.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['test/unit', 'test/adapter'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const d of dirs) walk(join(root, d));
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files;
const env = { ...process.env };
if (process.argv.includes('--fuzz')) env.CONTEXT_BUDGET_FUZZ_RUNS = env.CONTEXT_BUDGET_FUZZ_RUNS ?? '2000';
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...selected], { stdio: 'inherit', cwd: root, env });
process.exit(res.status ?? 1);
