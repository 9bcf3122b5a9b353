// A lossless XML tree for libvirt documents. fast-xml-parser reads the text with order kept,
// entities left as written and every value a string; we hold elements, text, comments, CDATA
// and declarations in document order and write them back the way libvirt formats them (single
// quotes, `<x/>` for empty elements). Whatever we do not touch comes out exactly as it went in:
// unknown elements, foreign namespaces (qemu:commandline), <metadata> children, attribute order.
import { XMLParser } from 'fast-xml-parser';

export type XmlNode = XmlElement | { kind: 'text'; text: string } | { kind: 'comment'; text: string } | { kind: 'cdata'; text: string };

export interface XmlElement {
  kind: 'element';
  name: string;
  /** In document order; values exactly as written (entities unexpanded). */
  attrs: [string, string][];
  children: XmlNode[];
  /** Attributes the text wrote in double quotes (libvirt uses single quotes; libxml2 keeps foreign ones double). */
  doubleQuoted?: Set<string>;
}

export interface XmlDocument {
  /** Everything before the root element (declaration, comments, whitespace), verbatim. */
  prolog: string;
  root: XmlElement;
  /** Everything after it (`virsh dumpxml` ends with a newline), verbatim. */
  epilog: string;
}

export class XmlError extends Error {
  readonly code = 'InvalidXml';
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  ignoreDeclaration: false,
  ignorePiTags: false,
});

type Ordered = Record<string, unknown>;

function convert(items: Ordered[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const item of items) {
    const attrs = (item[':@'] ?? {}) as Record<string, string>;
    const key = Object.keys(item).find((k) => k !== ':@')!;
    const value = item[key];
    if (key === '#text') out.push({ kind: 'text', text: String(value) });
    else if (key === '#comment') out.push({ kind: 'comment', text: textOf(value as Ordered[]) });
    else if (key === '#cdata') out.push({ kind: 'cdata', text: textOf(value as Ordered[]) });
    else out.push({ kind: 'element', name: key, attrs: Object.entries(attrs), children: convert(value as Ordered[]) });
  }
  return out;
}

const textOf = (items: Ordered[]): string => items.map((i) => String(i['#text'] ?? '')).join('');

/**
 * The quote character of every attribute, element by element in document order. The parser
 * does not report it, so a scan of the start tags (comments, CDATA and PIs blanked out first)
 * recovers it; both walk the same elements in the same order.
 */
function attributeQuotes(text: string): Set<string>[] {
  const blanked = text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>/g, '');
  const out: Set<string>[] = [];
  for (const tag of blanked.matchAll(/<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/g)) {
    const doubled = new Set<string>();
    for (const a of tag[2]!.matchAll(/([^\s=/>]+)\s*=\s*(["'])/g)) if (a[2] === '"') doubled.add(a[1]!);
    out.push(doubled);
  }
  return out;
}

function assignQuotes(nodes: XmlNode[], quotes: Set<string>[], next: { i: number }): void {
  for (const n of nodes) {
    if (n.kind !== 'element') continue;
    const q = quotes[next.i++];
    if (q && q.size > 0) n.doubleQuoted = q;
    assignQuotes(n.children, quotes, next);
  }
}

/** Where the root element starts: after the declaration, comments, PIs and doctype. */
function rootStart(text: string): number {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    const close = text.startsWith('<?', i) ? text.indexOf('?>', i) + 2
      : text.startsWith('<!--', i) ? text.indexOf('-->', i) + 3
        : text.startsWith('<!', i) ? text.indexOf('>', i) + 1 : -1;
    if (close === -1) return i;
    if (close < i + 2) throw new XmlError('unterminated declaration or comment before the root element');
    i = close;
  }
}

/** Parses a document whose prolog and epilog are kept verbatim and whose root is parsed losslessly. */
export function parseXml(text: string, what = 'XML'): XmlDocument {
  const start = rootStart(text);
  const epilog = /(?:\s|<!--[\s\S]*?-->)*$/.exec(text.slice(start))![0];
  const body = text.slice(start, text.length - epilog.length);
  let parsed: Ordered[];
  try {
    parsed = parser.parse(body, true) as Ordered[];
  } catch (err) {
    throw new XmlError(`${what} is not well-formed: ${(err as Error).message}`, { cause: err });
  }
  const nodes = convert(parsed);
  const roots = nodes.filter((n): n is XmlElement => n.kind === 'element');
  if (roots.length !== 1 || nodes.length !== 1) throw new XmlError(`${what} must have exactly one root element, found ${roots.length}`);
  assignQuotes(nodes, attributeQuotes(body), { i: 0 });
  return { prolog: text.slice(0, start), root: roots[0]!, epilog };
}

function quoteAttr(value: string): string {
  return value.includes("'") ? `"${value}"` : `'${value}'`;
}

function writeNode(node: XmlNode, out: string[]): void {
  switch (node.kind) {
    case 'text': out.push(node.text); return;
    case 'comment': out.push(`<!--${node.text}-->`); return;
    case 'cdata': out.push(`<![CDATA[${node.text}]]>`); return;
    case 'element': {
      out.push(`<${node.name}`);
      for (const [k, v] of node.attrs) out.push(` ${k}=${node.doubleQuoted?.has(k) && !v.includes('"') ? `"${v}"` : quoteAttr(v)}`);
      if (node.children.length === 0) {
        out.push('/>');
        return;
      }
      out.push('>');
      for (const c of node.children) writeNode(c, out);
      out.push(`</${node.name}>`);
    }
  }
}

export function serializeXml(doc: XmlDocument): string {
  const out: string[] = [doc.prolog];
  writeNode(doc.root, out);
  out.push(doc.epilog);
  return out.join('');
}

// ---- element helpers ----

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
export const unescapeXml = (s: string): string => s.replace(/&(lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));|&amp;/g, (m, name: string, dec?: string, hex?: string) => {
  if (m === '&amp;') return '&';
  if (dec) return String.fromCodePoint(Number(dec));
  if (hex) return String.fromCodePoint(parseInt(hex, 16));
  return ({ lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[name] ?? m;
});

export function element(name: string, attrs: Record<string, string> = {}, children: XmlNode[] = []): XmlElement {
  return { kind: 'element', name, attrs: Object.entries(attrs).map(([k, v]) => [k, escapeXml(v)]), children };
}

export const childElements = (e: XmlElement, name?: string): XmlElement[] =>
  e.children.filter((c): c is XmlElement => c.kind === 'element' && (name === undefined || c.name === name));

export const child = (e: XmlElement | undefined, name: string): XmlElement | undefined => e && childElements(e, name)[0];

/** An attribute's value, entities expanded. */
export function attr(e: XmlElement | undefined, name: string): string | undefined {
  const v = e?.attrs.find(([k]) => k === name)?.[1];
  return v === undefined ? undefined : unescapeXml(v);
}

/** Sets an attribute in place (keeping its position) or appends it. */
export function setAttr(e: XmlElement, name: string, value: string): void {
  const existing = e.attrs.find(([k]) => k === name);
  if (existing) existing[1] = escapeXml(value);
  else e.attrs.push([name, escapeXml(value)]);
}

export function removeAttr(e: XmlElement, name: string): void {
  e.attrs = e.attrs.filter(([k]) => k !== name);
}

export function textContent(e: XmlElement | undefined): string | undefined {
  if (!e) return undefined;
  return unescapeXml(e.children.map((c) => (c.kind === 'text' || c.kind === 'cdata' ? c.text : '')).join(''));
}

/** The whitespace that precedes `e` inside `parent` (its indentation), for inserting siblings. */
function indentBefore(parent: XmlElement, index: number): string {
  const prev = parent.children[index - 1];
  return prev?.kind === 'text' && /^\s*$/.test(prev.text) ? prev.text : '';
}

/** Lays out a freshly built element (element children only) one child per line under `indent`. */
function layOut(e: XmlElement, indent: string): void {
  if (e.children.length === 0 || e.children.some((c) => c.kind !== 'element')) return;
  const inner = `${indent}  `;
  const children: XmlNode[] = [];
  for (const c of e.children) {
    layOut(c as XmlElement, inner);
    children.push({ kind: 'text', text: `\n${inner}` }, c);
  }
  children.push({ kind: 'text', text: `\n${indent}` });
  e.children = children;
}

const lastLine = (whitespace: string) => whitespace.slice(whitespace.lastIndexOf('\n') + 1);

/**
 * Inserts `e` as a child of `parent` before the first child named in `before` (or last),
 * indented like its siblings so the document stays readable.
 */
export function insertChild(parent: XmlElement, e: XmlElement, before: string[] = []): void {
  const elements = parent.children;
  let at = elements.findIndex((c) => c.kind === 'element' && before.includes(c.name));
  const siblings = childElements(parent);
  if (at < 0) {
    // After the last element child, keeping the closing indentation last.
    const last = siblings[siblings.length - 1];
    at = last ? elements.indexOf(last) + 1 : elements.length;
    const indent = last ? indentBefore(parent, elements.indexOf(last)) : '';
    layOut(e, lastLine(indent));
    elements.splice(at, 0, ...(indent ? [{ kind: 'text' as const, text: indent }, e] : [e]));
    return;
  }
  const indent = indentBefore(parent, at);
  layOut(e, lastLine(indent));
  elements.splice(at, 0, ...(indent ? [e, { kind: 'text' as const, text: indent }] : [e]));
}

/** Inserts `e` right after `ref` (a child of `parent`), indented like `ref`. */
export function insertAfter(parent: XmlElement, ref: XmlElement, e: XmlElement): void {
  const i = parent.children.indexOf(ref);
  if (i < 0) return insertChild(parent, e);
  const indent = indentBefore(parent, i);
  layOut(e, lastLine(indent));
  parent.children.splice(i + 1, 0, ...(indent ? [{ kind: 'text' as const, text: indent }, e] : [e]));
}

/** Removes `e` and the indentation in front of it. */
export function removeChild(parent: XmlElement, e: XmlElement): void {
  const i = parent.children.indexOf(e);
  if (i < 0) return;
  const prev = parent.children[i - 1];
  if (prev?.kind === 'text' && /^\s*$/.test(prev.text)) parent.children.splice(i - 1, 2);
  else parent.children.splice(i, 1);
}

/** Structural equality that ignores attribute order (libvirt may reorder attributes it rewrites). */
export function sameXml(a: XmlNode, b: XmlNode): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'element' || b.kind !== 'element') return (a as { text: string }).text === (b as { text: string }).text;
  if (a.name !== b.name || a.attrs.length !== b.attrs.length || a.children.length !== b.children.length) return false;
  const battrs = new Map(b.attrs);
  if (!a.attrs.every(([k, v]) => battrs.get(k) === v)) return false;
  return a.children.every((c, i) => sameXml(c, b.children[i]!));
}
