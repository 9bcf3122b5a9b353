import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiSchema, SchemaError } from './crd.js';
import { renderCrds, unescapeFromHelm } from './render-crds.js';

describe('CRD generation', () => {
  it('crds/ and the Helm chart\'s CRDs match the zod schemas (run `npm run generate` when this fails)', () => {
    for (const [path, text] of Object.entries(renderCrds())) {
      const committed = readFileSync(join(import.meta.dirname, '..', '..', path), 'utf8');
      expect(committed, `${path} is stale`).toBe(text);
    }
  });

  it('keeps the chart\'s CRDs identical to crds/ apart from the Helm wrapper', () => {
    const files = renderCrds();
    for (const [path, text] of Object.entries(files)) {
      if (!path.startsWith('crds/') || path.endsWith('kustomization.yaml')) continue;
      const chart = files[`charts/bootplane/templates/crds/${path.slice('crds/'.length)}`]!;
      const unwrapped = unescapeFromHelm(chart)
        .replace(/^\{\{- if \.Values\.crds\.enabled \}\}\n/m, '')
        .replace(/ {2}\{\{- if \.Values\.crds\.keep \}\}\n {2}annotations:\n {4}helm\.sh\/resource-policy: keep\n {2}\{\{- end \}\}\n/, '')
        .replace(/\{\{- end \}\}\n$/, '');
      expect(unwrapped).toBe(text);
    }
  });

  it('refuses a field without a description', () => {
    const schema = z.object({ a: z.string().max(3) }).describe('x');
    expect(() => openApiSchema(schema, 'T')).toThrow(SchemaError);
    expect(() => openApiSchema(schema, 'T')).toThrow(/T\.a: every field needs a description/);
  });

  it('refuses unbounded strings and lists, which CEL cannot cost', () => {
    expect(() => openApiSchema(z.object({ s: z.string().describe('s') }).describe('x'), 'T')).toThrow(/T\.s: strings need maxLength/);
    expect(() => openApiSchema(z.object({ l: z.array(z.boolean()).describe('l') }).describe('x'), 'T')).toThrow(/T\.l: lists need maxItems/);
  });

  it('refuses unions, which are not structural', () => {
    const schema = z.object({ u: z.union([z.string().max(1), z.number()]).describe('u') }).describe('x');
    expect(() => openApiSchema(schema, 'T')).toThrow(/anyOf is not structural/);
  });

  it('keeps CEL rules, enums, patterns and defaults', () => {
    const crds = renderCrds();
    const vm = crds['crds/virtualmachines.bootplane.io.yaml']!;
    expect(vm).toContain('x-kubernetes-validations');
    expect(vm).toContain('spec.proxmox.node and spec.proxmox.vmid are immutable');
    expect(crds['crds/nodebootassignments.bootplane.io.yaml']).toContain('^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$');
    expect(vm).toContain('x-kubernetes-list-map-keys');
  });
});
