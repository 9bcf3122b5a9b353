// Build step for the web console: bundles src/console/ui into dist/console (hashed names), which
// the compiled controller serves from memory. Run by `npm run build` and by hack/test.sh.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleConsole } from '../src/console/bundle.js';

const out = join(import.meta.dirname, '..', 'dist', 'console');
const files = await bundleConsole();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const f of files) writeFileSync(join(out, f.name), f.contents);
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(files.map((f) => f.name))}\n`);
console.log(`console assets: ${files.map((f) => `${f.name} (${f.contents.length} bytes)`).join(', ')} -> ${out}`);
