import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import type { ObservedVm } from '../../planning/model.js';
import { decideInstall, installSignals, isInstallerOs, localBootAfterInstall, networkBootTimes, type InstallSignals, type InstallStatus } from './install.js';

type Spec = NonNullable<VirtualMachine['spec']['install']>;
const iso = (over: Partial<Spec> = {}): Spec => ({ source: 'iso', timeoutSeconds: 600, markedInstalled: false, ...over });
const net = (over: Partial<Spec> = {}): Spec => ({ source: 'network', timeoutSeconds: 600, markedInstalled: false, ...over });
const T0 = new Date('2026-11-22T08:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const signals = (over: Partial<InstallSignals> = {}): InstallSignals => ({ now: T0, installerInPlace: true, power: 'Running', ...over });
const installing: InstallStatus = { state: 'Installing', startedAt: '2026-11-22T08:00:00Z', progressPercent: 10 };

describe('decideInstall', () => {
  it('has no lifecycle without spec.install', () => {
    expect(decideInstall(undefined, undefined, signals())).toBeUndefined();
  });

  it('stays NotInstalled until the installer is in place and the VM runs, and says which is missing', () => {
    const noMedia = decideInstall(iso(), undefined, signals({ installerInPlace: false }))!;
    expect(noMedia.install.state).toBe('NotInstalled');
    expect(noMedia.condition).toMatchObject({ type: 'Installed', status: 'False', reason: 'NotStarted' });
    expect(noMedia.condition.message).toContain('installer IsoAttachment');
    expect(decideInstall(net(), undefined, signals({ installerInPlace: false }))!.condition.message).toContain('NodeBootAssignment');
    expect(decideInstall(iso(), undefined, signals({ power: 'Stopped' }))!.condition.message).toContain('the VM to run');
  });

  it('starts Installing with the start time and keeps looking for a signal', () => {
    const d = decideInstall(iso({ timeoutSeconds: 900 }), { state: 'NotInstalled' }, signals())!;
    expect(d.install).toEqual({ state: 'Installing', startedAt: '2026-11-22T08:00:00Z', progressPercent: 10 });
    expect(d.condition.reason).toBe('Installing');
    expect(d.requeueAfterMs).toBe(10_000);
  });

  it.each([
    ['guest agent, installed OS', iso(), signals({ osRelease: 'Debian GNU/Linux 12 (bookworm)' }), 'guestAgent', 'GuestAgentReported'],
    ['ISO installer powered the VM off', iso(), signals({ power: 'Stopped' }), 'diskBoot', 'BootedFromDisk'],
    ['network: local boot answered after the start', net(), signals({ localBootAnsweredAt: '2026-11-22T08:05:00Z' }), 'diskBoot', 'BootedFromDisk'],
  ] as const)('completes on a signal: %s', (_name, spec, s, by, reason) => {
    const d = decideInstall(spec, installing, { ...s, now: at(300) })!;
    expect(d.install).toMatchObject({ state: 'Installed', startedAt: installing.startedAt, completedAt: '2026-11-22T08:05:00Z', completedBy: by, progressPercent: 100 });
    expect(d.condition).toMatchObject({ type: 'Installed', status: 'True', reason });
  });

  it.each([
    ['an agent in a live or installer environment', iso(), signals({ osRelease: 'Fedora CoreOS 40 Live' })],
    ['guestAgent not among the signals', iso({ detectCompletion: ['diskBoot'] }), signals({ osRelease: 'Debian GNU/Linux 12' })],
    ['diskBoot not among the signals', iso({ detectCompletion: ['guestAgent'] }), signals({ power: 'Stopped' })],
    ['a VM the spec itself stops', iso(), signals({ power: 'Stopped', powerStateWanted: 'Stopped' })],
    ['a local-boot answer from before the install started', net(), signals({ localBootAnsweredAt: '2026-11-22T07:59:00Z' })],
    ['an ISO install seeing a network answer', iso(), signals({ localBootAnsweredAt: '2026-11-22T08:01:00Z' })],
  ] as const)('does not complete on %s', (_name, spec, s) => {
    expect(decideInstall(spec, installing, { ...s, now: at(60) })!.install.state).toBe('Installing');
  });

  it('fails at the timeout with a condition that says what to check, and stays failed', () => {
    const d = decideInstall(iso({ timeoutSeconds: 600 }), installing, signals({ now: at(600) }))!;
    expect(d.install).toMatchObject({ state: 'InstallationFailed', completedBy: 'timeout', completedAt: '2026-11-22T08:10:00Z' });
    expect(d.condition).toMatchObject({ status: 'False', reason: 'Timeout' });
    expect(d.condition.message).toContain('markedInstalled');
    // A later signal does not revive it; a person's mark does.
    expect(decideInstall(iso(), d.install, signals({ now: at(700), osRelease: 'Debian GNU/Linux 12' }))!.install.state).toBe('InstallationFailed');
    expect(decideInstall(iso({ markedInstalled: true }), d.install, signals({ now: at(800) }))!.install).toMatchObject({ state: 'Installed', completedBy: 'mark' });
  });

  it('comes back at the timeout when it is nearer than the next look', () => {
    expect(decideInstall(iso({ timeoutSeconds: 600 }), installing, signals({ now: at(450) }))!.requeueAfterMs).toBe(10_000);
    expect(decideInstall(iso({ timeoutSeconds: 600 }), installing, signals({ now: at(596) }))!.requeueAfterMs).toBe(4_000);
  });

  it('reports the installer booting from the network as half way', () => {
    expect(decideInstall(net(), installing, signals({ now: at(30), installerServedAt: '2026-11-22T08:00:10Z' }))!.install.progressPercent).toBe(50);
  });

  it('takes a mark from any state and keeps Installed for good', () => {
    const d = decideInstall(iso({ markedInstalled: true }), undefined, signals({ installerInPlace: false, power: 'Stopped' }))!;
    expect(d.install).toMatchObject({ state: 'Installed', completedBy: 'mark' });
    expect(d.condition.reason).toBe('MarkedInstalled');
    const kept = decideInstall(iso(), d.install, signals({ now: at(99_999) }))!;
    expect(kept.install).toBe(d.install);
  });
});

describe('install signals', () => {
  it('recognises installer environments by name', () => {
    expect(isInstallerOs('Ubuntu 24.04 LTS (live server)')).toBe(true);
    expect(isInstallerOs('Debian GNU/Linux 12 (bookworm)')).toBe(false);
  });

  const nba = (lastBoot?: { time: string; answer?: 'profile' | 'localBoot' }, state: 'Enabled' | 'Disabled' = 'Enabled'): NodeBootAssignment => ({
    apiVersion: 'bootplane.io/v1alpha1', kind: 'NodeBootAssignment', metadata: { name: 'm', namespace: 'ns' },
    spec: { vmRef: { name: 'web' }, profileRef: { name: 'p' }, bootMode: 'Once', bootOnceEpoch: 0, state } as NodeBootAssignment['spec'],
    ...(lastBoot ? { status: { lastBoot: { ...lastBoot, clientIP: '10.0.0.9', scriptHash: 'x' } } } : {}),
  });

  it('reads installer and local-boot answers from the assignments', () => {
    expect(networkBootTimes([nba({ time: '2026-11-22T08:01:00Z' })])).toEqual({ installerServedAt: '2026-11-22T08:01:00Z', localBootAnsweredAt: undefined });
    expect(networkBootTimes([nba({ time: '2026-11-22T08:09:00Z', answer: 'localBoot' })]).localBootAnsweredAt).toBe('2026-11-22T08:09:00Z');
  });

  const vm = (install: Spec, status?: VirtualMachine['status']): VirtualMachine => ({
    apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'ns' },
    spec: { hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 100 }, install } as VirtualMachine['spec'], ...(status ? { status } : {}),
  });
  const observed = (cdrom?: string): ObservedVm => ({
    name: 'web', osHints: {}, machine: { machine: 'pc', arch: 'x86_64', firmware: 'bios' }, nics: [], bootOrder: [], power: 'Running',
    devices: [{ slot: 'scsi0', kind: 'disk', volume: 'local-lvm:vm-100-disk-0' }, ...(cdrom ? [{ slot: 'ide2', kind: 'cdrom' as const, volume: cdrom }] : [])],
  });
  const installer = (volume: string, purpose: 'installer' | 'drivers' = 'installer'): IsoAttachment => ({
    apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'i', namespace: 'ns' },
    spec: { vmRef: { name: 'web' }, source: { volume }, purpose } as IsoAttachment['spec'], status: { volume },
  });

  it('sees the installer in place only when its volume is in a CD-ROM drive (ISO) or an enabled assignment names the VM (network)', () => {
    expect(installSignals(vm(iso()), observed('local:iso/d.iso'), [installer('local:iso/d.iso')], [], T0).installerInPlace).toBe(true);
    expect(installSignals(vm(iso()), observed(), [installer('local:iso/d.iso')], [], T0).installerInPlace).toBe(false);
    expect(installSignals(vm(iso()), { ...observed('local:iso/d.iso'), pending: ['ide2'] }, [installer('local:iso/d.iso')], [], T0).installerInPlace).toBe(false);
    expect(installSignals(vm(iso()), observed('local:iso/v.iso'), [installer('local:iso/v.iso', 'drivers')], [], T0).installerInPlace).toBe(false);
    expect(installSignals(vm(net()), observed(), [], [nba()], T0).installerInPlace).toBe(true);
    expect(installSignals(vm(net()), observed(), [], [nba(undefined, 'Disabled')], T0).installerInPlace).toBe(false);
    expect(installSignals(vm(iso(), { guest: { osRelease: 'Debian GNU/Linux 12' } }), observed(), [], [], T0).osRelease).toBe('Debian GNU/Linux 12');
  });

  it('stops putting the network first once installed, unless afterInstall keeps the assignment', () => {
    const spec = (local?: boolean) => vm(net(local === undefined ? {} : { afterInstall: { ejectInstallerIsos: true, localBootAssignment: local } })).spec;
    expect(localBootAfterInstall(spec(), { state: 'Installed' })).toBe(true);
    expect(localBootAfterInstall(spec(false), { state: 'Installed' })).toBe(false);
    expect(localBootAfterInstall(spec(), { state: 'Installing' })).toBe(false);
  });
});
