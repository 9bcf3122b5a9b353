import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { attachedCondition, attachedSlot, downloadFilename } from './status.js';

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
});
