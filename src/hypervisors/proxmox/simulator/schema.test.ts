// The request validator against the official schema: the messages PVE::JSONSchema gives.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PveSchema, validateParams } from './schema.js';

const schema = PveSchema.load();
const route = (method: string, path: string) => {
  const r = schema.match(method, path);
  if ('notImplemented' in r) throw new Error(`no route ${method} ${path}`);
  return r;
};
const check = (method: string, path: string, params: Record<string, string>) =>
  validateParams(route(method, path).properties, { ...route(method, path).pathParams, ...params }, schema.namedFormats).errors;

describe('PVE schema validation', () => {
  it('routes literal segments before parameters and knows what is not there', () => {
    expect(route('GET', '/nodes/pve1/qemu/100/config').template).toBe('/nodes/{node}/qemu/{vmid}/config');
    expect(route('GET', '/nodes/pve1/qemu/100').template).toBe('/nodes/{node}/qemu/{vmid}');
    expect(schema.match('PATCH', '/nodes/pve1/qemu/100/config')).toEqual({ notImplemented: true });
  });

  it('expands indexed keys by their documented ranges', () => {
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { ide3: 'none,media=cdrom', sata5: 'none,media=cdrom', scsi30: 'none,media=cdrom' })).toEqual({});
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { ide4: 'none,media=cdrom' }).ide4).toContain('property is not defined in schema');
  });

  it('checks property strings key by key', () => {
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { ide2: 'local:iso/x.iso,media=dvd' }).ide2)
      .toBe("invalid format - format error\nide2.media: value 'dvd' does not have a value in the enumeration 'cdrom, disk'\n\n");
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1' })).toEqual({});
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { boot: 'order=scsi0;ide2;net0' })).toEqual({});
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { boot: 'order=scsi0;floppy9' }).boot).toContain("invalid boot device 'floppy9'");
  });

  it('checks types, enums, dependencies and named formats', () => {
    const errors = check('POST', '/nodes/pve1/storage/local/download-url', { content: 'iso', filename: 'x.iso', url: 'ftp://x', checksum: 'abc' });
    expect(errors).toEqual({ url: 'value does not match the regex pattern', 'checksum-algorithm': "missing property - 'checksum' requires this property" });
    expect(check('GET', '/nodes/bad_node!/qemu/100/config', {}).node).toBe('invalid format - value does not look like a valid node name');
    expect(check('PUT', '/nodes/pve1/qemu/100/config', { delete: 'ide2,9x' }).delete).toBe("invalid format - invalid configuration ID '9x'");
  });
});

describe('the supplement beside the official copy', () => {
  it('adds the snapshot endpoints the official subset lacks', () => {
    expect(route('POST', '/nodes/pve1/qemu/100/snapshot').method.name).toBe('snapshot');
    expect(check('POST', '/nodes/pve1/qemu/100/snapshot', { snapname: 'bad name' }).snapname).toContain('invalid format');
  });

  it('may not replace an endpoint the official copy has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pve-schema-'));
    writeFileSync(join(dir, 'endpoints.json'), JSON.stringify({ endpoints: { '/version': { GET: { method: 'GET', name: 'version' } } } }));
    writeFileSync(join(dir, 'supplement.json'), JSON.stringify({ endpoints: { '/version': { GET: { method: 'GET', name: 'other' } } } }));
    expect(() => PveSchema.load(join(dir, 'endpoints.json'))).toThrow('/version is in the official schema; a supplement may only add endpoints');
  });
});

describe('the schema copy kept in the repository', () => {
  it('is byte for byte the project\'s official copy, where that copy is present', () => {
    const official = join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'pve-api', 'endpoints.json');
    const kept = join(import.meta.dirname, 'pve-api', 'endpoints.json');
    if (!existsSync(official)) return; // a clone outside the project's workspace has only the kept copy
    expect(readFileSync(kept, 'utf8')).toBe(readFileSync(official, 'utf8'));
  });
});
