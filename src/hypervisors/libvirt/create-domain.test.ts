import { describe, expect, it } from 'vitest';
import { DomainXml } from './domain-xml.js';
import { planDomainCreate, type LibvirtHardware } from './create-domain.js';

const hardware: LibvirtHardware = {
  cores: 2, memoryMiB: 1024, machine: 'q35', arch: 'x86_64', firmware: 'uefi',
  disks: [{ slot: 'virtio0', sizeGiB: 8, format: 'qcow2' }, { slot: 'scsi1', sizeGiB: 2, storage: 'fast', format: 'raw' }],
  nics: [{ name: 'net0', mac: '52:54:00:AA:BB:CC', model: 'virtio' }, { name: 'net1', model: 'e1000', bridge: 'br0', vlan: 12 }],
};

describe('planDomainCreate', () => {
  const plan = planDomainCreate('create-web', hardware, 'Created by bootplane.\nbootplane-owner=u-1', { defaultPool: 'default', domainType: 'qemu' });

  it('names one volume per disk, in its pool, with its virtual size and format', () => {
    expect(plan.volumes.map(({ pool, name, format, capacityBytes, field }) => ({ pool, name, format, capacityBytes, field }))).toEqual([
      { pool: 'default', name: 'create-web-virtio0.qcow2', format: 'qcow2', capacityBytes: 8 * 2 ** 30, field: 'spec.hardware.disks[0]' },
      { pool: 'fast', name: 'create-web-scsi1.raw', format: 'raw', capacityBytes: 2 * 2 ** 30, field: 'spec.hardware.disks[1]' },
    ]);
    expect(plan.volumes[0]!.xml).toContain("<format type='qcow2'/>");
  });

  it('defines a domain the reader sees as asked: machine, firmware, disks on their slots, MACs, owner', () => {
    const observed = DomainXml.parse(plan.domainXml).observe();
    expect(observed.machine).toEqual({ machine: 'q35', arch: 'x86_64', firmware: 'uefi' });
    expect(observed.devices).toEqual([
      { slot: 'virtio0', kind: 'disk', volume: 'default/create-web-virtio0.qcow2' },
      { slot: 'scsi1', kind: 'disk', volume: 'fast/create-web-scsi1.raw' },
    ]);
    expect(observed.nics).toEqual([{ slot: 'net0', mac: '52:54:00:aa:bb:cc', model: 'virtio' }, { slot: 'net1', mac: '', model: 'e1000' }]);
    expect(observed.createdBy).toBe('u-1');
    expect(plan.domainXml).toContain("<controller type='scsi' index='0' model='virtio-scsi'/>");
    expect(plan.domainXml).toContain("<source bridge='br0'/><vlan><tag id='12'/></vlan>");
  });

  it('uses SeaBIOS (no firmware attribute) for bios', () => {
    const bios = planDomainCreate('create-b', { ...hardware, firmware: 'bios', machine: 'pc' }, 'd', { defaultPool: 'default', domainType: 'kvm' });
    expect(DomainXml.parse(bios.domainXml).observe().machine).toEqual({ machine: 'pc', arch: 'x86_64', firmware: 'bios' });
    expect(bios.domainXml).toMatch(/^<domain type='kvm'>/);
  });

  it('refuses sata and scsi disks that need the same target, as libvirt would', () => {
    expect(() => planDomainCreate('x', { ...hardware, disks: [{ slot: 'sata0', sizeGiB: 1, format: 'qcow2' }, { slot: 'scsi0', sizeGiB: 1, format: 'qcow2' }] }, 'd', { defaultPool: 'default', domainType: 'qemu' }))
      .toThrow(/sdX/);
  });
});
