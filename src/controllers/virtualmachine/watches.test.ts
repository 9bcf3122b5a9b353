import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/object.js';
import type { InformerHandler } from '../../kube/informer.js';
import type { ObjectSource } from '../../kube/source.js';
import type { ResourceStore } from '../../store/store.js';
import { attachmentAsVmSeesIt, watchVirtualMachines } from './watches.js';

const iso = (status: Record<string, unknown>, generation = 1): KubeObject => ({ apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'a', namespace: 'ns', generation }, status });
const ready = { type: 'SourceReady', status: 'True', reason: 'VolumeFound', message: 'x' };

describe('attachmentAsVmSeesIt', () => {
  it('ignores status the VM does not plan with', () => {
    const before = iso({ volume: 'local:iso/a.iso', conditions: [ready, { type: 'Attached', status: 'False', reason: 'Attaching', message: 'waiting' }], phase: 'Attaching' });
    const after = iso({ volume: 'local:iso/a.iso', conditions: [ready, { type: 'Attached', status: 'False', reason: 'Attaching', message: 'still waiting' }], phase: 'Attaching', observedGeneration: 1 });
    expect(attachmentAsVmSeesIt(after)).toBe(attachmentAsVmSeesIt(before));
  });

  it('sees a source becoming ready, a slot recorded, and a spec change', () => {
    const pending = iso({ conditions: [{ ...ready, status: 'False' }] });
    const sourceReady = iso({ volume: 'local:iso/a.iso', conditions: [ready] });
    expect(attachmentAsVmSeesIt(sourceReady)).not.toBe(attachmentAsVmSeesIt(pending));
    expect(attachmentAsVmSeesIt(iso({ volume: 'local:iso/a.iso', slot: 'ide2', conditions: [ready] }))).not.toBe(attachmentAsVmSeesIt(sourceReady));
    expect(attachmentAsVmSeesIt(iso({ volume: 'local:iso/a.iso', conditions: [ready] }, 2))).not.toBe(attachmentAsVmSeesIt(sourceReady));
  });
});

describe('watchVirtualMachines', () => {
  it('wakes the VM when one of its IsoAttachments is deleted (it takes out what it recorded for it)', () => {
    const handlers: InformerHandler<KubeObject>[] = [];
    const source = (collect: boolean): ObjectSource => ({ cache: {} as ObjectSource['cache'], hasSynced: true, on: (h: InformerHandler<KubeObject>) => { if (collect) handlers.push(h); } });
    const woken: string[] = [];
    watchVirtualMachines((key) => woken.push(key), {} as ResourceStore, source(false), source(true), source(false), source(false));
    const attachment: KubeObject = { apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'a', namespace: 'ns', generation: 1 }, spec: { vmRef: { name: 'web' } } };
    handlers[0]!('delete', attachment);
    expect(woken).toEqual(['ns/web']);
  });
});
