// Per-language knowledge for the syntax-aware chunker: which grammar parses a
// VS Code language id, and what each tree-sitter node type means for chunking
// (a declaration and its names, an import, a comment/attribute that documents
// the next node, a body whose children are split points).
import type { Node } from 'web-tree-sitter';
import type { ChunkKind } from '../types';

/** VS Code language id → grammar name (`grammars/tree-sitter-<name>.wasm`). C parses with the C++ grammar. */
export const GRAMMAR_OF: Readonly<Record<string, string>> = {
  typescript: 'typescript',
  typescriptreact: 'tsx',
  javascript: 'javascript',
  javascriptreact: 'javascript',
  python: 'python',
  go: 'go',
  java: 'java',
  rust: 'rust',
  c: 'cpp',
  cpp: 'cpp',
  csharp: 'c-sharp',
};

/**
 * How an oversized declaration is split:
 * `class` at its members (first piece keeps the class kind, the rest are `members`),
 * `body` at the statements/entries of its body (every piece keeps the parent's kind),
 * `top` like a file (namespaces, modules, wrapping statements such as IIFEs).
 */
export type SplitMode = 'class' | 'body' | 'top';

/** What a node is, for chunking. */
export type Role = 'import' | 'prefix' | 'decl' | 'stmt';

export interface NodeInfo {
  role: Role;
  /** `null` for statements that declare nothing recognisable. */
  kind: ChunkKind | null;
  names: string[];
  mode: SplitMode;
  /** True for class-like declarations whose member names are listed in `defines`. */
  hasMembers: boolean;
}

const STMT: NodeInfo = { role: 'stmt', kind: null, names: [], mode: 'top', hasMembers: false };
const PREFIX: NodeInfo = { role: 'prefix', kind: null, names: [], mode: 'top', hasMembers: false };
const IMPORT: NodeInfo = { role: 'import', kind: 'imports', names: [], mode: 'body', hasMembers: false };

/** Comments, attributes, decorators and access labels: they belong to the node after them. */
export const PREFIX_TYPES = new Set([
  'comment', 'line_comment', 'block_comment', 'attribute_item', 'inner_attribute_item', 'decorator', 'access_specifier',
]);

/** Preprocessor conditionals: their contents are chunked as if the directive lines were not there. */
export const TRANSPARENT_TYPES = new Set(['preproc_ifdef', 'preproc_if', 'preproc_else', 'preproc_elif', 'preproc_elifdef']);

/** Node types whose named children are the split points of an oversized declaration. */
export const BODY_TYPES = new Set([
  'class_body', 'interface_body', 'object_type', 'enum_body', 'declaration_list', 'field_declaration_list',
  'enum_variant_list', 'enumerator_list', 'enum_member_declaration_list', 'block', 'statement_block',
  'compound_statement', 'statement_list', 'constructor_body', 'object', 'array', 'switch_body', 'switch_block',
  'interface_type', 'initializer_list', 'dictionary', 'list', 'literal_value', 'array_initializer',
  'enum_body_declarations', 'preproc_ifdef', 'preproc_if',
]);

const IMPORT_TYPES = new Set([
  'import_statement', 'import_from_statement', 'future_import_statement', 'import_declaration', 'package_clause',
  'package_declaration', 'use_declaration', 'extern_crate_declaration', 'preproc_include', 'using_directive',
  'file_scoped_namespace_declaration', 'using_declaration',
]);

function field(node: Node, name: string): Node | null {
  return node.childForFieldName(name);
}

function stripQuotes(s: string): string {
  return s.replace(/^[@$]?["'`<]+|["'`>]+$/g, '');
}

/** Last segment of a qualified name (`a::b::C` → `C`, `a.b.C` → `C`), generics removed. */
function lastSegment(s: string): string {
  const noGenerics = s.replace(/<[^<>]*>/g, '');
  const parts = noGenerics.split(/::|\.|->/);
  return (parts[parts.length - 1] ?? '').trim();
}

/** Identifiers bound by a declarator name or a destructuring pattern. */
function patternNames(node: Node | null, out: string[]): void {
  if (!node) return;
  switch (node.type) {
    case 'identifier':
    case 'shorthand_property_identifier_pattern':
    case 'type_identifier':
    case 'field_identifier':
    case 'property_identifier':
      out.push(node.text);
      return;
    case 'pair_pattern':
      patternNames(field(node, 'value'), out);
      return;
    case 'assignment_pattern':
    case 'object_assignment_pattern':
      patternNames(field(node, 'left'), out);
      return;
    default:
      for (const c of node.namedChildren) if (c) patternNames(c, out);
  }
}

/** The declared name of a C/C++ declarator chain (`*f(int)`, `ns::Foo::bar`, `a[3] = {..}`). */
function cDeclaratorName(node: Node | null): string[] {
  let cur = node;
  for (let guard = 0; cur && guard < 12; guard++) {
    switch (cur.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
      case 'operator_name':
      case 'destructor_name':
      case 'primitive_type':
        return [cur.text];
      case 'qualified_identifier': {
        const parts = cur.text.replace(/<[^<>]*>/g, '').split('::').map((p) => p.trim()).filter(Boolean);
        const last = parts[parts.length - 1];
        if (!last) return [];
        return parts.length >= 2 ? [`${parts[parts.length - 2]}.${last}`, last] : [last];
      }
      default: {
        const next = field(cur, 'declarator') ?? cur.namedChildren.find((c) => c && /declarator|identifier/.test(c.type)) ?? null;
        cur = next;
      }
    }
  }
  return [];
}

function hasFunctionDeclarator(node: Node | null): boolean {
  let cur = node;
  for (let guard = 0; cur && guard < 12; guard++) {
    if (cur.type === 'function_declarator') return true;
    if (cur.type === 'init_declarator') return false;
    cur = field(cur, 'declarator');
  }
  return false;
}

function isRequireCall(node: Node | null): boolean {
  let cur = node;
  // require('x').member / await import('x')
  for (let guard = 0; cur && guard < 4; guard++) {
    if (cur.type === 'call_expression') {
      const fn = field(cur, 'function');
      return !!fn && (fn.text === 'require' || fn.type === 'import');
    }
    if (cur.type === 'member_expression') cur = field(cur, 'object');
    else if (cur.type === 'await_expression') cur = cur.namedChildren[0] ?? null;
    else return false;
  }
  return false;
}

function variableDeclarators(node: Node): Node[] {
  const out: Node[] = [];
  for (const c of node.namedChildren) {
    if (!c) continue;
    if (c.type === 'variable_declarator') out.push(c);
    else if (c.type === 'variable_declaration') for (const d of c.namedChildren) if (d?.type === 'variable_declarator') out.push(d);
  }
  return out;
}

function declaratorName(d: Node): Node | null {
  return field(d, 'name') ?? d.namedChildren.find((c) => c?.type === 'identifier') ?? null;
}

/** Unwraps export/decorator/template/ambient wrappers to the declaration they carry. */
export function unwrap(node: Node): Node {
  let cur = node;
  for (let guard = 0; guard < 4; guard++) {
    let next: Node | null = null;
    switch (cur.type) {
      case 'export_statement':
        next = field(cur, 'declaration') ?? field(cur, 'value');
        break;
      case 'decorated_definition':
        next = field(cur, 'definition');
        break;
      case 'template_declaration': {
        const kids = cur.namedChildren.filter((c): c is Node => !!c && c.type !== 'template_parameter_list' && !PREFIX_TYPES.has(c.type));
        next = kids[kids.length - 1] ?? null;
        break;
      }
      case 'ambient_declaration':
        next = cur.namedChildren.find((c) => !!c && !PREFIX_TYPES.has(c.type)) ?? null;
        break;
      case 'expression_statement': {
        const only = cur.namedChildren.length === 1 ? cur.namedChildren[0] : null;
        if (only && (only.type === 'internal_module' || only.type === 'module')) next = only;
        break;
      }
    }
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

function decl(kind: ChunkKind | null, names: string[], mode: SplitMode, hasMembers = false): NodeInfo {
  return { role: 'decl', kind, names: names.filter((n) => n.length > 0), mode, hasMembers };
}

function nameText(node: Node): string[] {
  const n = field(node, 'name');
  return n ? [stripQuotes(n.text)] : [];
}

/** What a node means for chunking. Works on any of the supported grammars (node type names rarely collide in meaning). */
export function classify(node: Node): NodeInfo {
  if (PREFIX_TYPES.has(node.type)) return PREFIX;
  if (node.type === 'export_statement' && field(node, 'source')) return IMPORT;
  if (node.type === 'mod_item' && !field(node, 'body')) return IMPORT;
  if (IMPORT_TYPES.has(node.type)) return IMPORT;
  const n = unwrap(node);
  switch (n.type) {
    // Functions and methods.
    case 'function_declaration':
    case 'generator_function_declaration':
    case 'function_signature':
    case 'function_expression':
    case 'generator_function':
    case 'function':
    case 'arrow_function':
    case 'function_item':
    case 'function_signature_item':
    case 'method_definition':
    case 'method_signature':
    case 'abstract_method_signature':
    case 'constructor_declaration':
    case 'compact_constructor_declaration':
    case 'destructor_declaration':
    case 'local_function_statement':
    case 'method_elem':
    case 'macro_definition':
    case 'preproc_function_def':
      return decl('function', nameText(n), 'body');
    case 'method_declaration': {
      const names = nameText(n);
      const recv = field(n, 'receiver');
      if (recv && names[0]) {
        // Go: func (s *Server) Serve() → Server.Serve and Serve.
        const t = recv.namedChildren[0] ? field(recv.namedChildren[0], 'type') : null;
        const typeName = t ? lastSegment(t.text.replace(/^\*/, '').replace(/\[.*\]$/, '')) : '';
        return decl('function', typeName ? [`${typeName}.${names[0]}`, names[0]] : names, 'body');
      }
      return decl('function', names, 'body');
    }
    case 'operator_declaration':
    case 'conversion_operator_declaration':
      return decl('function', ['operator'], 'body');
    case 'function_definition': {
      const name = field(n, 'name');
      if (name) return decl('function', [name.text], 'body'); // Python
      return decl('function', cDeclaratorName(field(n, 'declarator')), 'body');
    }
    // Classes and other types with members.
    case 'class_declaration':
    case 'abstract_class_declaration':
    case 'class':
    case 'class_definition':
    case 'struct_item':
    case 'union_item':
    case 'struct_declaration':
    case 'record_declaration':
    case 'record_struct_declaration':
      return decl('class', nameText(n), 'class', true);
    case 'class_specifier':
    case 'struct_specifier':
    case 'union_specifier':
      return field(n, 'body') ? decl('class', nameText(n).map(lastSegment), 'class', true) : decl('type', nameText(n).map(lastSegment), 'body');
    case 'impl_item': {
      const t = field(n, 'type');
      const typeName = t ? lastSegment((t.type === 'generic_type' ? field(t, 'type') ?? t : t).text) : '';
      return decl('class', [typeName], 'class', true);
    }
    case 'interface_declaration':
    case 'trait_item':
    case 'annotation_type_declaration':
      return decl('interface', nameText(n), 'class', true);
    case 'enum_declaration':
    case 'enum_item':
    case 'enum_specifier':
      return decl('type', nameText(n), 'class', true);
    case 'type_alias_declaration':
    case 'type_item':
    case 'alias_declaration':
    case 'delegate_declaration':
    case 'associated_type':
    case 'type_alias_statement':
      return decl('type', nameText(n).length ? nameText(n) : patternNamesOf(field(n, 'left')), 'body');
    case 'type_definition': {
      const names: string[] = [];
      for (const d of n.childrenForFieldName('declarator')) if (d?.isNamed) names.push(...cDeclaratorName(d).slice(-1));
      const t = field(n, 'type');
      const withBody = !!t && !!field(t, 'body');
      return decl(withBody && t.type !== 'enum_specifier' ? 'class' : 'type', names, withBody ? 'class' : 'body', withBody);
    }
    case 'type_declaration': {
      // Go: type X struct {...} / type ( A int; B interface{...} )
      const specs = n.namedChildren.filter((c): c is Node => !!c && (c.type === 'type_spec' || c.type === 'type_alias'));
      const names = specs.flatMap((s) => nameText(s));
      const t = specs.length === 1 && specs[0] ? field(specs[0], 'type') : null;
      const kind: ChunkKind = t?.type === 'struct_type' ? 'class' : t?.type === 'interface_type' ? 'interface' : 'type';
      return decl(kind, names, kind === 'type' ? 'body' : 'class', kind !== 'type');
    }
    // Namespaces and modules: chunked like a file when too big.
    case 'internal_module':
    case 'module':
    case 'namespace_definition':
    case 'namespace_declaration':
    case 'mod_item':
      return decl('declarations', nameText(n), 'top');
    case 'linkage_specification':
    case 'foreign_mod_item':
      return decl('declarations', [], 'top');
    // Constants, variables, fields.
    case 'lexical_declaration':
    case 'variable_declaration': {
      const ds = variableDeclarators(n);
      if (ds.length > 0 && ds.every((d) => isRequireCall(field(d, 'value')))) return IMPORT;
      const names: string[] = [];
      for (const d of ds) patternNames(declaratorName(d), names);
      const only = ds.length === 1 && ds[0] ? field(ds[0], 'value') : null;
      if (only && (only.type === 'arrow_function' || only.type === 'function_expression' || only.type === 'function' || only.type === 'generator_function')) {
        return decl('function', names, 'body');
      }
      if (only && only.type === 'class') return decl('class', names, 'class', true);
      return decl('const', names, 'body');
    }
    case 'const_declaration':
    case 'var_declaration': {
      const names: string[] = [];
      const specs = n.namedChildren.flatMap((c) => (c?.type === 'var_spec_list' ? c.namedChildren : [c]));
      for (const s of specs) if (s && (s.type === 'const_spec' || s.type === 'var_spec')) for (const nm of s.childrenForFieldName('name')) if (nm?.isNamed) names.push(nm.text);
      return decl('const', names, 'body');
    }
    case 'const_item':
    case 'static_item':
    case 'preproc_def':
    case 'public_field_definition':
    case 'property_signature':
    case 'enum_assignment':
    case 'enum_variant':
    case 'enum_constant':
    case 'enum_member_declaration':
    case 'enumerator':
    case 'property_declaration':
    case 'event_declaration':
      return decl('const', nameText(n), 'body');
    case 'property_identifier':
      return decl('const', [n.text], 'body'); // TS enum member without initialiser
    case 'field_definition': {
      const p = field(n, 'property');
      return decl('const', p ? [p.text] : [], 'body');
    }
    case 'field_declaration':
    case 'constant_declaration':
    case 'event_field_declaration': {
      const names: string[] = [];
      for (const nm of n.childrenForFieldName('name')) if (nm?.isNamed) names.push(nm.text); // Go, Rust fields
      if (names.length === 0) {
        for (const d of variableDeclarators(n)) patternNames(declaratorName(d), names); // Java, C#
      }
      if (names.length === 0) {
        for (const d of n.childrenForFieldName('declarator')) {
          if (!d?.isNamed) continue;
          if (hasFunctionDeclarator(d)) return decl('function', cDeclaratorName(d), 'body');
          names.push(...cDeclaratorName(d).slice(-1)); // C/C++ members
        }
      }
      return decl('const', names, 'body');
    }
    case 'declaration': {
      // C/C++: prototypes and variables.
      const ds = n.childrenForFieldName('declarator').filter((d): d is Node => !!d?.isNamed);
      if (ds.length > 0 && ds.every((d) => hasFunctionDeclarator(d))) return decl('function', ds.flatMap((d) => cDeclaratorName(d)), 'body');
      const t = field(n, 'type');
      if (t && field(t, 'body') && ds.length === 0) return classify(t);
      return decl('const', ds.flatMap((d) => cDeclaratorName(d).slice(-1)), 'body');
    }
    case 'preproc_call':
      return PREFIX; // #pragma once, #undef ...: goes with what follows
    case 'expression_statement': {
      const e = n.namedChildren[0];
      // 'use strict', module and class docstrings: they introduce what follows.
      if (n.namedChildCount === 1 && e && (e.type === 'string' || e.type === 'concatenated_string')) return PREFIX;
      if (e?.type === 'assignment') {
        // Python module/class attributes.
        const names: string[] = [];
        patternNames(field(e, 'left'), names);
        return decl('const', names, 'body');
      }
      if (e?.type === 'assignment_expression') {
        // CommonJS: exports.x = ... / module.exports.x = ...
        const left = field(e, 'left');
        if (left?.type === 'member_expression' && /^(module\.)?exports\b/.test(left.text)) {
          const prop = field(left, 'property');
          if (prop && left.text !== 'module.exports') return decl('const', [prop.text], 'body');
        }
      }
      return STMT;
    }
  }
  return STMT;
}

function patternNamesOf(node: Node | null): string[] {
  const out: string[] = [];
  patternNames(node, out);
  return out;
}

// ---------------------------------------------------------------------------
// Imports

export interface ImportRef {
  specifier: string;
  names: string[];
  /** 1-based line of the statement. */
  line: number;
}

function importSpecNames(node: Node, out: string[]): void {
  for (const c of node.namedChildren) {
    if (!c) continue;
    if (c.type === 'import_specifier' || c.type === 'export_specifier') {
      const nm = field(c, 'name');
      if (nm) out.push(stripQuotes(nm.text));
    } else if (c.type === 'namespace_import' || c.type === 'namespace_export') {
      out.push('*');
    } else if (c.type === 'identifier') {
      out.push(c.text); // default import: the local name
    } else if (c.type === 'named_imports' || c.type === 'export_clause' || c.type === 'import_clause') {
      importSpecNames(c, out);
    }
  }
}

/** TS/JS `import`, `export ... from`, `import x = require()`. */
export function tsImport(node: Node): ImportRef | undefined {
  const line = node.startPosition.row + 1;
  if (node.type === 'import_statement') {
    const req = node.namedChildren.find((c) => c?.type === 'import_require_clause');
    if (req) {
      const src = field(req, 'source');
      const id = req.namedChildren.find((c) => c?.type === 'identifier');
      return src ? { specifier: stripQuotes(src.text), names: id ? [id.text] : [], line } : undefined;
    }
    const src = field(node, 'source');
    if (!src) return undefined;
    const names: string[] = [];
    importSpecNames(node, names);
    return { specifier: stripQuotes(src.text), names, line };
  }
  if (node.type === 'export_statement') {
    const src = field(node, 'source');
    if (!src) return undefined;
    const names: string[] = [];
    importSpecNames(node, names);
    if (names.length === 0) names.push('*');
    return { specifier: stripQuotes(src.text), names, line };
  }
  return undefined;
}

/** `require('x')` / `import('x')` call → ref, with the names bound when it initialises a declarator. */
export function requireImport(call: Node): ImportRef | undefined {
  const fn = field(call, 'function');
  if (!fn || !(fn.text === 'require' || fn.type === 'import')) return undefined;
  const args = field(call, 'arguments');
  const first = args?.namedChildren[0];
  if (!first || first.type !== 'string' || (args?.namedChildren.length ?? 0) !== 1) return undefined;
  const names: string[] = [];
  let p = call.parent;
  while (p && (p.type === 'member_expression' || p.type === 'await_expression')) {
    if (p.type === 'member_expression') {
      const prop = field(p, 'property');
      if (prop) names.push(prop.text);
    }
    p = p.parent;
  }
  if (names.length === 0 && p?.type === 'variable_declarator') {
    const pattern = field(p, 'name');
    if (pattern?.type === 'object_pattern') {
      // const { a, b: local } = require('x') imports a and b.
      for (const c of pattern.namedChildren) {
        if (c?.type === 'shorthand_property_identifier_pattern') names.push(c.text);
        else if (c?.type === 'pair_pattern') names.push(stripQuotes(field(c, 'key')?.text ?? ''));
        else if (c?.type === 'object_assignment_pattern') patternNames(field(c, 'left'), names);
      }
    } else patternNames(pattern, names);
  }
  return { specifier: stripQuotes(first.text), names, line: call.startPosition.row + 1 };
}

export function pythonImports(node: Node): ImportRef[] {
  const line = node.startPosition.row + 1;
  if (node.type === 'import_statement') {
    return node.childrenForFieldName('name').filter((c): c is Node => !!c?.isNamed).map((c) => {
      const dotted = c.type === 'aliased_import' ? field(c, 'name') : c;
      return { specifier: dotted?.text ?? c.text, names: [], line };
    });
  }
  if (node.type === 'import_from_statement' || node.type === 'future_import_statement') {
    const mod = field(node, 'module_name');
    const names: string[] = [];
    for (const c of node.childrenForFieldName('name')) {
      if (!c?.isNamed) continue;
      names.push(c.type === 'aliased_import' ? field(c, 'name')?.text ?? c.text : c.text);
    }
    if (node.namedChildren.some((c) => c?.type === 'wildcard_import')) names.push('*');
    return [{ specifier: node.type === 'future_import_statement' ? '__future__' : mod?.text ?? '', names, line }];
  }
  return [];
}

export function goImports(node: Node): ImportRef[] {
  const out: ImportRef[] = [];
  const visit = (n: Node): void => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === 'import_spec') {
        const path = field(c, 'path');
        const alias = field(c, 'name');
        if (path) out.push({ specifier: stripQuotes(path.text), names: alias ? [alias.text] : [], line: c.startPosition.row + 1 });
      } else if (c.type === 'import_spec_list') visit(c);
    }
  };
  visit(node);
  return out;
}

export function javaImport(node: Node): ImportRef | undefined {
  const path = node.namedChildren.find((c) => c && (c.type === 'scoped_identifier' || c.type === 'identifier'));
  if (!path) return undefined;
  const wildcard = node.namedChildren.some((c) => c?.type === 'asterisk');
  return { specifier: path.text, names: [wildcard ? '*' : lastSegment(path.text)], line: node.startPosition.row + 1 };
}

/** Rust `use` trees are expanded to one ref per imported path: `use a::{b, c::D}` → `a::b` [b], `a::c::D` [D]. */
export function rustImports(node: Node): ImportRef[] {
  const line = node.startPosition.row + 1;
  if (node.type === 'mod_item') {
    const nm = field(node, 'name');
    return nm ? [{ specifier: nm.text, names: [nm.text], line }] : [];
  }
  if (node.type === 'extern_crate_declaration') {
    const nm = field(node, 'name');
    return nm ? [{ specifier: nm.text, names: [nm.text], line }] : [];
  }
  const out: ImportRef[] = [];
  const join = (prefix: string, p: string): string => (prefix && p ? `${prefix}::${p}` : prefix || p);
  const walk = (n: Node | null, prefix: string): void => {
    if (!n) return;
    switch (n.type) {
      case 'scoped_use_list':
        walk(field(n, 'list'), join(prefix, field(n, 'path')?.text ?? ''));
        return;
      case 'use_list':
        for (const c of n.namedChildren) walk(c, prefix);
        return;
      case 'use_as_clause':
        walk(field(n, 'path'), prefix);
        return;
      case 'use_wildcard': {
        const inner = n.namedChildren[0];
        out.push({ specifier: join(prefix, inner?.text ?? ''), names: ['*'], line });
        return;
      }
      case 'self':
        out.push({ specifier: prefix, names: [lastSegment(prefix)], line });
        return;
      default:
        if (n.type === 'identifier' || n.type === 'scoped_identifier' || n.type === 'crate' || n.type === 'super') {
          const spec = join(prefix, n.text);
          out.push({ specifier: spec, names: [lastSegment(spec)], line });
        }
    }
  };
  walk(field(node, 'argument'), '');
  return out;
}

export function cInclude(node: Node): ImportRef | undefined {
  const path = field(node, 'path');
  if (!path) return undefined;
  const raw = path.text.trim();
  // Quoted includes lose their quotes; system includes keep the angle brackets.
  return { specifier: raw.startsWith('<') ? raw : stripQuotes(raw), names: [], line: node.startPosition.row + 1 };
}

export function csharpUsing(node: Node): ImportRef | undefined {
  const alias = field(node, 'name');
  const target = node.namedChildren.filter((c): c is Node => !!c && c !== alias && (c.type === 'qualified_name' || c.type === 'identifier' || c.type === 'generic_name' || c.type === 'alias_qualified_name'));
  const t = target[target.length - 1];
  if (!t) return undefined;
  return { specifier: t.text, names: alias ? [alias.text] : [], line: node.startPosition.row + 1 };
}
