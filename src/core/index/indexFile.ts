// Indexing one file's text: chunks with exact token counts and its imports.
// Shared by the in-process path and the worker threads.
import { createHash } from 'node:crypto';
import { chunkFile, type ChunkCounter, type ChunkOptions, type SyntaxLike } from '../chunk/chunker';
import { languageOf } from '../lang';
import type { FileRecord } from './workspaceIndex';

export type SyntaxWithLoading = SyntaxLike & { ensureLanguage?(languageId: string): Promise<boolean> };

export function hashFileText(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

export async function indexFileText(
  path: string,
  text: string,
  size: number,
  mtimeMs: number,
  tokens: ChunkCounter,
  chunkOptions: ChunkOptions,
  syntax: SyntaxWithLoading | undefined,
): Promise<FileRecord> {
  const language = languageOf(path);
  if (syntax?.ensureLanguage && syntax.supports(language)) await syntax.ensureLanguage(language);
  const chunks = chunkFile(path, text, language, tokens, chunkOptions, syntax);
  let imports: FileRecord['imports'] = [];
  if (syntax?.supports(language)) {
    try {
      imports = syntax.imports(text, language) ?? [];
    } catch {
      imports = []; // a grammar failure costs the import edges of this file, nothing else
    }
  }
  return { path, size, mtimeMs, hash: hashFileText(text), language, chunks, imports };
}
