import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import type { ObservedVm, Plan } from '../../planning/model.js';
import { planMedia } from '../../planning/plan-media.js';
import { isoRecord, plannedEntries, recordAfter, recordAhead } from './iso-record.js';
import { desiredMedia } from './status.js';

const vm = (status?: VirtualMachine['status'], deleting = false): VirtualMachine => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name: 'web', namespace: 'ns', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 100 }, source: 'adopt', disruptiveChanges: 'Pending', safeMode: false } as VirtualMachine['spec'],
  ...(status ? { status } : {}),
});
const iso = (name: string, status?: IsoAttachment['status']): IsoAttachment => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name, namespace: 'ns' },
  spec: { vmRef: { name: 'web' }, source: { volume: `local:iso/${name}.iso` }, slot: 'auto', purpose: 'installer', primaryBoot: false, ejectPolicy: 'Never', cleanupOnFailure: true },
  ...(status ? { status } : {}),
});
const observed = (cdroms: Record<string, string | undefined>): ObservedVm => ({
  name: 'web', osHints: {}, machine: { machine: 'pc', arch: 'x86_64', firmware: 'bios' },
  devices: [{ slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-100-disk-0' }, ...Object.entries(cdroms).map(([slot, volume]) => ({ slot, kind: 'cdrom' as const, ...(volume ? { volume } : {}) }))],
  nics: [], bootOrder: ['scsi0'], power: 'Stopped',
});
const ready = [{ type: 'SourceReady', status: 'True' as const, reason: 'VolumeFound', message: '', lastTransitionTime: 'x' }];

describe('the VM\'s ISO record', () => {
  it('is the VM\'s status.attachedIsos once written, even when empty', () => {
    const written = vm({ attachedIsos: [{ name: 'a', volume: 'local:iso/a.iso', slot: 'ide2' }] });
    expect(isoRecord(written, [iso('b', { slot: 'ide3', volume: 'local:iso/b.iso' })])).toEqual([{ name: 'a', volume: 'local:iso/a.iso', slot: 'ide2' }]);
    expect(isoRecord(vm({ attachedIsos: [] }), [iso('b', { slot: 'ide3', volume: 'local:iso/b.iso' })])).toEqual([]);
  });

  it('is seeded from the IsoAttachments\' status on a VM an older bootplane wrote (the upgrade)', () => {
    expect(isoRecord(vm({}), [iso('a', { slot: 'ide2', volume: 'local:iso/a.iso' }), iso('pending', { volume: 'local:iso/pending.iso' }), iso('new')])).toEqual([{ name: 'a', volume: 'local:iso/a.iso', slot: 'ide2' }]);
  });

  it('names before a change what the plan attaches, and after it only what the VM holds', () => {
    const record = [{ name: 'old', volume: 'local:iso/old.iso', slot: 'ide3' }];
    const desired = desiredMedia(vm({ attachedIsos: record }), [iso('a', { volume: 'local:iso/a.iso', conditions: ready }), iso('old', { volume: 'local:iso/old.iso', conditions: ready })]);
    const plan = planMedia(observed({ ide2: undefined, ide3: 'local:iso/old.iso' }), desired);
    const planned = plannedEntries(desired, plan);
    expect(planned).toEqual([{ name: 'a', volume: 'local:iso/a.iso', slot: 'ide2' }, { name: 'old', volume: 'local:iso/old.iso', slot: 'ide3' }]);
    expect(recordAhead(record, planned)).toEqual([{ name: 'a', volume: 'local:iso/a.iso', slot: 'ide2' }, { name: 'old', volume: 'local:iso/old.iso', slot: 'ide3' }]);
    // The attach failed (or was rolled back): only what the VM shows stays recorded.
    expect(recordAfter(recordAhead(record, planned), planned, observed({ ide2: undefined, ide3: 'local:iso/old.iso' }))).toEqual(record);
    // A medium taken out (by bootplane or by hand) leaves the record.
    expect(recordAfter(record, [], observed({ ide3: undefined }))).toEqual([]);
  });

  it('keeps one entry per slot, the name the plan placed there now', () => {
    const record = [{ name: 'gone', volume: 'local:iso/x.iso', slot: 'ide2' }];
    const planned = [{ name: 'new', volume: 'local:iso/x.iso', slot: 'ide2' }];
    expect(recordAfter(record, planned, observed({ ide2: 'local:iso/x.iso' }))).toEqual(planned);
  });
});

describe('handing back what the record names', () => {
  const recorded = (entries: { name: string; slot: string }[]) => vm({ attachedIsos: entries.map((e) => ({ ...e, volume: `local:iso/${e.name}.iso` })) });

  it('ejects what was attached for an IsoAttachment that is gone (no finalizer held it)', () => {
    const d = desiredMedia(recorded([{ name: 'gone', slot: 'ide2' }, { name: 'kept', slot: 'ide3' }]), [iso('kept', { volume: 'local:iso/kept.iso', conditions: ready })]);
    expect(d.eject).toEqual([{ slot: 'ide2', volume: 'local:iso/gone.iso' }]);
    expect(d.isos.map((i) => i.id)).toEqual(['ns/kept']);
  });

  it('ejects the old volume when the IsoAttachment wants another, and keeps it while the new one is not known good', () => {
    const v = recorded([{ name: 'a', slot: 'ide2' }]);
    const other = { ...iso('a', { volume: 'local:iso/b.iso', conditions: ready }), spec: { ...iso('a').spec, source: { volume: 'local:iso/b.iso' } } };
    expect(desiredMedia(v, [other]).eject).toEqual([{ slot: 'ide2', volume: 'local:iso/a.iso' }]);
    const unchecked = { ...other, status: {} };
    expect(desiredMedia(v, [unchecked]).eject).toEqual([]);
    expect(desiredMedia(v, [unchecked]).isos).toEqual([]);
  });

  it('hands back everything recorded when the VM is deleted', () => {
    const d = desiredMedia({ ...recorded([{ name: 'a', slot: 'ide2' }, { name: 'gone', slot: 'sata1' }]), metadata: { ...vm().metadata, deletionTimestamp: 'x' } }, [iso('a', { volume: 'local:iso/a.iso', conditions: ready })]);
    expect(d.isos).toEqual([]);
    expect(d.eject).toEqual([{ slot: 'ide2', volume: 'local:iso/a.iso' }, { slot: 'sata1', volume: 'local:iso/gone.iso' }]);
  });

  it('never detaches anything but a CD-ROM holding exactly the recorded volume', () => {
    const d = desiredMedia(vm({ attachedIsos: [{ name: 'gone', volume: 'local:iso/gone.iso', slot: 'scsi0' }, { name: 'swapped', volume: 'local:iso/swapped.iso', slot: 'ide2' }] }), []);
    const o = observed({ ide2: 'local:iso/someone-elses.iso' });
    const plan: Plan = planMedia(o, d);
    expect(plan.steps.filter((s) => s.op === 'detachIso' || s.op === 'swapMedia' || s.op === 'removeCloudInit')).toEqual([]);
    expect(plan.warnings.join(' ')).toContain('never detached');
  });
});
