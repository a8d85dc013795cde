// Is the Vulkan loader (libvulkan.so.1) loadable on this Linux machine? ONNX
// Runtime's webgpu provider (Dawn) dlopens it; when it is absent Dawn prints a
// warning with a native stack line to stderr before failing, so the ranker
// checks first and skips webgpu. No processes are spawned: the dynamic linker's
// search path is reproduced from LD_LIBRARY_PATH, /etc/ld.so.conf (with its
// includes), the ld.so.cache and the default directories.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';

export const VULKAN_LOADER = 'libvulkan.so.1';

const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

function confDirs(file: string, seen: Set<string>, out: string[]): void {
  if (seen.has(file) || seen.size > 64) return;
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const inc = /^include\s+(.+)$/.exec(line);
    if (!inc) {
      if (isAbsolute(line)) out.push(line);
      continue;
    }
    for (const pattern of inc[1].split(/\s+/)) {
      const p = isAbsolute(pattern) ? pattern : join(dirname(file), pattern);
      if (!p.includes('*')) {
        confDirs(p, seen, out);
        continue;
      }
      // Only a '*' in the last path segment (the form ld.so.conf uses).
      const dir = dirname(p);
      const re = new RegExp(`^${basename(p).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      let names: string[] = [];
      try {
        names = readdirSync(dir).filter((n) => re.test(n)).sort();
      } catch {
        /* no such folder */
      }
      for (const n of names) confDirs(join(dir, n), seen, out);
    }
  }
}

/** Folders the dynamic linker searches for a library without a path, in a plausible order. */
export function librarySearchDirs(env: NodeJS.ProcessEnv = process.env, arch: string = process.arch, etc = '/etc', defaults = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib']): string[] {
  const dirs: string[] = [];
  for (const d of (env.LD_LIBRARY_PATH ?? '').split(':')) if (d) dirs.push(d);
  confDirs(join(etc, 'ld.so.conf'), new Set(), dirs);
  const triplet = MULTIARCH[arch];
  for (const base of defaults) {
    if (triplet) dirs.push(join(base, triplet));
    dirs.push(base);
  }
  return [...new Set(dirs)];
}

/** True when the ld.so cache lists `lib` (the cache stores NUL-terminated names). */
function inLdCache(lib: string, cacheFile: string): boolean {
  try {
    const buf = readFileSync(cacheFile);
    return buf.includes(Buffer.from(`\0${lib}\0`)) || buf.includes(Buffer.from(`/${lib}\0`));
  } catch {
    return false;
  }
}

export interface LoaderProbe {
  env?: NodeJS.ProcessEnv;
  arch?: string;
  /** Root of the configuration files (tests point it at a temporary folder). */
  etc?: string;
  /** Extra folders to search (e.g. next to the ONNX Runtime binding). */
  extraDirs?: string[];
  /** The linker's built-in folders (tests replace them). */
  defaultDirs?: string[];
}

/** Whether `libvulkan.so.1` can be found by the dynamic linker (Linux only; other platforms: true). */
export function vulkanLoaderPresent(probe: LoaderProbe = {}, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'linux') return true;
  const etc = probe.etc ?? '/etc';
  if (inLdCache(VULKAN_LOADER, join(etc, 'ld.so.cache'))) return true;
  const dirs = [...(probe.extraDirs ?? []), ...librarySearchDirs(probe.env ?? process.env, probe.arch ?? process.arch, etc, probe.defaultDirs)];
  return dirs.some((d) => existsSync(join(d, VULKAN_LOADER)));
}
