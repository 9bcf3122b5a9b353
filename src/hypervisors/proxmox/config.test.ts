import { describe, expect, it } from 'vitest';
import { observedVmFromPveConfig, PveConfigError, readMachineFacts } from './config.js';

// Shaped like GET /nodes/pve/qemu/101/config on PVE 8/9 (integers as numbers, memory as a string).
const debianTemplateClone = {
  boot: 'order=scsi0;ide2;net0',
  cores: 2,
  cpu: 'x86-64-v2-AES',
  digest: '9f3c2a1b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a',
  ide2: 'local-lvm:vm-101-cloudinit,media=cdrom',
  ipconfig0: 'ip=dhcp',
  memory: '2048',
  meta: 'creation-qemu=9.0.2,ctime=1718000000',
  name: 'debian-12-web',
  net0: 'virtio=BC:24:11:2E:1B:5A,bridge=vmbr0,firewall=1',
  numa: 0,
  ostype: 'l26',
  scsi0: 'local-lvm:vm-101-disk-0,iothread=1,size=32G',
  scsihw: 'virtio-scsi-single',
  smbios1: 'uuid=1b2c3d4e-0000-4000-8000-000000000101',
  sockets: 1,
  tags: 'debian;web',
  vmgenid: '2c3d4e5f-0000-4000-8000-000000000101',
};

describe('observedVmFromPveConfig', () => {
  it('reads devices, NICs, boot order, hints, digest and uuid', () => {
    expect(observedVmFromPveConfig(debianTemplateClone, { power: 'Stopped' })).toEqual({
      name: 'debian-12-web',
      osHints: { ostype: 'l26', tags: ['debian', 'web'] },
      machine: { machine: 'pc', arch: 'x86_64', firmware: 'bios' },
      devices: [
        { slot: 'ide2', kind: 'cloudinit', volume: 'local-lvm:vm-101-cloudinit' },
        { slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-101-disk-0', sizeBytes: 32 * 1024 ** 3 },
      ],
      nics: [{ slot: 'net0', mac: 'BC:24:11:2E:1B:5A', model: 'virtio' }],
      bootOrder: ['scsi0', 'ide2', 'net0'],
      power: 'Stopped',
      digest: '9f3c2a1b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a',
      uuid: '1b2c3d4e-0000-4000-8000-000000000101',
    });
  });

  it('an empty CD-ROM has no volume; ISOs are CD-ROMs', () => {
    const vm = observedVmFromPveConfig({ ide2: 'none,media=cdrom', sata0: 'local:iso/virtio-win.iso,media=cdrom' });
    expect(vm.devices).toEqual([{ slot: 'ide2', kind: 'cdrom' }, { slot: 'sata0', kind: 'cdrom', volume: 'local:iso/virtio-win.iso' }]);
    expect(vm.power).toBe('Unknown');
  });

  it('resolves a legacy boot string with bootdisk the way PVE boots it', () => {
    const vm = observedVmFromPveConfig({
      boot: 'cdn', bootdisk: 'virtio0', virtio0: 'local-lvm:vm-102-disk-0,size=8G', ide2: 'local:iso/a.iso,media=cdrom',
      ide0: 'local-lvm:vm-102-cloudinit,media=cdrom', net0: 'e1000=52:54:00:00:00:01,bridge=vmbr0', net1: 'virtio=52:54:00:00:00:02',
    });
    expect(vm.bootOrder).toEqual(['virtio0', 'ide2', 'net0', 'net1']);
    expect(observedVmFromPveConfig({ boot: 'c', bootdisk: 'scsi0', scsi0: 'local-lvm:vm-1-disk-0' }).bootOrder).toEqual(['scsi0']);
  });

  it('a config without boot boots the legacy default (cdn)', () => {
    const vm = observedVmFromPveConfig({ ide2: 'local:iso/a.iso,media=cdrom', scsi0: 'local-lvm:vm-1-disk-0', net0: 'virtio=52:54:00:00:00:01' });
    expect(vm.bootOrder).toEqual(['ide2', 'net0']);
  });

  it('names the key of a config it cannot read', () => {
    expect(() => observedVmFromPveConfig({ scsi1: 'local:iso/a.iso,media=tape' })).toThrow(PveConfigError);
    expect(() => observedVmFromPveConfig({ scsi1: 'local:iso/a.iso,media=tape' })).toThrow(/config key scsi1/);
    expect(() => observedVmFromPveConfig({ boot: 'order=scsi0,legacy=x' })).toThrow(/config key boot/);
  });

  it.each([
    [{}, { machine: 'pc', arch: 'x86_64', firmware: 'bios' }],
    [{ machine: 'q35', bios: 'ovmf' }, { machine: 'q35', arch: 'x86_64', firmware: 'uefi' }],
    [{ machine: 'pc-q35-8.1+pve0,viommu=intel' }, { machine: 'q35', arch: 'x86_64', firmware: 'bios' }],
    [{ machine: 'type=pc-i440fx-9.0' }, { machine: 'pc', arch: 'x86_64', firmware: 'bios' }],
    [{ arch: 'aarch64', bios: 'ovmf' }, { machine: 'virt', arch: 'aarch64', firmware: 'uefi' }],
  ])('machine facts of %j', (config, facts) => {
    expect(readMachineFacts(config)).toEqual(facts);
  });
});
