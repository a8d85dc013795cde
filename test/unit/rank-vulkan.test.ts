// The Vulkan-loader check that keeps Dawn's stderr warning away when webgpu cannot work.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { librarySearchDirs, vulkanLoaderPresent } from '../../src/core/rank/vulkan';

function fakeEtc(): { etc: string; libdir: string } {
  const etc = mkdtempSync(join(tmpdir(), 'cb-vk-'));
  const libdir = join(etc, 'gpu-libs');
  mkdirSync(join(etc, 'ld.so.conf.d'));
  mkdirSync(libdir);
  writeFileSync(join(etc, 'ld.so.conf'), '# comment\ninclude ld.so.conf.d/*.conf\n/opt/none\n');
  writeFileSync(join(etc, 'ld.so.conf.d', 'gpu.conf'), `${libdir}\n`);
  writeFileSync(join(etc, 'ld.so.conf.d', 'ignored.txt'), '/not/included\n');
  return { etc, libdir };
}

test('search dirs follow LD_LIBRARY_PATH, ld.so.conf includes and the multiarch defaults', () => {
  const { etc, libdir } = fakeEtc();
  const dirs = librarySearchDirs({ LD_LIBRARY_PATH: '/carried:' }, 'x64', etc);
  assert.equal(dirs[0], '/carried');
  assert.ok(dirs.includes(libdir));
  assert.ok(dirs.includes('/opt/none'));
  assert.ok(!dirs.includes('/not/included'));
  assert.ok(dirs.indexOf('/usr/lib/x86_64-linux-gnu') >= 0 && dirs.indexOf('/usr/lib/x86_64-linux-gnu') < dirs.indexOf('/usr/lib'));
});

test('the loader is found in a configured folder, on LD_LIBRARY_PATH or in the ld.so cache, and not otherwise', () => {
  const { etc, libdir } = fakeEtc();
  const none = { etc, env: {}, defaultDirs: [] as string[] };
  assert.equal(vulkanLoaderPresent({ ...none, etc: join(etc, 'missing') }, 'linux'), false);
  assert.equal(vulkanLoaderPresent(none, 'linux'), false);
  writeFileSync(join(libdir, 'libvulkan.so.1'), '');
  assert.equal(vulkanLoaderPresent(none, 'linux'), true);
  const carried = mkdtempSync(join(tmpdir(), 'cb-vk-ld-'));
  writeFileSync(join(carried, 'libvulkan.so.1'), '');
  assert.equal(vulkanLoaderPresent({ etc: join(etc, 'missing'), env: { LD_LIBRARY_PATH: carried }, defaultDirs: [] }, 'linux'), true);
  const cacheEtc = mkdtempSync(join(tmpdir(), 'cb-vk-cache-'));
  writeFileSync(join(cacheEtc, 'ld.so.cache'), Buffer.concat([Buffer.from('glibc-ld.so.cache1.1\0libc.so.6\0'), Buffer.from('libvulkan.so.1\0/usr/lib/x/libvulkan.so.1\0')]));
  assert.equal(vulkanLoaderPresent({ etc: cacheEtc, env: {}, defaultDirs: [] }, 'linux'), true);
  assert.equal(vulkanLoaderPresent({ etc: join(etc, 'missing'), env: {}, defaultDirs: [] }, 'darwin'), true);
});

test('without the loader, device gpu reports cpu with the note and writes nothing to stderr', { skip: vulkanLoaderPresent() && 'this machine has a Vulkan loader' }, () => {
  const script = [
    "const { Ranker } = require('./src/core/rank/ranker');",
    '(async () => {',
    "  const logs = []; const r = await Ranker.create({ device: 'gpu', log: (m) => logs.push(m) });",
    '  console.log(JSON.stringify({ device: r.device, note: r.deviceNote, logs })); await r.dispose();',
    '})();',
  ].join('\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stderr, '');
  const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { device: string; note: string; logs: string[] };
  assert.equal(out.device, 'cpu');
  assert.match(out.note, /webgpu: no Vulkan loader \(libvulkan\.so\.1\)/);
  assert.equal(out.logs.length, 1);
  assert.match(out.logs[0], /no Vulkan loader.*using cpu/);
});
