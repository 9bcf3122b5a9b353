import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import type { ObservedVm, Step } from '../../planning/model.js';
import { desiredMedia, networkBootActive, observedStatus, readyCondition, relocationNeedingPowerOff, restartRequiredCondition, stepsInEffect } from './status.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';

const vm = (spec: Partial<VirtualMachine['spec']> = {}, status?: VirtualMachine['status'], deleting = false): VirtualMachine => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name: 'web', namespace: 'ns', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 100 }, source: 'adopt', disruptiveChanges: 'Pending', safeMode: false, ...spec } as VirtualMachine['spec'],
  ...(status ? { status } : {}),
});

const ready = [{ type: 'SourceReady', status: 'True' as const, reason: 'VolumeFound', message: '', lastTransitionTime: 'x' }];
const iso = (name: string, opts: { volume?: string; slot?: string; deleting?: boolean; eject?: 'Never' | 'AfterInstall'; ready?: boolean } = {}): IsoAttachment => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment',
  metadata: { name, namespace: 'ns', ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { vmRef: { name: 'web' }, source: { volume: opts.volume ?? `local:iso/${name}.iso` }, slot: 'auto', purpose: 'installer', primaryBoot: false, ejectPolicy: opts.eject ?? 'Never', cleanupOnFailure: true },
  status: { volume: opts.volume ?? `local:iso/${name}.iso`, ...(opts.slot ? { slot: opts.slot } : {}), conditions: opts.ready === false ? [] : ready },
});

const observed = (over: Partial<ObservedVm> = {}): ObservedVm => ({
  name: 'web', osHints: {}, machine: { machine: 'pc', arch: 'x86_64', firmware: 'bios' },
  devices: [{ slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-100-disk-0' }, { slot: 'ide2', kind: 'cdrom', volume: 'local:iso/a.iso' }, { slot: 'sata0', kind: 'cloudinit', volume: 'local-lvm:vm-100-cloudinit' }],
  nics: [{ slot: 'net0', mac: 'BC:24:11:00:00:01', model: 'virtio' }], bootOrder: ['scsi0', 'ide2'], power: 'Stopped', ...over,
});

describe('desiredMedia', () => {
  it('asks for ready ISOs, skips ones whose source is not ready, and ejects only what bootplane recorded', () => {
    const desired = desiredMedia(vm({ osFamily: 'debian', cloudInit: { placement: 'scsi' } as VirtualMachine['spec']['cloudInit'] }), [
      iso('b'), iso('a', { ready: false }), iso('gone', { deleting: true, slot: 'ide3' }), iso('never-attached', { deleting: true }),
    ]);
    expect(desired.isos.map((i) => i.id)).toEqual(['ns/b']);
    expect(desired.eject).toEqual([{ slot: 'ide3', volume: 'local:iso/gone.iso' }]);
    expect(desired.osFamily).toBe('debian');
    expect(desired.cloudInit).toEqual({ placement: 'scsi' });
  });

  it('ejects AfterInstall ISOs once installed, and every ISO when the VM is being deleted', () => {
    const installed = vm({ install: { source: 'iso', timeoutSeconds: 60, markedInstalled: true } as VirtualMachine['spec']['install'] }, { install: { state: 'Installed' } });
    const d = desiredMedia(installed, [iso('inst', { eject: 'AfterInstall', slot: 'ide2' }), iso('keep', { slot: 'sata1' })]);
    expect(d.isos.map((i) => i.id)).toEqual(['ns/keep']);
    expect(d.eject).toEqual([{ slot: 'ide2', volume: 'local:iso/inst.iso' }]);
    const gone = desiredMedia(vm({}, undefined, true), [iso('keep', { slot: 'sata1' })]);
    expect(gone.isos).toEqual([]);
    expect(gone.eject).toEqual([{ slot: 'sata1', volume: 'local:iso/keep.iso' }]);
  });
});

describe('stepsInEffect', () => {
  it('finds which steps of an interrupted change the VM shows', () => {
    const now = observed();
    expect(stepsInEffect(now, [
      { op: 'removeCloudInit', slot: 'ide2' },
      { op: 'createCloudInit', slot: 'sata0' },
      { op: 'attachIso', slot: 'ide2', volume: 'local:iso/a.iso' },
      { op: 'attachIso', slot: 'ide3', volume: 'local:iso/b.iso' },
      { op: 'setBootOrder', order: ['scsi0', 'ide2', 'ide3'], previous: ['scsi0'] },
      { op: 'regenerateCloudInit' },
    ]).map((s) => s.op + ('slot' in s ? `:${s.slot}` : ''))).toEqual(['removeCloudInit:ide2', 'createCloudInit:sata0', 'attachIso:ide2']);
  });
});

describe('VM status', () => {
  it('reports devices, NICs, boot order and the cloud-init slot', () => {
    expect(observedStatus(observed())).toMatchObject({ cloudInitSlot: 'sata0', bootOrderText: 'scsi0,ide2', macAddresses: ['BC:24:11:00:00:01'], devices: expect.arrayContaining([{ slot: 'net0', kind: 'network' }]) });
  });

  it('asks for a restart only while a running VM holds pending changes', () => {
    expect(restartRequiredCondition(observed({ power: 'Running', pending: ['boot', 'sata1'] }))).toMatchObject({ status: 'True', message: expect.stringContaining('boot, sata1') });
    expect(restartRequiredCondition(observed({ power: 'Stopped', pending: ['boot'] })).status).toBe('False');
  });

  it('summarises into Ready', () => {
    const c = (type: string, status: 'True' | 'False', reason = type) => ({ type, status, reason, message: reason, lastTransitionTime: 'x' });
    expect(readyCondition([c('HypervisorReady', 'True'), c('VmFound', 'True'), c('MediaConfigured', 'True'), c('RestartRequired', 'False')]).status).toBe('True');
    expect(readyCondition([c('HypervisorReady', 'True'), c('VmFound', 'True'), c('MediaConfigured', 'False', 'PlanRefused')])).toMatchObject({ status: 'False', reason: 'PlanRefused' });
    expect(readyCondition([c('VmFound', 'True'), c('MediaConfigured', 'True'), c('RestartRequired', 'True')]).reason).toBe('RestartRequired');
    expect(readyCondition([c('VmFound', 'True'), c('MediaConfigured', 'True'), c('Installed', 'False', 'Installing')])).toMatchObject({ status: 'False', reason: 'Installing' });
    expect(readyCondition([c('VmFound', 'True'), c('MediaConfigured', 'True'), c('Installed', 'True', 'BootedFromDisk')]).status).toBe('True');
  });
});

describe('relocationNeedingPowerOff', () => {
  const vm = (power: ObservedVm['power']): ObservedVm => ({ name: 'web', osHints: {}, machine: { machine: 'pc', arch: 'x86_64', firmware: 'bios' }, devices: [], nics: [], bootOrder: [], power });
  const move: Step[] = [{ op: 'removeCloudInit', slot: 'ide2' }, { op: 'createCloudInit', slot: 'scsi1' }, { op: 'regenerateCloudInit' }];
  it('holds a cloud-init move while the VM runs, naming both slots', () => {
    expect(relocationNeedingPowerOff(vm('Running'), move)).toContain('from ide2 to scsi1 needs the VM powered off');
  });
  it('lets it through on a stopped VM, and lets other changes through on a running one', () => {
    expect(relocationNeedingPowerOff(vm('Stopped'), move)).toBeUndefined();
    expect(relocationNeedingPowerOff(vm('Running'), [{ op: 'attachIso', slot: 'ide0', volume: 'local:iso/a.iso' }])).toBeUndefined();
  });
});

describe('networkBootActive', () => {
  const nba = (spec: Partial<NodeBootAssignment['spec']>, status?: NodeBootAssignment['status']): NodeBootAssignment => ({
    apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name: 'a', namespace: 'lab' },
    spec: { vmRef: { name: 'web' }, profileRef: { name: 'p' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled', ...spec }, status,
  });
  it('is on for an enabled assignment, and for a boot-once one until its boot is used', () => {
    expect(networkBootActive([nba({})])).toBe(true);
    expect(networkBootActive([nba({ bootMode: 'Once', bootOnceEpoch: 1 })])).toBe(true);
    expect(networkBootActive([nba({ bootMode: 'Once', bootOnceEpoch: 1 }, { bootOnceConsumedEpoch: 1 })])).toBe(false);
  });
  it('is off for disabled assignments and when there are none', () => {
    expect(networkBootActive([nba({ state: 'Disabled' })])).toBe(false);
    expect(networkBootActive([])).toBe(false);
  });
  it('asks the planner for network first only then', () => {
    const web = vm({ bootOrder: { preset: 'hd' } } as Partial<VirtualMachine['spec']>);
    expect(desiredMedia(web, [], true).networkFirst).toBe(true);
    expect(desiredMedia(web, [], false).networkFirst).toBeUndefined();
  });
});
