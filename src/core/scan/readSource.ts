// Reads one file as source text, or says why it is not source: binary content,
// a minified bundle, too large, unreadable, gone. Never throws.
import { constants as fsc, promises as fsp } from 'node:fs';
import type { SkipReason } from '../types';

export type ReadResult = { text: string; size: number; mtimeMs: number } | { skip: SkipReason };

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf16le = new TextDecoder('utf-16le', { fatal: false });
const utf16be = new TextDecoder('utf-16be', { fatal: false });

/** Decodes bytes as text, or returns undefined when they look binary. */
export function decodeSource(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return utf16le.decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return utf16be.decode(bytes.subarray(2));
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return undefined;
  let text = utf8.decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Invalid UTF-8 decodes to U+FFFD; a few are typos, many mean binary (or a legacy encoding we cannot count honestly).
  let bad = 0;
  const sample = Math.min(text.length, 65536);
  for (let i = 0; i < sample; i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  if (sample > 0 && bad / sample > 0.05) return undefined;
  return text;
}

/** Minified bundles: very long lines that no reader (or model) uses as context. */
export function looksMinified(text: string): boolean {
  if (text.length < 4096) return false;
  let lines = 1;
  let longest = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      longest = Math.max(longest, i - start);
      start = i + 1;
      lines++;
    }
  }
  longest = Math.max(longest, text.length - start);
  return longest > 5000 && text.length / lines > 300;
}

/** O_NONBLOCK: opening a FIFO for reading must not wait for a writer (it is then refused as not a file). */
const OPEN_FLAGS = fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0);

export async function readSource(abs: string, maxBytes: number): Promise<ReadResult> {
  let handle;
  try {
    handle = await fsp.open(abs, OPEN_FLAGS);
  } catch (err) {
    return { skip: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'vanished' : 'unreadable' };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { skip: 'unreadable' };
    if (st.size > maxBytes) return { skip: 'too-large' };
    // Read the size seen by stat and no more: a file growing while we read (a log being
    // written) is indexed as of that size, and its newer mtime gets it read again later;
    // one truncated meanwhile gives what is left.
    const buf = Buffer.alloc(st.size);
    let read = 0;
    while (read < buf.length) {
      const { bytesRead } = await handle.read(buf, read, buf.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const text = decodeSource(buf.subarray(0, read));
    if (text === undefined) return { skip: 'binary' };
    if (looksMinified(text)) return { skip: 'minified' };
    return { text, size: read, mtimeMs: st.mtimeMs };
  } catch {
    return { skip: 'unreadable' };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
