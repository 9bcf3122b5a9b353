// `bootplane plan libvirt` on the domain XML corpus (src/hypervisors/libvirt/testdata/domains).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DomainXml } from '../hypervisors/libvirt/domain-xml.js';
import { PLAN_EXIT, runPlan } from './plan.js';

const domains = fileURLToPath(new URL('../hypervisors/libvirt/testdata/domains/', import.meta.url));

function run(args: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = runPlan(['libvirt', ...args], {
    readFile: (path) => (path === '-' ? stdin ?? '' : readFileSync(`${domains}${path}`, 'utf8')),
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
  });
  return { code, stdout, stderr };
}

describe('bootplane plan libvirt', () => {
  it('attaches an installer, places the cloud-init seed and orders boot on a pc domain', () => {
    const r = run(['--domain-xml', 'virsh-corpus-pc-bios.xml', '--os', 'debian', '--iso', 'default/debian-12.iso@auto,primary', '--cloud-init', 'auto', '--boot', 'cdrom_hd']);
    expect(r.code).toBe(PLAN_EXIT.ok);
    const out = JSON.parse(r.stdout) as { xml: string; steps: { op: string }[]; warnings: string[] };
    expect(out.steps.map((s) => s.op)).toEqual(['createCloudInit', 'attachIso', 'setBootOrder', 'regenerateCloudInit']);
    const vm = DomainXml.parse(out.xml).observe();
    expect(vm.devices).toContainEqual({ slot: 'ide3', kind: 'cdrom', volume: 'default/debian-12.iso' });
    // Debian wants its cloud-init drive on SCSI: a virtio-scsi controller comes with it.
    expect(vm.devices).toContainEqual({ slot: 'scsi0', kind: 'cloudinit', volume: 'default/corpus-pc-bios-cidata.iso' });
    expect(out.xml).toContain("<controller type='scsi' index='0' model='virtio-scsi'/>");
    expect(vm.bootOrder).toEqual(['ide3', 'ide2', 'virtio0']);
    expect(out.xml).not.toContain('<boot dev=');
  });

  it('ejects by libvirt target and boots the disk only', () => {
    const r = run(['--domain-xml', 'virsh-corpus-pc-bios.xml', '--eject', 'hdc', '--boot', 'hd']);
    expect(r.code).toBe(PLAN_EXIT.ok);
    const out = JSON.parse(r.stdout) as { xml: string; steps: { op: string }[] };
    expect(out.steps).toContainEqual({ op: 'detachIso', slot: 'ide2', volume: '/usr/lib/ipxe/ipxe.iso' });
    expect(out.xml).not.toContain('ipxe.iso');
    expect(DomainXml.parse(out.xml).observe().bootOrder).toEqual(['virtio0']);
  });

  it('changes nothing when nothing is asked, byte for byte', () => {
    const text = readFileSync(`${domains}hand-q35-uefi.xml`, 'utf8');
    const r = run(['--domain-xml', '-'], text);
    expect(r.code).toBe(PLAN_EXIT.ok);
    const out = JSON.parse(r.stdout) as { xml: string; steps: unknown[] };
    expect(out.steps).toEqual([]);
    expect(out.xml).toBe(text);
  });

  it('refuses what the planner refuses, on one line, with exit 3', () => {
    const r = run(['--domain-xml', 'virsh-corpus-pc-bios.xml', '--iso', '/x.iso@vda']);
    expect(r.code).toBe(PLAN_EXIT.refused);
    expect(r.stderr).toMatch(/^bootplane plan: refused: .*virtio is never a CD-ROM bus.*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it.each([
    [['--domain-xml', '-'], '<pool/>', /expected <domain>/],
    [['--domain-xml', 'virsh-corpus-pc-bios.xml', '--iso', '/x.iso@sdz'], '', /sd targets are SATA or SCSI; name the slot instead/],
    [['--domain-xml', 'virsh-corpus-pc-bios.xml', '--eject', 'ide3'], '', /--eject ide3: the domain has no ISO at ide3/],
    [['--iso', '/x.iso'], '', /--domain-xml is required/],
  ])('%j is a usage error', (args, stdin, message) => {
    const r = run(args, stdin);
    expect(r.code).toBe(PLAN_EXIT.usage);
    expect(r.stderr).toMatch(message);
  });
});
