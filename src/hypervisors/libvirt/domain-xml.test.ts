import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DomainXml, DomainXmlError } from './domain-xml.js';
import { parseXml, sameXml } from './xml-tree.js';

const dir = join(import.meta.dirname, 'testdata', 'domains');
const corpus = readdirSync(dir).filter((f) => f.endsWith('.xml'));
const load = (f: string) => readFileSync(join(dir, f), 'utf8');

describe('domain XML corpus', () => {
  it('has real virsh dumps and hand-written documents', () => {
    expect(corpus.filter((f) => f.startsWith('virsh-')).length).toBeGreaterThanOrEqual(3);
    expect(corpus.filter((f) => f.startsWith('hand-')).length).toBeGreaterThanOrEqual(2);
  });

  it.each(corpus)('%s round-trips byte for byte', (f) => {
    const text = load(f);
    const doc = DomainXml.parse(text);
    expect(doc.toString()).toBe(text);
    expect(doc.changed).toBe(false);
  });
});

describe('reading a domain', () => {
  it('maps a pc/BIOS domain with legacy <os><boot>', () => {
    const vm = DomainXml.parse(load('virsh-corpus-pc-bios.xml')).observe('Stopped');
    expect(vm.name).toBe('corpus-pc-bios');
    expect(vm.machine).toEqual({ machine: 'pc', arch: 'x86_64', firmware: 'bios' });
    expect(vm.devices).toEqual([
      { slot: 'virtio0', kind: 'disk', volume: '/var/lib/libvirt/images/corpus-pc.qcow2' },
      { slot: 'ide2', kind: 'cdrom', volume: '/usr/lib/ipxe/ipxe.iso' },
    ]);
    expect(vm.nics).toEqual([{ slot: 'net0', mac: '52:54:00:aa:bb:01', model: 'e1000' }]);
    expect(vm.bootOrder).toEqual(['ide2', 'virtio0']);
    expect(vm.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('maps q35 SATA drives, per-device boot order, pool volumes and the libosinfo hint', () => {
    const vm = DomainXml.parse(load('virsh-corpus-q35-sata.xml')).observe();
    expect(vm.machine.machine).toBe('q35');
    expect(vm.osHints).toEqual({ ostype: 'http://debian.org/debian/12' });
    expect(vm.devices.map((d) => [d.slot, d.kind, d.volume])).toEqual([
      ['sata0', 'disk', 'default/corpus-q35.qcow2'],
      ['sata1', 'cdrom', '/usr/lib/ipxe/ipxe.iso'],
      ['sata2', 'cdrom', undefined],
    ]);
    expect(vm.bootOrder).toEqual(['sata1', 'sata0', 'net0']);
  });

  it('recognises UEFI, aarch64 virt and the cloud-init seed drive', () => {
    expect(DomainXml.parse(load('hand-q35-uefi.xml')).observe().machine).toEqual({ machine: 'q35', arch: 'x86_64', firmware: 'uefi' });
    const arm = DomainXml.parse(load('hand-aarch64-virt.xml')).observe();
    expect(arm.machine).toEqual({ machine: 'virt', arch: 'aarch64', firmware: 'uefi' });
    expect(arm.devices).toContainEqual({ slot: 'scsi0', kind: 'cloudinit', volume: 'default/arm-builder-cidata.iso' });
    expect(arm.bootOrder).toEqual(['virtio0', 'net0']);
  });
});

describe('applying a plan', () => {
  it('changes only the CD-ROM source and the boot order, keeping everything else byte for byte', () => {
    const text = load('hand-q35-uefi.xml');
    const doc = DomainXml.parse(text);
    const vm = doc.observe();
    doc.applyPlan({
      devices: vm.devices.map((d) => (d.slot === 'sata1' ? { ...d, volume: 'isos/debian-12.iso' } : d)),
      bootOrder: ['sata1', 'sata0'],
    });
    const out = doc.toString();
    expect(out).not.toContain("<boot dev='hd'/>");
    expect(out).toContain("<disk type='volume' device='cdrom'>");
    expect(out).toContain("<source pool='isos' volume='debian-12.iso'/>\n      <target dev='sdb' bus='sata'/>\n      <readonly/>");
    expect(out).toContain("<target dev='sda' bus='sata'/>\n      <boot order='2'/>\n      <address type='drive'");
    expect(out).toContain("<target dev='sdb' bus='sata'/>\n      <readonly/>\n      <boot order='1'/>");
    // Untouched subtrees are identical: metadata, qemu namespaces, quoting, comments.
    for (const keep of ['<nova:instance', '<qemu:arg value=\'name=opt/com.example/token,string=a&amp;b\'/>', '<libosinfo:os id="http://microsoft.com/win/11"/>', 'virsh edit win-uefi', "<bootmenu enable='yes' timeout='3000'/>"]) {
      expect(out).toContain(keep);
    }
    const before = parseXml(text).root;
    const after = parseXml(out).root;
    for (const name of ['metadata', 'features', 'qemu:commandline', 'qemu:capabilities', 'seclabel', 'clock']) {
      const a = before.children.find((c) => c.kind === 'element' && c.name === name)!;
      const b = after.children.find((c) => c.kind === 'element' && c.name === name)!;
      expect(sameXml(a, b)).toBe(true);
    }
    const again = DomainXml.parse(out).observe();
    expect(again.bootOrder).toEqual(['sata1', 'sata0']);
    expect(again.devices.find((d) => d.slot === 'sata1')?.volume).toBe('isos/debian-12.iso');
  });

  it('adds a CD-ROM drive after the last disk, detaches one the plan drops, and never touches disks', () => {
    const doc = DomainXml.parse(load('virsh-corpus-pc-bios.xml'));
    doc.applyPlan({
      devices: [
        { slot: 'virtio0', kind: 'disk', volume: '/var/lib/libvirt/images/corpus-pc.qcow2' },
        { slot: 'ide0', kind: 'cloudinit', volume: 'default/corpus-pc-bios-cidata.iso' },
      ],
      bootOrder: ['virtio0'],
    });
    const vm = DomainXml.parse(doc.toString()).observe();
    expect(vm.devices).toEqual([
      { slot: 'virtio0', kind: 'disk', volume: '/var/lib/libvirt/images/corpus-pc.qcow2' },
      { slot: 'ide0', kind: 'cloudinit', volume: 'default/corpus-pc-bios-cidata.iso' },
    ]);
    expect(vm.bootOrder).toEqual(['virtio0']);
    expect(doc.toString()).not.toContain('<boot dev=');

    const refuse = DomainXml.parse(load('virsh-corpus-pc-bios.xml'));
    expect(() => refuse.applyPlan({ devices: [{ slot: 'virtio0', kind: 'cdrom', volume: '/x.iso' }], bootOrder: [] })).toThrow(DomainXmlError);
    expect(() => refuse.applyPlan({ devices: [], bootOrder: ['scsi3'] })).toThrow(/scsi3/);
  });

  it('empties a tray without removing the drive when the plan keeps an empty CD-ROM', () => {
    const doc = DomainXml.parse(load('virsh-corpus-pc-bios.xml'));
    doc.applyPlan({ devices: [{ slot: 'virtio0', kind: 'disk' }, { slot: 'ide2', kind: 'cdrom' }], bootOrder: ['virtio0'] });
    const vm = DomainXml.parse(doc.toString()).observe();
    expect(vm.devices.find((d) => d.slot === 'ide2')).toEqual({ slot: 'ide2', kind: 'cdrom' });
  });

  it('refuses documents that are not domains', () => {
    expect(() => DomainXml.parse('<pool/>')).toThrow(/expected <domain>/);
    expect(() => DomainXml.parse('<domain><name>x</domain>')).toThrow(/not well-formed/);
  });
});
