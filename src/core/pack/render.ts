// Renders a packed selection as the prompt text (Markdown, XML-tagged
// documents or JSON) and makes its exact tiktoken count fit the budget.
// Provider prompt caches reuse a prompt's leading tokens, so the stable layer
// (pins and the file-level snippets, the same for every line of the file) goes
// first, in file order. The cursor's snippets follow in ascending relevance
// bands, so the most relevant sit right before the cursor section, which comes
// last; within a band they go in file order, so nudged scores do not reshuffle them.
import type { Tokenizer } from '../tokens/tokenizer';
import type { Chunk, CursorWindow } from '../types';
import { packChunks, packValue, type PackInput, type PackResult } from './packer';

export type PromptFormat = 'markdown' | 'xml' | 'json';
export const PROMPT_FORMATS: readonly PromptFormat[] = ['markdown', 'xml', 'json'];

/** One rendered snippet: selected chunks of one file that touch or overlap are merged. */
export interface PromptBlock {
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  text: string;
  relevance: number;
  chunkIds: string[];
  /** Part of the stable layer (pins and file-level snippets), sent before the cursor's snippets. */
  stable: boolean;
}

const FENCE_LANG: Record<string, string> = {
  typescriptreact: 'tsx', javascriptreact: 'jsx', shellscript: 'sh', csharp: 'cs', plaintext: '',
};

function fence(text: string): string {
  let longest = 2;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(longest + 1);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * Coarse relevance bands for ordering. Within a band, blocks keep file order, so
 * a small cursor move that nudges scores does not reshuffle the prompt (the
 * leading tokens stay the same and a provider's prompt cache can reuse them);
 * across bands, the most relevant snippets still sit nearest the cursor.
 */
export const RELEVANCE_BANDS = [0.05, 0.15, 0.35, 0.6];

export function relevanceTier(score: number): number {
  let t = 0;
  while (t < RELEVANCE_BANDS.length && score >= RELEVANCE_BANDS[t]) t++;
  return t;
}

/**
 * Merges selected chunks of one file that overlap or touch into single blocks,
 * within each layer only (a stable block must not grow when the cursor's
 * snippets change), and orders the blocks as they are sent.
 */
export function mergeBlocks(selected: ReadonlyArray<{ chunk: Chunk; score: number; stable?: boolean }>, textOf: (path: string, start: number, end: number) => string): PromptBlock[] {
  const byFile = new Map<string, Array<{ chunk: Chunk; score: number; stable?: boolean }>>();
  for (const s of selected) {
    const key = `${s.stable ? 's' : 'c'}\u0000${s.chunk.path}`;
    if (!byFile.has(key)) byFile.set(key, []);
    byFile.get(key)!.push(s);
  }
  const blocks: PromptBlock[] = [];
  for (const list of byFile.values()) {
    list.sort((a, b) => a.chunk.startLine - b.chunk.startLine || a.chunk.endLine - b.chunk.endLine);
    let cur: PromptBlock | undefined;
    for (const { chunk, score, stable } of list) {
      if (cur && chunk.startLine <= cur.endLine + 1) {
        cur.endLine = Math.max(cur.endLine, chunk.endLine);
        cur.relevance = Math.max(cur.relevance, score);
        cur.chunkIds.push(chunk.id);
      } else {
        if (cur) blocks.push(cur);
        cur = { path: chunk.path, startLine: chunk.startLine, endLine: chunk.endLine, language: chunk.language, text: '', relevance: score, chunkIds: [chunk.id], stable: stable === true };
      }
    }
    if (cur) blocks.push(cur);
  }
  for (const b of blocks) b.text = textOf(b.path, b.startLine, b.endLine);
  const fileOrder = (a: PromptBlock, b: PromptBlock) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.startLine - b.startLine);
  // The stable layer ignores relevance: its scores come from different rankings.
  return blocks.sort((a, b) => Number(b.stable) - Number(a.stable) || (a.stable ? 0 : relevanceTier(a.relevance) - relevanceTier(b.relevance)) || fileOrder(a, b));
}

/** The header and fences around a chunk, as rendered — for the packer's per-chunk overhead. */
export function blockFrame(format: PromptFormat, path: string, startLine: number, endLine: number, language: string): string {
  switch (format) {
    case 'markdown':
      return `### ${path}:${startLine}-${endLine}\n\`\`\`${FENCE_LANG[language] ?? language}\n\n\`\`\`\n\n`;
    case 'xml':
      return `<document path="${escapeAttr(path)}" lines="${startLine}-${endLine}">\n\n</document>\n`;
    case 'json':
      return `{"path": "${path}", "startLine": ${startLine}, "endLine": ${endLine}, "text": ""},\n`;
  }
}

/**
 * The pieces of prompt text around snippets, for the index to count ahead: each
 * file's header in every format, and the words and numbers every prompt has.
 */
export const PROMPT_TEXT = {
  frame: (path: string, language: string): string => PROMPT_FORMATS.map((f) => blockFrame(f, path, 1, 2, language)).join(''),
  vocabulary: [
    ...PROMPT_FORMATS.map((f) => blockFrame(f, 'a.ts', 1, 2, 'typescript')),
    '### a.ts:1-2 (cursor at line 1)\n````ts\n\n````\n',
    '<cursor path="a.ts" lines="1-2" line="1">\n\n</cursor>\n',
    // Fences grow past the longest backtick run in a snippet.
    ...Array.from({ length: 6 }, (_, k) => '`'.repeat(k + 3)).map((f) => `a\n${f}\n\na\n${f}\na\n${f}ts\n`),
    // Line numbers: tiktoken cuts digit runs into pieces of up to three, leading zeros kept.
    ...Array.from({ length: 1000 }, (_, n) => `:${n}-${String(n).padStart(2, '0')}-${String(n).padStart(3, '0')}\n`),
  ].join(''),
};

export function renderPrompt(blocks: readonly PromptBlock[], cursor: CursorWindow | undefined, format: PromptFormat): string {
  if (format === 'json') {
    return JSON.stringify(
      {
        snippets: blocks.map((b) => ({ path: b.path, startLine: b.startLine, endLine: b.endLine, text: b.text })),
        cursor: cursor ? { path: cursor.path, startLine: cursor.startLine, endLine: cursor.endLine, cursorLine: cursor.cursorLine + 1, text: cursor.text } : null,
      },
      null,
      1,
    );
  }
  const parts: string[] = [];
  for (const b of blocks) {
    if (format === 'markdown') {
      const f = fence(b.text);
      parts.push(`### ${b.path}:${b.startLine}-${b.endLine}\n${f}${FENCE_LANG[b.language] ?? b.language}\n${b.text}\n${f}\n`);
    } else {
      parts.push(`<document path="${escapeAttr(b.path)}" lines="${b.startLine}-${b.endLine}">\n${b.text}\n</document>\n`);
    }
  }
  if (cursor) {
    const lang = languageFromPath(cursor.path);
    if (format === 'markdown') {
      const f = fence(cursor.text);
      parts.push(`### ${cursor.path}:${cursor.startLine}-${cursor.endLine} (cursor at line ${cursor.cursorLine + 1})\n${f}${lang}\n${cursor.text}\n${f}\n`);
    } else {
      parts.push(`<cursor path="${escapeAttr(cursor.path)}" lines="${cursor.startLine}-${cursor.endLine}" line="${cursor.cursorLine + 1}">\n${cursor.text}\n</cursor>\n`);
    }
  }
  return parts.join('\n');
}

function languageFromPath(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1] ?? '';
  return ext;
}

/** Frame counts repeat from one cursor move to the next: remember them (bounded; per encoding). */
const frameCounts = new Map<string, number>();
const FRAME_MEMO_LIMIT = 50_000;

/** A frame's key in `frameCounts`: counts differ by encoding. */
const frameKey = (tokenizer: Tokenizer, frame: string) => `${tokenizer.encoding}\u0000${frame}`;

function frameTokens(tokenizer: Tokenizer, frame: string): number {
  const key = frameKey(tokenizer, frame);
  let n = frameCounts.get(key);
  if (n === undefined) {
    if (frameCounts.size >= FRAME_MEMO_LIMIT) frameCounts.clear();
    frameCounts.set(key, (n = tokenizer.count(frame)));
  }
  return n;
}

/**
 * Counts the frames of chunks the packer may weigh, all at once and off this
 * thread: the packer counts each candidate's frame (its path header) as it goes,
 * and a frame of pieces never seen (new paths, right after a scan) waits on the
 * BPE worker synchronously, one at a time (the first queries after a
 * 30,000-file scan: about 40 waits, a 96 ms turn; bench:load --cpu-prof).
 */
export async function countFramesAhead(tokenizer: Tokenizer, format: PromptFormat, chunks: readonly Chunk[]): Promise<void> {
  const todo = new Set<string>();
  for (const c of chunks) {
    const frame = blockFrame(format, c.path, c.startLine, c.endLine, c.language);
    if (!frameCounts.has(frameKey(tokenizer, frame))) todo.add(frame);
  }
  if (todo.size === 0) return;
  const frames = [...todo];
  const counts = await tokenizer.countMany(frames);
  if (frameCounts.size + frames.length > FRAME_MEMO_LIMIT) frameCounts.clear();
  frames.forEach((frame, i) => frameCounts.set(frameKey(tokenizer, frame), counts[i]));
}

export interface PackedPrompt {
  pack: PackResult;
  blocks: PromptBlock[];
  text: string;
  /** Exact tiktoken count of `text`. */
  tokens: number;
}

/**
 * Packs, renders and verifies: if the exact count of the rendered text is over
 * the budget (per-chunk overheads are estimates; merging and escaping shift
 * them), the least valuable unpinned chunk is dropped and the text rendered again.
 */
export function packAndRender(
  input: Omit<PackInput, 'overheadTokens' | 'cursorTokens'> & { cursor: CursorWindow; format: PromptFormat; tokenizer: Tokenizer; textOf: (path: string, start: number, end: number) => string },
): PackedPrompt {
  const overheadTokens = (c: Chunk) => frameTokens(input.tokenizer, blockFrame(input.format, c.path, c.startLine, c.endLine, c.language));
  // The cursor section's own frame counts against the budget too.
  const cursorFrame = input.tokenizer.count(renderPrompt([], { ...input.cursor, text: '' }, input.format));
  const pack = packChunks({ ...input, cursorTokens: input.cursor.tokens + cursorFrame, overheadTokens });
  for (;;) {
    const selected = pack.items.filter((i) => i.selected).map((i) => ({ chunk: i.ranked.chunk, score: i.ranked.score, stable: i.reason !== 'selected' }));
    const blocks = mergeBlocks(selected, input.textOf);
    const text = renderPrompt(blocks, input.cursor, input.format);
    const tokens = input.tokenizer.count(text);
    if (tokens <= input.budget) return { pack, blocks, text, tokens };
    // The cursor's snippets go first; the stable layer only when nothing else is left.
    let victims = pack.items.filter((i) => i.reason === 'selected');
    if (victims.length === 0) victims = pack.items.filter((i) => i.reason === 'stable');
    if (victims.length === 0) return { pack, blocks, text, tokens }; // cursor and pins alone exceed the budget
    const density = (i: (typeof victims)[number]) => packValue(i.ranked.score) / Math.max(1, i.ranked.chunk.tokens);
    const worst = victims.reduce((a, b) => (density(a) <= density(b) ? a : b));
    worst.selected = false;
    worst.reason = 'over budget';
    pack.selectedTokens -= worst.ranked.chunk.tokens;
    pack.costTokens -= worst.ranked.chunk.tokens + overheadTokens(worst.ranked.chunk);
    pack.relevance -= packValue(worst.ranked.score);
  }
}
