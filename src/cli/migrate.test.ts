import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { VirtualMachine } from '../api/v1alpha1/virtual-machine.js';
import { findCandidates, withPlacement } from './migrate.js';

const vm = (name: string, over: { spec?: Partial<VirtualMachine['spec']>; status?: VirtualMachine['status'] } = {}): VirtualMachine => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace: 'lab' },
  spec: { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 100 }, osFamily: 'debian', cloudInit: { placement: 'keep' }, ...over.spec } as VirtualMachine['spec'],
  status: { cloudInitSlot: 'ide2', osFamily: 'debian', power: 'Stopped', ...over.status },
});

describe('findCandidates', () => {
  it('lists misplaced drives and says which it leaves and why', () => {
    const found = findCandidates([
      vm('a'),
      vm('b', { status: { power: 'Running', cloudInitSlot: 'ide2', osFamily: 'debian' } }),
      vm('c', { spec: { cloudInit: undefined } }),
      vm('d', { spec: { cloudInit: { placement: 'ide' } as VirtualMachine['spec']['cloudInit'] } }),
      vm('e', { status: { cloudInitSlot: 'scsi1', osFamily: 'debian', power: 'Stopped' } }),
      vm('f', { status: { cloudInitSlot: 'ide2', osFamily: 'rhel', power: 'Stopped' } }),
    ], false);
    expect(found.map((c) => [c.vm.metadata.name, c.preferred, c.skip ?? 'move'])).toEqual([
      ['a', 'scsi', 'move'],
      ['b', 'scsi', 'Running (stop it, or pass --allow-running)'],
      ['c', 'scsi', 'no spec.cloudInit: bootplane does not own this drive\'s content'],
      ['d', 'scsi', 'spec.cloudInit.placement is ide (chosen by hand)'],
    ]);
    expect(findCandidates([vm('b', { status: { power: 'Running', cloudInitSlot: 'ide2', osFamily: 'debian' } })], true)[0]!.skip).toBeUndefined();
  });

  it('takes the machine from spec.hardware', () => {
    const uefiRhel = vm('g', { spec: { hardware: { machine: 'q35', arch: 'x86_64', firmware: 'uefi', cores: 1, memoryMiB: 512 } }, status: { cloudInitSlot: 'ide2', osFamily: 'rhel', power: 'Stopped' } });
    expect(findCandidates([uefiRhel], false)[0]).toMatchObject({ preferred: 'sata' });
  });
});

describe('withPlacement', () => {
  it('edits only the VM document and keeps the rest of the file', () => {
    const text = `# site\napiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: web, namespace: lab}\nspec:\n  osFamily: debian # the OS\n  cloudInit:\n    user: debian\n---\napiVersion: bootplane.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: db, namespace: lab}\nspec: {osFamily: rhel}\n`;
    const out = withPlacement(text, { metadata: { name: 'web', namespace: 'lab' } }, 'auto');
    expect(out).toContain('# site');
    expect(out).toContain('osFamily: debian # the OS');
    expect(out).toMatch(/cloudInit:\n {4}user: debian\n {4}placement: auto\n/);
    expect(parseAllDocuments(out)[1]!.toJS()).toEqual(parseAllDocuments(text)[1]!.toJS()); // the other VM as it was
    expect(() => withPlacement(text, { metadata: { name: 'nope', namespace: 'lab' } }, 'auto')).toThrow(/lab\/nope is not in the manifest/);
  });
});
