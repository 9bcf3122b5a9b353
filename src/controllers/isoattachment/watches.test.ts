import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/object.js';
import { vmAsAttachmentsSeeIt } from './watches.js';

const vm = (status: Record<string, unknown>): KubeObject => ({ apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm', namespace: 'ns', generation: 1 }, status });
const converged = { type: 'MediaConfigured', status: 'True', reason: 'Converged', message: 'ISOs: ns/a at ide2' };
const disk = { slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-100-disk-0' };

describe('vmAsAttachmentsSeeIt', () => {
  it('ignores the change record and what the VM reports about its disks and power', () => {
    const before = vm({ devices: [disk], conditions: [converged], power: 'Stopped' });
    const after = vm({ devices: [{ ...disk, sizeGiB: 8 }], conditions: [converged], power: 'Running', operation: { id: 'x', kind: 'media', steps: [] } });
    expect(vmAsAttachmentsSeeIt(after)).toBe(vmAsAttachmentsSeeIt(before));
  });

  it('sees a CD-ROM change, an install ending and a media refusal', () => {
    const before = vm({ devices: [disk], conditions: [converged] });
    expect(vmAsAttachmentsSeeIt(vm({ devices: [disk, { slot: 'ide2', kind: 'cdrom', volume: 'local:iso/a.iso' }], conditions: [converged] }))).not.toBe(vmAsAttachmentsSeeIt(before));
    expect(vmAsAttachmentsSeeIt(vm({ devices: [disk], conditions: [converged], install: { state: 'Installed' } }))).not.toBe(vmAsAttachmentsSeeIt(before));
    expect(vmAsAttachmentsSeeIt(vm({ devices: [disk], conditions: [{ ...converged, status: 'False', reason: 'PlanRefused', message: 'ns/a: no free slot' }] }))).not.toBe(vmAsAttachmentsSeeIt(before));
  });
});
