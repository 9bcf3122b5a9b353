// The console's static files, held in memory: the bundle (hashed names, cached for a year) and
// the one HTML page that names them (never cached, so a new bundle is picked up at once).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleConsole, type BundledFile } from './bundle.js';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

export class ConsoleAssetsMissing extends Error {
  readonly code = 'ConsoleAssetsMissing';
}

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };

/** dist/console beside the compiled code (dist/src/console -> dist/console). */
const BUILT_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

async function loadFiles(): Promise<BundledFile[]> {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) {
    const manifest = `${BUILT_DIR}manifest.json`;
    if (!existsSync(manifest)) throw new ConsoleAssetsMissing(`the console bundle is missing at ${BUILT_DIR}: run \`npm run build\` (it runs hack/build-console.ts)`);
    const names = JSON.parse(readFileSync(manifest, 'utf8')) as string[];
    return names.map((name) => ({ name, contents: readFileSync(`${BUILT_DIR}${name}`) }));
  }
  return bundleConsole();
}

function page(script: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>bootplane console</title>
<link rel="stylesheet" href="/assets/${style}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<noscript>The bootplane console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
}

export async function loadConsoleAssets(): Promise<{ assets: Map<string, Asset>; index: Asset }> {
  const files = await loadFiles();
  const assets = new Map<string, Asset>();
  for (const f of files) {
    const body = Buffer.from(f.contents);
    const ext = f.name.slice(f.name.lastIndexOf('.') + 1);
    assets.set(`/assets/${f.name}`, { body, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, immutable: true });
  }
  const script = files.find((f) => f.name.startsWith('main-') && f.name.endsWith('.js'));
  const style = files.find((f) => f.name.startsWith('style-') && f.name.endsWith('.css'));
  if (!script || !style) throw new ConsoleAssetsMissing(`the console bundle has no main-*.js or style-*.css (found ${files.map((f) => f.name).join(', ')})`);
  const html = Buffer.from(page(script.name, style.name));
  const index: Asset = { body: html, type: 'text/html; charset=utf-8', etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"`, immutable: false };
  return { assets, index };
}
