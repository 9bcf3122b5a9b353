import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/object.js';
import type { InformerHandler } from '../../kube/informer.js';
import type { ObjectSource } from '../../kube/source.js';
import type { ResourceStore } from '../../store/store.js';
import { attachmentAsVmSeesIt, watchVirtualMachines } from './watches.js';

const iso = (status: Record<string, unknown>, generation = 1): KubeObject => ({ apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'a', namespace: 'ns', generation }, spec: { vmRef: { name: 'web' }, source: { url: 'https://example.org/a.iso' } }, status });
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

describe('attachmentAsVmSeesIt for a VM with its own record', () => {
  const named = (status: Record<string, unknown>): KubeObject => ({ ...iso(status), metadata: { name: 'a', namespace: 'ns', generation: 1, uid: 'u1' }, spec: { vmRef: { name: 'web' }, source: { volume: 'local:iso/a.iso' } } });
  const vm = (spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'ns' }, spec, status: { attachedIsos: [] } });
  const unwritten = named({});
  const written = named({ volume: 'local:iso/a.iso', slot: 'ide2', phase: 'Attached', conditions: [ready] });

  it('takes the status write that catches up with a volume verified in this process as no news', () => {
    const verified = { volumeFor: () => 'local:iso/a.iso' };
    expect(attachmentAsVmSeesIt(written, vm(), verified)).toBe(attachmentAsVmSeesIt(unwritten, vm(), verified));
  });

  it('sees the same write as news when nothing was verified here (another term, a restart)', () => {
    expect(attachmentAsVmSeesIt(written, vm(), { volumeFor: () => undefined })).not.toBe(attachmentAsVmSeesIt(unwritten, vm(), { volumeFor: () => undefined }));
  });

  it('sees the installer volume arrive in status when the VM installs (install.ts watches for it)', () => {
    const verified = { volumeFor: () => 'local:iso/a.iso' };
    expect(attachmentAsVmSeesIt(written, vm({ install: {} }), verified)).not.toBe(attachmentAsVmSeesIt(unwritten, vm({ install: {} }), verified));
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
