// Identifiers and their subtokens: the vocabulary ranking works on.

const IDENT = /[A-Za-z_$][A-Za-z0-9_$]*/g;

/** Words that are syntax in common languages, not names worth matching on. */
const KEYWORDS = new Set(
  ('abstract and as assert async await break case catch class const continue def default defer del delete do elif else enum export extends ' +
    'false final finally fn for from func function go if impl implements import in instanceof interface is lambda let loop match mod module mut ' +
    'namespace new nil none not null of or package pass private protected pub public raise return self static struct super switch this throw ' +
    'throws trait true try type typeof undefined use using var void where while with yield string number boolean int float bool char long ' +
    'double byte short unsigned signed auto std include define ifdef ifndef endif readonly override virtual const_cast sizeof')
    .split(' '),
);

/** Whole identifiers in order of appearance (keywords and 1-char names dropped). */
export function identifiersIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IDENT)) {
    const id = m[0];
    if (id.length > 1 && !KEYWORDS.has(id)) out.push(id);
  }
  return out;
}

/** Splits `parseHTTPRequest_v2` into `parse`, `http`, `request`, `v2` (lower-cased). */
export function subtokens(identifier: string): string[] {
  const parts = identifier
    .replace(/\$/g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .split('_');
  const out: string[] = [];
  for (const p of parts) {
    if (p.length > 1) out.push(p.toLowerCase());
  }
  return out;
}

/** Identifiers repeat endlessly in code: remember their subtokens (bounded, cleared when full). */
const subtokenMemo = new Map<string, string[]>();
const MEMO_LIMIT = 200_000;

function memoSubtokens(id: string): string[] {
  let parts = subtokenMemo.get(id);
  if (!parts) {
    if (subtokenMemo.size >= MEMO_LIMIT) subtokenMemo.clear();
    parts = subtokens(id);
    subtokenMemo.set(id, parts);
  }
  return parts;
}

/** Distinct lower-cased subtokens of all identifiers in `text`, in first-seen order. */
export function subtokenSet(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(IDENT)) {
    const id = m[0];
    if (id.length < 2 || KEYWORDS.has(id)) continue;
    for (const t of memoSubtokens(id)) seen.add(t);
  }
  return [...seen];
}
