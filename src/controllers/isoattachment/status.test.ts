import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { attachedCondition, attachedSlot, awaitsFirstAttach, downloadFilename } from './status.js';

const iso = (source: IsoAttachment['spec']['source'], volume?: string): IsoAttachment => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'inst', namespace: 'ns' },
  spec: { vmRef: { name: 'web' }, source, slot: 'auto', purpose: 'installer', primaryBoot: false, ejectPolicy: 'Never', cleanupOnFailure: true },
  ...(volume ? { status: { volume } } : {}),
});
const vm = (status: VirtualMachine['status']): VirtualMachine => ({ apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'ns' }, spec: {} as VirtualMachine['spec'], status });

describe('IsoAttachment status', () => {
  it('names downloads after the URL unless a filename is given', () => {
    expect(downloadFilename(iso({ url: 'https://example.org/pub/talos-amd64.iso?x=1' }))).toBe('talos-amd64.iso');
    expect(downloadFilename(iso({ url: 'https://example.org/latest' }))).toBe('latest.iso');
    expect(downloadFilename(iso({ url: 'https://example.org/x.iso', filename: 'fixed.iso' }))).toBe('fixed.iso');
  });

  it('finds the slot from the VM\'s reported CD-ROMs only', () => {
    const v = vm({ devices: [{ slot: 'scsi0', kind: 'disk', volume: 'local:iso/a.iso' }, { slot: 'ide2', kind: 'cdrom', volume: 'local:iso/a.iso' }] });
    expect(attachedSlot(v, 'local:iso/a.iso')).toBe('ide2');
    expect(attachedSlot(v, 'local:iso/b.iso')).toBeUndefined();
  });

  it('passes on the VM\'s refusal when it names this ISO, and says why it still waits otherwise', () => {
    const refused = vm({ conditions: [{ type: 'MediaConfigured', status: 'False', reason: 'PlanRefused', message: 'ISO ns/inst: q35 has no ide1', lastTransitionTime: 'x' }] });
    expect(attachedCondition(iso({ volume: 'local:iso/a.iso' }, 'local:iso/a.iso'), refused, undefined, false)).toMatchObject({ phase: 'Failed', condition: { reason: 'PlanRefused' } });
    const safe = vm({ conditions: [{ type: 'MediaConfigured', status: 'False', reason: 'SafeMode', message: 'not applied', lastTransitionTime: 'x' }] });
    expect(attachedCondition(iso({ volume: 'local:iso/a.iso' }, 'local:iso/a.iso'), safe, undefined, false)).toMatchObject({ phase: 'Attaching', condition: { reason: 'SafeMode' } });
    expect(attachedCondition(iso({ volume: 'local:iso/a.iso' }, 'local:iso/a.iso'), safe, undefined, true)).toMatchObject({ phase: 'Ejected' });
  });

  it('leaves a new attachment\'s status unwritten only while the VM is about to attach it and nothing is wrong', () => {
    const fresh = iso({ volume: 'local:iso/a.iso' }, 'local:iso/a.iso');
    const converged = vm({ conditions: [{ type: 'MediaConfigured', status: 'True', reason: 'Converged', message: 'x', lastTransitionTime: 'x' }] });
    const waiting = attachedCondition(fresh, converged, undefined, false);
    expect(awaitsFirstAttach(fresh, converged, waiting)).toBe(true);
    expect(awaitsFirstAttach(fresh, vm({}), attachedCondition(fresh, vm({}), undefined, false))).toBe(true);
    // Already written: the status says something; it is kept true.
    expect(awaitsFirstAttach({ ...fresh, status: { ...fresh.status, phase: 'Pending' } }, converged, waiting)).toBe(false);
    // Attached, refused, safe mode, waiting for power-off or a failed apply: written at once.
    expect(awaitsFirstAttach(fresh, converged, attachedCondition(fresh, converged, 'ide2', false))).toBe(false);
    const refused = vm({ conditions: [{ type: 'MediaConfigured', status: 'False', reason: 'PlanRefused', message: 'ISO ns/inst: no free slot', lastTransitionTime: 'x' }] });
    expect(awaitsFirstAttach(fresh, refused, attachedCondition(fresh, refused, undefined, false))).toBe(false);
    for (const reason of ['SafeMode', 'WaitingForPowerOff', 'ApplyFailed']) {
      const stuck = vm({ conditions: [{ type: 'MediaConfigured', status: 'False', reason, message: 'x', lastTransitionTime: 'x' }] });
      expect(awaitsFirstAttach(fresh, stuck, attachedCondition(fresh, stuck, undefined, false))).toBe(false);
    }
  });
});
