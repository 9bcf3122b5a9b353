// The create and clone parameters checked against PVE's official schema (the copy the simulator
// validates with), so a request PVE would refuse with a 400 fails here first.
import { describe, expect, it } from 'vitest';
import { pveCloneParams, pveCreateParams, type PveHardware } from './create-params.js';
import { PveSchema, validateParams } from './simulator/schema.js';

const schema = PveSchema.load();

function schemaErrors(method: string, path: string, params: Record<string, string>): Record<string, string> {
  const route = schema.match(method, path);
  if ('notImplemented' in route) throw new Error(`${method} ${path} is not in the schema`);
  const withPath = { ...params, ...route.pathParams };
  return validateParams(route.properties, withPath, schema.namedFormats).errors;
}

const hardware: PveHardware = {
  cores: 4, memoryMiB: 4096, machine: 'q35', arch: 'x86_64', firmware: 'uefi',
  disks: [{ slot: 'scsi0', sizeGiB: 32, format: 'qcow2' }, { slot: 'virtio1', sizeGiB: 8, storage: 'local', format: 'raw' }],
  nics: [{ name: 'net0', mac: '52:54:00:ab:cd:ef', model: 'virtio', bridge: 'vmbr1', vlan: 30 }, { name: 'net1', model: 'e1000' }],
};

describe('pveCreateParams', () => {
  it('turns spec.hardware into create parameters', () => {
    expect(pveCreateParams(120, 'web', hardware, 'made by bootplane', 'debian')).toEqual({
      vmid: '120', name: 'web', description: 'made by bootplane', cores: '4', memory: '4096', ostype: 'l26',
      machine: 'q35', bios: 'ovmf', efidisk0: 'local-lvm:1,efitype=4m,pre-enrolled-keys=0', scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:32,format=qcow2', virtio1: 'local:8,format=raw',
      net0: 'virtio=52:54:00:AB:CD:EF,bridge=vmbr1,tag=30', net1: 'model=e1000,bridge=vmbr0',
    });
  });

  it('describes an aarch64 guest as PVE wants it', () => {
    const params = pveCreateParams(121, 'arm', { ...hardware, machine: 'virt', arch: 'aarch64', disks: [], nics: [] }, 'd', undefined);
    expect(params).toMatchObject({ machine: 'virt', arch: 'aarch64' });
    expect(params.ostype).toBeUndefined();
  });

  it('passes the PVE schema', () => {
    for (const family of ['windows', 'fcos', undefined] as const) {
      expect(schemaErrors('POST', '/nodes/pve1/qemu', pveCreateParams(120, 'web', hardware, 'Created by bootplane.\nbootplane-owner=abc', family))).toEqual({});
    }
  });

  it('clone parameters pass the PVE schema', () => {
    expect(schemaErrors('POST', '/nodes/pve1/qemu/9000/clone', pveCloneParams(130, 'web', false, 'd', 'pve2'))).toEqual({});
    expect(pveCloneParams(130, 'web', true, 'd', undefined)).toEqual({ newid: '130', name: 'web', description: 'd', full: '1' });
  });
});
