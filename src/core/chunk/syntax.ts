// Syntax-aware chunking with tree-sitter (WASM): top-level declarations become
// chunks, oversized classes/functions are split at member boundaries and then
// by line windows, and runs of small declarations or imports are merged up to
// the token cap. Comments, doc comments, decorators and attributes stay with the
// declaration they document. Also extracts import statements for import edges.
//
// Cost model: one parse per call (tree deleted afterwards), one token count per
// non-blank line (range sums via prefix sums), and only oversized declarations
// are walked below the top level, so the work is linear in the file size.
import { readFileSync } from 'node:fs';
import type * as TreeSitter from 'web-tree-sitter';
import type { Node, Tree } from 'web-tree-sitter';
import { assetPath } from '../assets';
import type { ChunkKind } from '../types';
import {
  BODY_TYPES, GRAMMAR_OF, PREFIX_TYPES, TRANSPARENT_TYPES, classify, unwrap, cInclude, csharpUsing, goImports, javaImport,
  pythonImports, requireImport, rustImports, tsImport, type ImportRef, type NodeInfo, type Role,
} from './syntax-langs';

// The CommonJS build of web-tree-sitter, on purpose: the ESM build (which an `import` statement makes
// esbuild pick) calls createRequire(import.meta.url), and import.meta is empty in our CJS bundles.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Language, Parser } = require('web-tree-sitter') as typeof TreeSitter;
type Parser = TreeSitter.Parser;

/** A chunk's line range, 1-based inclusive. */
export interface ChunkSpan {
  startLine: number;
  endLine: number;
  kind: ChunkKind;
  defines: string[];
}

/** Declarations at or under this share of the cap are merged with their small neighbours. */
const SMALL_SHARE = 0.25;
/** How deep oversized declarations are split before falling back to line windows. */
const MAX_DEPTH = 8;
/** A parse taking longer than this is abandoned (the caller then uses line windows). */
const PARSE_TIME_LIMIT_MS = 5000;

let runtimeReady: Promise<void> | undefined;

function initRuntime(): Promise<void> {
  runtimeReady ??= Parser.init({ wasmBinary: readFileSync(assetPath('web-tree-sitter.wasm')) } as object).catch((err: unknown) => {
    runtimeReady = undefined;
    throw err;
  });
  return runtimeReady;
}

/** A run of lines that is one unit at the current level: a declaration with its leading comments, an import, a statement. */
interface Item {
  start: number; // 0-based rows, inclusive
  end: number;
  role: Role;
  kind: ChunkKind | null;
  names: string[];
  /** The single declaration node of this item (absent when several statements share a line). */
  node: Node | null;
  info: NodeInfo | null;
}

interface Piece {
  start: number;
  end: number;
  kind: ChunkKind;
  defines: string[];
}

function endRow(n: Node): number {
  const e = n.endPosition;
  // Nodes that swallow their newline (preprocessor lines, Rust line comments) end at column 0 of the next row.
  return e.column === 0 && e.row > n.startPosition.row ? e.row - 1 : e.row;
}

/** Row of an item's declaration itself, after any leading comments the item carries. */
function declarationRow(item: Item): number {
  return item.node ? Math.min(Math.max(item.start, item.node.startPosition.row), item.end) : item.start;
}

/** The piece from `from` on that holds `row`, else the first one from `from`. */
function pieceAt(out: Piece[], from: number, row: number): Piece | undefined {
  for (let i = from; i < out.length; i++) {
    const p = out[i] as Piece;
    if (p.start <= row && row <= p.end) return p;
  }
  return out[from];
}

function uniq(names: string[]): string[] {
  return names.length < 2 ? names : [...new Set(names)];
}

/** Fields that lead from a declaration to the body holding its members. */
const BODY_FIELDS = ['body', 'declaration', 'definition', 'value', 'type'];
/** Nodes whose `type` field holds the members (Go `type X struct {...}`, C `typedef struct {...} X`). */
const TYPE_HOLDERS = new Set(['type_spec', 'type_definition', 'declaration']);

/** State for one `spans` call. */
class SpanBuilder {
  private readonly lineTok: Float64Array; // prefix sums: tokens of rows [0, i)
  private readonly blank: Uint8Array;
  readonly rows: number;

  constructor(
    text: string,
    private readonly cap: number,
    countTokens: (s: string) => number,
  ) {
    const lines = text.split('\n');
    this.rows = lines.length;
    this.lineTok = new Float64Array(lines.length + 1);
    this.blank = new Uint8Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const isBlank = line.trim().length === 0;
      this.blank[i] = isBlank ? 1 : 0;
      // Each line is counted with its newline; blank lines cost about one token.
      this.lineTok[i + 1] = (this.lineTok[i] ?? 0) + (isBlank ? 1 : countTokens(`${line}\n`));
    }
  }

  tokens(start: number, end: number): number {
    return (this.lineTok[end + 1] ?? 0) - (this.lineTok[start] ?? 0);
  }

  isBlank(row: number): boolean {
    return this.blank[row] === 1;
  }

  /** Units of a node list: same-line nodes merge, adjacent comments/attributes attach to what follows. */
  items(nodes: Iterable<Node>): Item[] {
    const out: Item[] = [];
    const add = (node: Node): void => {
      if (TRANSPARENT_TYPES.has(node.type)) {
        for (let i = 0; i < node.childCount; i++) {
          const c = node.child(i);
          if (!c || !c.isNamed) continue;
          const f = node.fieldNameForChild(i);
          if (f === 'name' || f === 'condition') continue;
          add(c);
        }
        return;
      }
      const start = node.startPosition.row;
      const end = Math.max(start, endRow(node));
      const info = classify(node);
      const last = out[out.length - 1];
      if (last && (start <= last.end || (last.role === 'prefix' && start === last.end + 1))) {
        last.end = Math.max(last.end, end);
        if (info.role === 'prefix') return;
        if (last.role === 'prefix') {
          Object.assign(last, { role: info.role, kind: info.kind, names: info.names, node, info });
        } else {
          // Several statements on one line.
          last.role = last.role === 'import' && info.role === 'import' ? 'import' : last.role === 'import' || info.role === 'import' ? 'stmt' : last.role === 'decl' || info.role === 'decl' ? 'decl' : 'stmt';
          last.kind = last.role === 'import' ? 'imports' : last.kind === info.kind ? last.kind : null;
          last.names = [...last.names, ...info.names];
          last.node = null;
          last.info = null;
        }
        return;
      }
      out.push({ start, end, role: info.role, kind: info.kind, names: info.names, node, info });
    };
    for (const n of nodes) add(n);
    return out;
  }

  /** Named children of the body node an oversized declaration is split at. */
  container(node: Node): Node | null {
    let cur = unwrap(node);
    const span = (n: Node): number => endRow(n) - n.startPosition.row + 1;
    outer: for (let guard = 0; guard < 16; guard++) {
      const kids = cur.namedChildren.filter((c): c is Node => !!c);
      if (BODY_TYPES.has(cur.type) && cur !== node) {
        const only = kids.length === 1 ? kids[0] : undefined;
        if (only && BODY_TYPES.has(only.type)) {
          cur = only;
          continue;
        }
        return kids.length > 0 ? cur : null;
      }
      // Follow the grammar's own pointers to a body first (works for one-line declarations too).
      for (const f of BODY_FIELDS) {
        const c = cur.childForFieldName(f);
        if (c && c.namedChildCount > 0 && (f !== 'type' || TYPE_HOLDERS.has(cur.type))) {
          cur = c;
          continue outer;
        }
      }
      let best: Node | undefined;
      for (const k of kids) if (!best || span(k) > span(best)) best = k;
      if (best && (kids.length === 1 || (span(best) >= 2 && span(best) * 2 >= span(cur)))) {
        cur = best;
        continue;
      }
      return kids.length >= 2 ? cur : null;
    }
    return null;
  }

  /** Declared names of a class-like item, with its members as `Owner.member` and `member`. */
  memberNames(item: Item): string[] {
    const names = [...item.names];
    if (!item.node || !item.info?.hasMembers) return names;
    const owner = item.names[0];
    const body = this.container(item.node);
    if (!body) return names;
    for (const m of body.namedChildren) {
      if (!m || PREFIX_TYPES.has(m.type)) continue;
      for (const n of classify(m).names) names.push(...(owner ? [`${owner}.${n}`, n] : [n]));
    }
    return uniq(names);
  }

  private definesOf(item: Item): string[] {
    if (!item.node || !item.info) return uniq(item.names);
    if (item.info.hasMembers) return this.memberNames(item);
    if (item.info.mode === 'top' && item.info.role === 'decl') {
      // A namespace/module: its own name and the names declared directly inside.
      const names = [...item.names];
      const body = this.container(item.node);
      if (body) for (const m of this.items(body.namedChildren.filter((c): c is Node => !!c))) names.push(...m.names);
      return uniq(names);
    }
    return uniq(item.names);
  }

  /** A file or namespace body: declarations become chunks, small ones and imports merge, big ones split. */
  top(items: Item[], depth: number, out: Piece[]): void {
    const firstOut = out.length;
    let run: Item[] = [];
    let runImports = false;
    let pendingStart = -1; // start row of detached comments waiting for the next unit
    let pendingEnd = -1;
    const flush = (): void => {
      if (run.length === 0) return;
      const first = run[0] as Item;
      const last = run[run.length - 1] as Item;
      const real = run.filter((r) => r.role !== 'prefix');
      let kind: ChunkKind;
      if (real.length === 0) kind = 'declarations';
      else if (real.every((r) => r.role === 'import')) kind = 'imports';
      else if (real.length === 1) kind = real[0]?.kind ?? 'declarations';
      else {
        const k = real[0]?.kind ?? null;
        kind = k && real.every((r) => r.kind === k) ? k : 'declarations';
      }
      const defines = uniq(real.flatMap((r) => this.definesOf(r)));
      out.push({ start: first.start, end: last.end, kind, defines });
      run = [];
    };
    for (const item of items) {
      if (item.role === 'prefix') {
        if (run.length > 0 && pendingStart < 0 && this.tokens((run[0] as Item).start, item.end) <= this.cap) {
          run.push(item);
        } else {
          if (pendingStart < 0) pendingStart = item.start;
          pendingEnd = item.end;
        }
        continue;
      }
      let start = item.start;
      if (pendingStart >= 0) {
        // Detached comments go with the next unit, unless they are a big block of their own (commented-out code).
        if (this.tokens(pendingStart, item.start - 1) > this.cap) {
          flush();
          this.windows(pendingStart, item.start - 1, 'declarations', [], out);
        } else start = pendingStart;
        pendingStart = -1;
      }
      const unit: Item = { ...item, start };
      const t = this.tokens(start, item.end);
      if (t > this.cap) {
        flush();
        this.split(unit, depth, out);
        continue;
      }
      const isImport = item.role === 'import';
      if (!isImport && t > this.cap * SMALL_SHARE) {
        flush();
        out.push({ start, end: item.end, kind: item.kind ?? 'declarations', defines: this.definesOf(item) });
        continue;
      }
      if (run.length > 0 && (this.tokens((run[0] as Item).start, item.end) > this.cap || runImports !== isImport)) flush();
      run.push(unit);
      runImports = isImport;
    }
    flush();
    if (pendingStart >= 0) {
      const last = out[out.length - 1];
      if (out.length > firstOut && last && this.tokens(last.start, pendingEnd) <= this.cap) last.end = Math.max(last.end, pendingEnd);
      else this.windows(pendingStart, pendingEnd, 'declarations', [], out);
    }
  }

  /** Splits a unit over the cap at its members/statements; line windows where no structure is left. */
  split(unit: Item, depth: number, out: Piece[]): void {
    const kind: ChunkKind = unit.role === 'import' ? 'imports' : unit.kind ?? 'declarations';
    const node = unit.node;
    const info = unit.info;
    const body = node && info && depth < MAX_DEPTH ? this.container(node) : null;
    const members = body ? this.items(body.namedChildren.filter((c): c is Node => !!c)) : [];
    const firstMember = members[0];
    const lastMember = members[members.length - 1];
    // The declaration's own line (after its leading comments): the piece holding it is the one that defines its names.
    const declRow = declarationRow(unit);
    if (!info || !firstMember || !lastMember) {
      this.windows(unit.start, unit.end, kind, this.definesOf(unit), out, declRow);
      return;
    }
    // The header (signature, opening brace, leading comments) goes with the first member, the closing lines with the last.
    // Leading comments too long to share a piece with the header go first on their own, so the header starts a piece.
    let headStart = unit.start;
    if (declRow > unit.start && this.tokens(unit.start, Math.max(declRow, firstMember.end)) > this.cap) {
      this.windows(unit.start, declRow - 1, 'declarations', [], out);
      headStart = declRow;
    }
    firstMember.start = Math.min(firstMember.start, headStart);
    lastMember.end = Math.max(lastMember.end, unit.end);
    const before = out.length;
    if (info.mode === 'top') {
      this.top(members, depth + 1, out);
      const first = pieceAt(out, before, declRow);
      if (first && unit.names.length > 0) first.defines = uniq([...unit.names, ...first.defines]);
      return;
    }
    const owner = info.mode === 'class' ? unit.names[0] : undefined;
    const qualify = (names: string[]): string[] => (owner ? names.flatMap((n) => [`${owner}.${n}`, n]) : []);
    // Runs of members are `members` chunks; line windows of one oversized member keep the parent's kind.
    const runKind: ChunkKind = info.mode === 'class' ? 'members' : kind;
    let run: Item[] = [];
    let pendingStart = -1;
    const flush = (): void => {
      const first = run[0];
      const last = run[run.length - 1];
      if (!first || !last) return;
      out.push({ start: first.start, end: last.end, kind: runKind, defines: uniq(run.flatMap((r) => qualify(r.names))) });
      run = [];
    };
    for (const m of members) {
      if (m.role === 'prefix') {
        if (run.length > 0 && pendingStart < 0 && this.tokens((run[0] as Item).start, m.end) <= this.cap) {
          run.push(m);
        } else if (pendingStart < 0) pendingStart = m.start;
        continue;
      }
      let start = m.start;
      if (pendingStart >= 0) {
        if (this.tokens(pendingStart, m.start - 1) > this.cap) {
          flush();
          this.windows(pendingStart, m.start - 1, runKind, [], out);
        } else start = pendingStart;
        pendingStart = -1;
      }
      const t = this.tokens(start, m.end);
      const unitM: Item = { ...m, start };
      if (t > this.cap) {
        flush();
        if (info.mode === 'class' && m.info && (m.info.hasMembers || m.info.mode === 'top')) {
          const at = out.length;
          this.split(unitM, depth + 1, out);
          const p = pieceAt(out, at, declarationRow(unitM));
          if (p) p.defines = uniq([...qualify(m.names), ...p.defines]);
        } else {
          this.windows(start, m.end, kind, qualify(m.names), out, declarationRow(unitM));
        }
        continue;
      }
      if (run.length > 0 && this.tokens((run[0] as Item).start, m.end) > this.cap) flush();
      run.push(unitM);
    }
    flush();
    if (pendingStart >= 0) {
      const last = out[out.length - 1];
      if (out.length > before && last && this.tokens(last.start, unit.end) <= this.cap) last.end = Math.max(last.end, unit.end);
      else this.windows(pendingStart, unit.end, runKind, [], out);
    }
    // The piece with the declaration's line carries the declaration itself (its header, kind and name).
    const head = pieceAt(out, before, declRow);
    if (head) {
      head.kind = kind;
      head.defines = uniq([...unit.names, ...head.defines]);
    }
  }

  /**
   * Line windows of at most `cap` tokens, cut after a blank line when one is near
   * the end of the window. `defines` go to the window holding `declRow` (the
   * declaration's line, which a long leading comment may push past the first).
   */
  windows(start: number, end: number, kind: ChunkKind, defines: string[], out: Piece[], declRow = start): void {
    const row0 = Math.min(Math.max(declRow, start), end);
    let from = start;
    let lastBlank = -1;
    for (let row = start; row <= end; row++) {
      if (row > from && this.tokens(from, row) > this.cap) {
        const cut = lastBlank > from + (row - from) / 2 ? lastBlank : row - 1;
        out.push({ start: from, end: cut, kind, defines: from <= row0 && row0 <= cut ? defines : [] });
        from = cut + 1;
        lastBlank = -1;
      }
      if (this.isBlank(row)) lastBlank = row;
    }
    if (from <= end) out.push({ start: from, end, kind, defines: from <= row0 ? defines : [] });
  }

  /** Gaps (closing braces, directives) join the previous piece; blank edges are trimmed; 1-based output. */
  finish(pieces: Piece[]): ChunkSpan[] {
    const spans: ChunkSpan[] = [];
    let prevEnd = -1;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i] as Piece;
      const next = pieces[i + 1];
      let start = i === 0 ? 0 : Math.max(p.start, prevEnd + 1);
      let end = next ? next.start - 1 : this.rows - 1;
      while (start <= end && this.isBlank(start)) start++;
      while (end >= start && this.isBlank(end)) end--;
      if (start > end) continue;
      prevEnd = end;
      spans.push({ startLine: start + 1, endLine: end + 1, kind: p.kind, defines: p.defines });
    }
    return spans;
  }
}

interface ImportScan {
  /** Finds candidate keywords; group 1 is the keyword itself. */
  keyword: RegExp;
  types: Set<string>;
  read: (n: Node) => ImportRef[];
}

const one = (r: ImportRef | undefined): ImportRef[] => (r ? [r] : []);
const tsScan: ImportScan = {
  keyword: /(?:^|[^.\w$])(import|export|require)\b/g,
  types: new Set(['import_statement', 'export_statement', 'call_expression']),
  read: (n) => one(n.type === 'call_expression' ? requireImport(n) : tsImport(n)),
};
const IMPORT_SCAN: Readonly<Record<string, ImportScan>> = {
  typescript: tsScan,
  typescriptreact: tsScan,
  javascript: tsScan,
  javascriptreact: tsScan,
  python: { keyword: /^[ \t]*(import|from)\b/gm, types: new Set(['import_statement', 'import_from_statement', 'future_import_statement']), read: pythonImports },
  go: { keyword: /^[ \t]*(import)\b/gm, types: new Set(['import_declaration']), read: goImports },
  java: { keyword: /^[ \t]*(import)\b/gm, types: new Set(['import_declaration']), read: (n) => one(javaImport(n)) },
  rust: {
    keyword: /(?:^|[^\w:])(use|mod|extern)\b/g,
    types: new Set(['use_declaration', 'mod_item', 'extern_crate_declaration']),
    read: (n) => (n.type === 'mod_item' && n.childForFieldName('body') ? [] : rustImports(n)),
  },
  c: { keyword: /^[ \t]*(#)[ \t]*include\b/gm, types: new Set(['preproc_include']), read: (n) => one(cInclude(n)) },
  cpp: { keyword: /^[ \t]*(#)[ \t]*include\b/gm, types: new Set(['preproc_include']), read: (n) => one(cInclude(n)) },
  csharp: { keyword: /(?:^|[^\w.])(using)\b/g, types: new Set(['using_directive']), read: (n) => one(csharpUsing(n)) },
};

export class SyntaxChunker {
  private readonly parsers = new Map<string, Parser>();
  private readonly loading = new Map<string, Promise<boolean>>();
  private disposed = false;
  private lastTree: { grammar: string; text: string; tree: Tree } | undefined;

  private constructor() {}

  /** Loads the tree-sitter runtime (once per process); grammars load lazily per language. */
  static async create(): Promise<SyntaxChunker> {
    await initRuntime();
    return new SyntaxChunker();
  }

  /** Whether a grammar exists for this VS Code language id. */
  supports(languageId: string): boolean {
    return Object.prototype.hasOwnProperty.call(GRAMMAR_OF, languageId);
  }

  /** Loads the grammar of a language; false when there is none or it fails to load. */
  ensureLanguage(languageId: string): Promise<boolean> {
    const grammar = GRAMMAR_OF[languageId];
    if (!grammar || this.disposed) return Promise.resolve(false);
    let p = this.loading.get(grammar);
    if (!p) {
      p = (async () => {
        try {
          const lang = await Language.load(readFileSync(assetPath(`grammars/tree-sitter-${grammar}.wasm`)));
          if (this.disposed) return false;
          const parser = new Parser();
          parser.setLanguage(lang);
          this.parsers.set(grammar, parser);
          return true;
        } catch {
          return false;
        }
      })();
      this.loading.set(grammar, p);
    }
    return p;
  }

  private parse<T>(text: string, languageId: string, use: (tree: Tree) => T): T | undefined {
    const grammar = GRAMMAR_OF[languageId];
    const parser = grammar ? this.parsers.get(grammar) : undefined;
    if (!parser || !grammar) return undefined;
    try {
      // The last tree is kept so that spans() and imports() of the same text parse once.
      const last = this.lastTree;
      let tree: Tree | null = last && last.grammar === grammar && last.text === text ? last.tree : null;
      if (!tree) {
        this.dropTree();
        const deadline = Date.now() + PARSE_TIME_LIMIT_MS;
        parser.reset();
        tree = parser.parse(text, null, { progressCallback: () => Date.now() > deadline });
        if (!tree) return undefined;
        this.lastTree = { grammar, text, tree };
      }
      return use(tree);
    } catch {
      this.dropTree();
      return undefined;
    }
  }

  private dropTree(): void {
    this.lastTree?.tree.delete();
    this.lastTree = undefined;
  }

  /**
   * Chunk line ranges of a file: in line order, non-overlapping, covering every non-blank line.
   * Synchronous once the language is loaded; undefined when it is not loaded or the parse fails.
   */
  spans(text: string, languageId: string, maxChunkTokens: number, countTokens: (s: string) => number): ChunkSpan[] | undefined {
    const cap = Math.max(1, maxChunkTokens);
    return this.parse(text, languageId, (tree) => {
      const b = new SpanBuilder(text, cap, countTokens);
      const root = tree.rootNode;
      const pieces: Piece[] = [];
      b.top(b.items(root.namedChildren.filter((c): c is Node => !!c)), 0, pieces);
      if (pieces.length === 0) {
        // Nothing named at the top (e.g. only anonymous tokens): the whole file as windows.
        b.windows(0, b.rows - 1, 'declarations', [], pieces);
      }
      return b.finish(pieces);
    });
  }

  /** Import statements of a file: raw module specifiers, the names imported, 1-based line. */
  imports(text: string, languageId: string): ImportRef[] | undefined {
    const how = IMPORT_SCAN[languageId];
    if (!how) return undefined;
    return this.parse(text, languageId, (tree) => {
      // Keywords are found with a regex; the tree confirms each hit (not in a string or comment) and parses it.
      // This touches only the import nodes instead of walking the whole tree.
      const root = tree.rootNode;
      const out: ImportRef[] = [];
      const seen = new Set<number>();
      how.keyword.lastIndex = 0;
      for (let m = how.keyword.exec(text); m; m = how.keyword.exec(text)) {
        const at = m.index + (m[0].length - (m[1]?.length ?? 0));
        let n: Node | null = root.descendantForIndex(at);
        for (let up = 0; n && up < 6 && !how.types.has(n.type); up++) n = n.parent;
        if (!n || !how.types.has(n.type) || seen.has(n.startIndex)) continue;
        seen.add(n.startIndex);
        for (const r of how.read(n)) if (r.specifier) out.push(r);
      }
      out.sort((a, b) => a.line - b.line);
      return out;
    });
  }

  /** Frees the parsers and the cached tree. */
  dispose(): void {
    this.disposed = true;
    this.dropTree();
    for (const p of this.parsers.values()) p.delete();
    this.parsers.clear();
    this.loading.clear();
  }
}
