// `npm run generate`: writes crds/*.yaml, crds/kustomization.yaml and the Helm chart's CRD
// templates from the zod schemas in src/api. With --check it writes nothing and exits 1 when a
// generated file differs from what would be generated.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderCrds } from '../src/api/render-crds.js';

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = false;
for (const [path, text] of Object.entries(renderCrds())) {
  const file = join(root, path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (current === text) continue;
  stale = true;
  if (!check) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  console.log(`${check ? 'stale' : 'wrote'} ${path}`);
}
if (check && stale) process.exit(1);
