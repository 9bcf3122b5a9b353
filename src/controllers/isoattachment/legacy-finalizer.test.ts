import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { legacyFinalizerDecision } from './legacy-finalizer.js';

const iso = (deleting: boolean, status: IsoAttachment['status'] = { slot: 'ide2', volume: 'local:iso/a.iso' }): IsoAttachment => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment',
  metadata: { name: 'a', namespace: 'ns', finalizers: ['bootplane.io/finalizer'], ...(deleting ? { deletionTimestamp: 'x' } : {}) },
  spec: { vmRef: { name: 'web' }, source: { volume: 'local:iso/a.iso' }, slot: 'auto', purpose: 'installer', primaryBoot: false, ejectPolicy: 'Never', cleanupOnFailure: true },
  status,
});
const vm = (opts: { holds?: boolean; recorded?: boolean; deleting?: boolean; reachable?: boolean } = {}): VirtualMachine => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name: 'web', namespace: 'ns', ...(opts.deleting ? { deletionTimestamp: 'x' } : {}) },
  spec: {} as VirtualMachine['spec'],
  status: {
    devices: opts.holds === false ? [] : [{ slot: 'ide2', kind: 'cdrom', volume: 'local:iso/a.iso' }],
    ...(opts.recorded ? { attachedIsos: [{ name: 'a', volume: 'local:iso/a.iso', slot: 'ide2' }] } : {}),
    conditions: [{ type: 'HypervisorReady', status: opts.reachable === false ? 'False' : 'True', reason: 'x', message: 'x', lastTransitionTime: 'x' }],
  },
});

describe('the finalizer older versions put on IsoAttachments', () => {
  it('holds a deleting object until the VM no longer shows the recorded slot', () => {
    expect(legacyFinalizerDecision(iso(true), vm())).toBe('wait');
    expect(legacyFinalizerDecision(iso(true), vm({ recorded: true }))).toBe('wait');
    expect(legacyFinalizerDecision(iso(true), vm({ holds: false }))).toBe('release');
    expect(legacyFinalizerDecision(iso(true), undefined)).toBe('release');
    expect(legacyFinalizerDecision(iso(true, {}), vm())).toBe('release');
  });

  it('waits for a VM being deleted only while its hypervisor answers', () => {
    expect(legacyFinalizerDecision(iso(true), vm({ deleting: true }))).toBe('wait');
    expect(legacyFinalizerDecision(iso(true), vm({ deleting: true, reachable: false }))).toBe('release');
  });

  it('goes from a live object once the VM has its own record, or when the VM does not hold the ISO', () => {
    expect(legacyFinalizerDecision(iso(false), vm())).toBe('wait');
    expect(legacyFinalizerDecision(iso(false), vm({ recorded: true }))).toBe('release');
    expect(legacyFinalizerDecision(iso(false), vm({ holds: false }))).toBe('release');
    expect(legacyFinalizerDecision(iso(false, {}), vm())).toBe('release');
  });
});
