// Hostile manifests for standalone mode: random text and random YAML objects never make the
// loader throw; every problem names its file and document, and valid documents still load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadManifests } from './manifests.js';

// A fixed seed keeps CI repeatable; set FUZZ_SEED to explore other cases locally.
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261122);

const VALID = 'apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ok}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n';
const kinds = fc.constantFrom('Hypervisor', 'VirtualMachine', 'IsoAttachment', 'BootProfile', 'NodeBootAssignment', 'DisklessSession', 'Secret', 'Pod');
const hostileDoc = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.tuple(kinds, fc.anything({ maxDepth: 3 })).map(([kind, spec]) => stringify({ apiVersion: 'bootplane.io/v1alpha1', kind, metadata: { name: 'x' }, spec })),
  fc.constantFrom('- a\n- b', 'a: [', '{{{', '&a [*a]', 'kind: 7', 'metadata: null', '!!binary AAAA'),
);

describe('manifest loader under hostile input', () => {
  it('never throws, names file and document for each problem, and keeps loading valid documents', () => {
    fc.assert(fc.property(fc.array(hostileDoc, { maxLength: 5 }), (docs) => {
      const dir = mkdtempSync(join(tmpdir(), 'bp-fuzz-site-'));
      try {
        writeFileSync(join(dir, 'hostile.yaml'), docs.join('\n---\n'));
        writeFileSync(join(dir, 'valid.yaml'), VALID);
        const result = loadManifests(dir);
        for (const p of result.problems) {
          expect(p.file).toBeTruthy();
          expect(p.document).toBeGreaterThanOrEqual(0);
          expect(p.message.length).toBeGreaterThan(0);
        }
        expect(result.objects.some((o) => o.file === 'valid.yaml' && o.object.metadata.name === 'ok')).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), { numRuns: 300, seed: FUZZ_SEED });
  }, 60_000); // hundreds of generated cases: seconds on a loaded machine
});
