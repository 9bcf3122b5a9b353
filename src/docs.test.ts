// docs/troubleshooting.md promises every condition reason bootplane sets. This keeps the promise:
// a literal `reason: 'X'` in non-test code under src/ that the page does not mention fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testdata' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Reasons written as literals, with the files that set them. */
function literalReasons(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/reason: '([A-Z][A-Za-z]+)'/g)) {
      found.set(m[1]!, [...(found.get(m[1]!) ?? []), file.slice(root.length)]);
    }
  }
  return found;
}

describe('docs/troubleshooting.md', () => {
  const page = readFileSync(join(root, 'docs/troubleshooting.md'), 'utf8');
  const documented = new Set([...page.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]));
  const reasons = literalReasons();

  it('finds the reasons in the code (the scan works)', () => {
    expect(reasons.has('DeletionBlocked')).toBe(true);
    expect(reasons.size).toBeGreaterThan(30);
  });

  it('documents every literal condition reason', () => {
    const missing = [...reasons].filter(([reason]) => !documented.has(reason)).map(([reason, files]) => `${reason} (${[...new Set(files)].join(', ')})`);
    expect(missing).toEqual([]);
  });
});
