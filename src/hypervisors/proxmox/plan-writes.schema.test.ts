// The writes planToPveWrites produces, checked against PVE's official API schema (the copy the
// simulator keeps, simulator/pve-api/endpoints.json): every parameter is one the endpoint
// declares, every drive sub-key belongs to that bus's format, ISO drives carry media=cdrom, and
// the boot order names only valid boot devices.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planMedia } from '../../planning/plan-media.js';
import type { DesiredMedia } from '../../planning/model.js';
import { parsePropertyString } from './codecs/property-string.js';
import { observedVmFromPveConfig, type PveVmConfig } from './config.js';
import { planToPveWrites } from './plan-writes.js';
import { locateSchemaFile } from './simulator/schema.js';


interface ParamSchema { format?: string | Record<string, { alias?: string }>; pattern?: string }
const schema = JSON.parse(readFileSync(locateSchemaFile(), 'utf8')) as {
  endpoints: Record<string, Record<string, { parameters: { properties: Record<string, ParamSchema> } }>>;
};
const configPost = schema.endpoints['/nodes/{node}/qemu/{vmid}/config']?.POST?.parameters.properties ?? {};
const cloudinitPut = schema.endpoints['/nodes/{node}/qemu/{vmid}/cloudinit']?.PUT?.parameters.properties ?? {};

function paramSchema(key: string): ParamSchema | undefined {
  return configPost[key] ?? configPost[key.replace(/\d+$/, '[n]')];
}

const BOOT_DEVICE = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|net([0-9]|[12][0-9]|3[01]))$/;

const testdata = join(import.meta.dirname, 'testdata');
const REQUESTS: DesiredMedia[] = [
  { isos: [{ id: 'a', volume: 'local:iso/a.iso', slot: 'auto', purpose: 'installer', primaryBoot: true }] },
  { isos: [{ id: 'a', volume: 'local:iso/a.iso', slot: 'ide2', purpose: 'installer', primaryBoot: false }], cloudInit: { placement: 'auto' } },
  { isos: [{ id: 'a', volume: 'local:iso/a.iso', slot: 'sata3', purpose: 'drivers', primaryBoot: false }], bootOrder: { preset: 'cdrom_hd' } },
  { isos: [], cloudInit: { placement: 'scsi' }, networkFirst: true },
  { isos: [], bootOrder: { preset: 'hd' }, eject: [{ slot: 'ide2', volume: 'local:iso/Rocky-8.9-x86_64-minimal.iso' }, { slot: 'ide0', volume: 'nfs-iso:iso/okd-agent-answer.iso' }] },
];

describe('planToPveWrites against the PVE API schema', () => {
  const configs = readdirSync(testdata).filter((f) => f.endsWith('.json'));
  const cases = configs.flatMap((file) => REQUESTS.map((request, i) => [file, i, request] as const));

  it.each(cases)('%s, request %i', (file, _, request) => {
    const raw = JSON.parse(readFileSync(join(testdata, file), 'utf8')) as { data?: PveVmConfig } & PveVmConfig;
    const config = raw.data ?? raw;
    let plan;
    try {
      plan = planMedia(observedVmFromPveConfig(config), request);
    } catch {
      return; // refusals are covered elsewhere; only writes are checked here
    }
    for (const step of planToPveWrites(plan, config, { node: 'pve1' }).steps) {
      if (step.method === 'PUT') {
        expect(step.path).toMatch(/^\/nodes\/pve1\/qemu\/\d+\/cloudinit$/);
        for (const key of Object.keys(step.params)) expect(cloudinitPut, key).toHaveProperty(key);
        continue;
      }
      expect(step.path).toMatch(/^\/nodes\/pve1\/qemu\/\d+\/config$/);
      for (const [key, value] of Object.entries(step.params)) {
        const param = paramSchema(key);
        expect(param, `parameter ${key} is not in the schema`).toBeDefined();
        if (key === 'delete') {
          for (const deleted of value.split(',')) expect(paramSchema(deleted), `delete=${deleted}`).toBeDefined();
        } else if (key === 'boot') {
          const order = parsePropertyString(value).pairs.find(([k]) => k === 'order')?.[1] ?? '';
          for (const device of order.split(';')) expect(device).toMatch(BOOT_DEVICE);
        } else if (/^(ide|sata|scsi|virtio)\d+$/.test(key)) {
          const format = param?.format as Record<string, unknown>;
          const parsed = parsePropertyString(value);
          for (const [sub] of parsed.pairs) expect(format, `${key} sub-key ${sub}`).toHaveProperty(sub);
          if (/:iso\//.test(parsed.defaultValue ?? '')) expect(parsed.pairs).toContainEqual(['media', 'cdrom']);
          if (/:cloudinit$/.test(parsed.defaultValue ?? '')) expect(parsed.defaultValue).toMatch(/^[a-z][a-z0-9._-]*:cloudinit$/i);
        } else if (key === 'digest') {
          expect(value.length).toBeLessThanOrEqual(40);
        }
      }
    }
  });
});
