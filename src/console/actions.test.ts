import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../api/v1alpha1/virtual-machine.js';
import { ActionError, ActionRequest, attachmentName, planAction } from './actions.js';

function vm(extra: Partial<VirtualMachine['spec']> = {}, labels?: Record<string, string>): VirtualMachine {
  return {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine',
    metadata: { name: 'web', namespace: 'prod', ...(labels ? { labels } : {}) },
    spec: { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 100 }, bootOrder: { preset: 'hd' }, ...extra } as VirtualMachine['spec'],
  };
}

function objects(v: VirtualMachine, isos: IsoAttachment[] = [], assignments: NodeBootAssignment[] = []) {
  return {
    vm: (ns: string, n: string) => (ns === 'prod' && n === v.metadata.name ? v : undefined),
    attachment: (ns: string, n: string) => isos.find((i) => i.metadata.name === n && ns === 'prod'),
    assignments: (_ns: string, n: string) => assignments.filter((a) => a.spec.vmRef?.name === n),
  };
}

const parse = (body: unknown) => ActionRequest.parse(body);

describe('planAction', () => {
  it('replaces a preset by an explicit order as a merge patch that clears the preset', () => {
    const change = planAction(parse({ action: 'bootOrder', namespace: 'prod', name: 'web', devices: ['ide2', 'scsi0'] }), objects(vm()));
    expect(change.operation).toBe('patch');
    expect(change.patch).toEqual({ spec: { bootOrder: { preset: null, devices: ['ide2', 'scsi0'] } } });
    expect(change.diff).toContain('-     preset: hd');
    expect(change.diff).toContain('+       - ide2');
  });

  it('refuses bad input naming the field', () => {
    expect(ActionRequest.safeParse({ action: 'bootOrder', namespace: 'prod', name: 'web', devices: ['floppy0'] }).error?.issues[0]?.path).toEqual(['devices', 0]);
    expect(ActionRequest.safeParse({ action: 'bootOrder', namespace: 'prod', name: 'web', preset: 'hd', devices: ['scsi0'] }).success).toBe(false);
  });

  it('marks installed only a VM that has an install', () => {
    expect(() => planAction(parse({ action: 'markInstalled', namespace: 'prod', name: 'web' }), objects(vm()))).toThrow(ActionError);
    const change = planAction(parse({ action: 'markInstalled', namespace: 'prod', name: 'web' }), objects(vm({ install: { source: 'iso', timeoutSeconds: 3600, markedInstalled: false } } as never)));
    expect(change.patch).toEqual({ spec: { install: { markedInstalled: true } } });
  });

  it('creates an IsoAttachment for an attach, and deletes only one that belongs to the VM', () => {
    const create = planAction(parse({ action: 'attachIso', namespace: 'prod', name: 'web', volume: 'local:iso/Debian 12.iso', slot: 'ide2' }), objects(vm()));
    expect(create.operation).toBe('create');
    expect(create.object?.metadata.name).toBe('web-debian-12');
    expect(create.object?.spec).toEqual({ vmRef: { name: 'web' }, source: { volume: 'local:iso/Debian 12.iso' }, slot: 'ide2', purpose: 'installer' });
    const other = { metadata: { name: 'x', namespace: 'prod' }, spec: { vmRef: { name: 'db' } } } as IsoAttachment;
    expect(() => planAction(parse({ action: 'detachIso', namespace: 'prod', name: 'web', attachment: 'x' }), objects(vm(), [other]))).toThrow(/does not attach/);
  });

  it('marks a change to an object a GitOps tool owns', () => {
    const change = planAction(parse({ action: 'bootOrder', namespace: 'prod', name: 'web', preset: 'cdrom_hd' }), objects(vm({}, { 'kustomize.toolkit.fluxcd.io/name': 'site', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' })));
    expect(change.gitOps).toEqual({ tool: 'Flux', owner: 'flux-system/site' });
    expect(change.after).toContain('preset: cdrom_hd');
  });

  it('boots once from the network by re-arming the VM\'s NodeBootAssignment, and says so when there is none', () => {
    expect(() => planAction(parse({ action: 'bootOnceNetwork', namespace: 'prod', name: 'web' }), objects(vm()))).toThrow(/no NodeBootAssignment names VirtualMachine prod\/web/);
    const assignment = { apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name: 'web-pxe', namespace: 'prod' }, spec: { vmRef: { name: 'web' }, profileRef: { name: 'talos' }, bootMode: 'Once', bootOnceEpoch: 3, state: 'Disabled' } } as NodeBootAssignment;
    const change = planAction(parse({ action: 'bootOnceNetwork', namespace: 'prod', name: 'web' }), objects(vm(), [], [assignment]));
    expect(change.kind).toBe('NodeBootAssignment');
    expect(change.name).toBe('web-pxe');
    expect(change.patch).toEqual({ spec: { bootOnceEpoch: 4, state: 'Enabled' } });
  });

  it('names attachments readably', () => {
    expect(attachmentName('vm', 'isos/virtio-win.iso')).toBe('vm-virtio-win');
  });
});
