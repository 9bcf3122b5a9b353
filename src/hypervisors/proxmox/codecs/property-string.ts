// PVE's packed "property strings": `value,key=value,key=value`. One value may come without a key
// (the schema's default key, for example a drive's file); everything else is `key=value` split
// on commas. PVE prints them with the default key first and the other keys sorted, so parsing and
// printing a config PVE wrote gives the same string back. Values holding a comma or a quote are
// written in double quotes with backslash escapes, as PVE's newer property-string code does.

export class PropertyStringError extends Error {
  readonly code = 'InvalidPropertyString';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface PropertyList {
  /** The value given without a key, if any. */
  defaultValue?: string;
  /** `key=value` pairs in the order they appeared. */
  pairs: [string, string][];
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') return { value, end: i + 1 };
    value += c;
    i += 1;
  }
  throw new PropertyStringError(`unterminated quoted value in ${JSON.stringify(text)}`);
}

/** Splits a property string into its default value and key=value pairs, keeping their order. */
export function parsePropertyString(text: string): PropertyList {
  const result: PropertyList = { pairs: [] };
  const seen = new Set<string>();
  let i = 0;
  while (i <= text.length) {
    // One part: up to the next comma outside quotes.
    let key: string | undefined;
    let value: string;
    const eq = nextSeparator(text, i);
    if (eq.kind === 'equals') {
      key = text.slice(i, eq.at);
      i = eq.at + 1;
    }
    if (text[i] === '"') {
      const quoted = readQuoted(text, i);
      value = quoted.value;
      i = quoted.end;
      if (i < text.length && text[i] !== ',') {
        throw new PropertyStringError(`unexpected text after a quoted value in ${JSON.stringify(text)}`);
      }
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      value = text.slice(i, end);
      i = end;
    }
    i += 1; // skip the comma (or step past the end)
    if (key === undefined) {
      if (value.trim() === '') continue;
      if (result.defaultValue !== undefined) {
        throw new PropertyStringError(`two values without a key in ${JSON.stringify(text)}`);
      }
      result.defaultValue = value;
      continue;
    }
    if (key === '') throw new PropertyStringError(`missing key before '=' in ${JSON.stringify(text)}`);
    if (seen.has(key)) throw new PropertyStringError(`duplicate key ${JSON.stringify(key)} in ${JSON.stringify(text)}`);
    seen.add(key);
    result.pairs.push([key, value]);
  }
  return result;
}

function nextSeparator(text: string, from: number): { kind: 'equals' | 'comma' | 'end'; at: number } {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '=') return { kind: 'equals', at: i };
    if (text[i] === ',') return { kind: 'comma', at: i };
    if (text[i] === '"') return { kind: 'comma', at: i };
  }
  return { kind: 'end', at: text.length };
}

function quoteIfNeeded(value: string): string {
  if (!/[,"]/.test(value)) return value;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Prints a default value (if any) and then `key=value` pairs in the order given. */
export function formatPropertyString(list: PropertyList): string {
  const parts: string[] = [];
  if (list.defaultValue !== undefined) parts.push(quoteIfNeeded(list.defaultValue));
  for (const [key, value] of list.pairs) parts.push(`${key}=${quoteIfNeeded(value)}`);
  return parts.join(',');
}

/** PVE's print order: the default key first, then every other key sorted. */
export function sortedPairs(record: Record<string, string>): [string, string][] {
  return Object.keys(record).sort().map((key) => [key, record[key] as string]);
}
