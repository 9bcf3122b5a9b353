// The install lifecycle, pure: NotInstalled -> Installing -> Installed | InstallationFailed.
// The reconciler gathers what it observed (installer media in place, power, the guest agent's
// os-release, the boot server's answers to the machine) and this decides the state, the
// Installed condition and the Event. docs/install.md explains each signal and its limits.
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import type { ObservedVm } from '../../planning/model.js';

export type InstallStatus = NonNullable<VirtualMachineStatus['install']>;
type InstallSpec = NonNullable<VirtualMachineSpec['install']>;

export interface InstallSignals {
  now: Date;
  /** ISO installs: an installer IsoAttachment's volume is in a CD-ROM. Network installs: an assignment names this VM. */
  installerInPlace: boolean;
  power: 'Running' | 'Stopped' | 'Paused' | 'Unknown';
  /** spec.powerState: a VM the spec stops is not an installer that powered off. */
  powerStateWanted?: 'Running' | 'Stopped';
  /** status.guest.osRelease, as the guest agent reported it. */
  osRelease?: string;
  /** Network installs: when the boot server last served the installer (the profile's script). */
  installerServedAt?: string;
  /** Network installs: when the boot server last answered this machine with local boot. */
  localBootAnsweredAt?: string;
}

export interface InstallDecision {
  install: InstallStatus;
  condition: ConditionUpdate;
  /** Come back by then (the timeout), in milliseconds from now. */
  requeueAfterMs?: number;
}

/**
 * Power-offs and boot answers do not all wake the VM's reconcile (a Proxmox VM stopping has no
 * watch), so an install that has not ended is looked at this often.
 */
const INSTALL_POLL_MS = 10_000;

/** Coarse milestones, the only progress bootplane can know without asking the installer. */
const PROGRESS = { notInstalled: 0, installing: 10, installerBooted: 50, installed: 100 } as const;

/**
 * Names of live and installer environments. An agent in one of them is not the installed OS:
 * live ISOs that run qemu-guest-agent report an os-release too.
 */
const INSTALLER_OS = /\b(live|installer|install|rescue|setup|winpe)\b/i;

export function isInstallerOs(osRelease: string): boolean {
  return INSTALLER_OS.test(osRelease);
}

/** Signals that end an install; unset means both. */
export function completionSignals(spec: InstallSpec): ('guestAgent' | 'diskBoot')[] {
  return spec.detectCompletion ?? ['guestAgent', 'diskBoot'];
}

export function decideInstall(spec: InstallSpec | undefined, previous: InstallStatus | undefined, s: InstallSignals): InstallDecision | undefined {
  if (!spec) return undefined;
  const now = s.now.toISOString().replace(/\.\d{3}Z$/, 'Z');

  if (previous?.state === 'Installed') return { install: previous, condition: installedCondition(previous) };
  if (spec.markedInstalled) {
    const install: InstallStatus = { state: 'Installed', ...(previous?.startedAt ? { startedAt: previous.startedAt } : {}), completedAt: now, completedBy: 'mark', progressPercent: PROGRESS.installed };
    return { install, condition: installedCondition(install, 'The install is marked complete (spec.install.markedInstalled).') };
  }
  if (previous?.state === 'InstallationFailed') {
    return { install: previous, condition: failedCondition(spec) };
  }

  if (previous?.state !== 'Installing') {
    if (!s.installerInPlace || s.power !== 'Running') {
      const waitingFor = !s.installerInPlace
        ? spec.source === 'iso' ? 'an installer IsoAttachment in a CD-ROM drive' : 'a NodeBootAssignment that names this VM (spec.vmRef)'
        : 'the VM to run';
      return {
        install: { state: 'NotInstalled', progressPercent: PROGRESS.notInstalled },
        condition: { type: 'Installed', status: 'False', reason: 'NotStarted', message: `The install starts once there is ${waitingFor}.` },
        requeueAfterMs: INSTALL_POLL_MS,
      };
    }
    const install: InstallStatus = { state: 'Installing', startedAt: now, progressPercent: PROGRESS.installing };
    return {
      install, condition: installingCondition(spec),
      requeueAfterMs: Math.min(INSTALL_POLL_MS, spec.timeoutSeconds * 1000),
    };
  }

  // Installing: the first signal that ends it wins.
  const startedAt = previous.startedAt ?? now;
  const since = (t: string | undefined) => t !== undefined && Date.parse(t) >= Date.parse(startedAt);
  const signals = completionSignals(spec);
  const done = (by: 'guestAgent' | 'diskBoot', note: string): InstallDecision => {
    const install: InstallStatus = { state: 'Installed', startedAt, completedAt: now, completedBy: by, progressPercent: PROGRESS.installed };
    return { install, condition: installedCondition(install, note) };
  };
  if (signals.includes('guestAgent') && s.osRelease && !isInstallerOs(s.osRelease)) {
    return done('guestAgent', `The guest agent reports an installed OS: ${s.osRelease}.`);
  }
  if (signals.includes('diskBoot')) {
    if (spec.source === 'network' && since(s.localBootAnsweredAt)) {
      return done('diskBoot', 'The machine asked the boot server again after the installer and was sent to its local disk.');
    }
    if (spec.source === 'iso' && s.power === 'Stopped' && s.powerStateWanted !== 'Stopped') {
      return done('diskBoot', 'The installer powered the VM off; it boots from its own disk from now on.');
    }
  }
  const elapsedMs = s.now.getTime() - Date.parse(startedAt);
  const limitMs = spec.timeoutSeconds * 1000;
  if (elapsedMs >= limitMs) {
    const install: InstallStatus = { state: 'InstallationFailed', startedAt, completedAt: now, completedBy: 'timeout', ...(previous.progressPercent !== undefined ? { progressPercent: previous.progressPercent } : {}) };
    return { install, condition: failedCondition(spec) };
  }
  const booted = spec.source === 'network' && since(s.installerServedAt);
  const install: InstallStatus = { ...previous, startedAt, progressPercent: booted ? PROGRESS.installerBooted : previous.progressPercent ?? PROGRESS.installing };
  return { install, condition: installingCondition(spec), requeueAfterMs: Math.min(INSTALL_POLL_MS, limitMs - elapsedMs) };
}

function installingCondition(spec: InstallSpec): ConditionUpdate {
  const signals = completionSignals(spec);
  return { type: 'Installed', status: 'False', reason: 'Installing', message: `Installing from ${spec.source === 'iso' ? 'ISO' : 'the network'}; it ends by ${[...signals, 'spec.install.markedInstalled'].join(', ')} or fails after ${spec.timeoutSeconds}s.` };
}

function failedCondition(spec: InstallSpec): ConditionUpdate {
  return {
    type: 'Installed', status: 'False', reason: 'Timeout',
    message: `No completion signal (${completionSignals(spec).join(', ')}) within ${spec.timeoutSeconds}s. Check the VM's console for the installer; when the install did finish, set spec.install.markedInstalled: true.`,
  };
}

function installedCondition(install: InstallStatus, how?: string): ConditionUpdate {
  const reason = { mark: 'MarkedInstalled', guestAgent: 'GuestAgentReported', diskBoot: 'BootedFromDisk', timeout: 'Timeout' }[install.completedBy ?? 'mark'];
  return { type: 'Installed', status: 'True', reason, message: how ?? `Installed${install.completedAt ? ` at ${install.completedAt}` : ''} (${install.completedBy ?? 'mark'}).` };
}

/** Network installs: when the installer was last served and when local boot was last answered. */
export function networkBootTimes(assignments: readonly NodeBootAssignment[]): { installerServedAt?: string; localBootAnsweredAt?: string } {
  let installerServedAt: string | undefined;
  let localBootAnsweredAt: string | undefined;
  const later = (a: string | undefined, b: string) => (a === undefined || Date.parse(b) > Date.parse(a) ? b : a);
  for (const a of assignments) {
    const last = a.status?.lastBoot;
    if (!last) continue;
    if (last.answer === 'localBoot') localBootAnsweredAt = later(localBootAnsweredAt, last.time);
    else installerServedAt = later(installerServedAt, last.time);
  }
  return { installerServedAt, localBootAnsweredAt };
}

/** After the install, the machine's assignments stop putting the network first (afterInstall.localBootAssignment). */
export function localBootAfterInstall(spec: VirtualMachineSpec, install: InstallStatus | undefined): boolean {
  return install?.state === 'Installed' && spec.install?.afterInstall?.localBootAssignment !== false;
}

/** What the reconciler observed, as the signals decideInstall reads. */
export function installSignals(
  vm: VirtualMachine, observed: ObservedVm, attachments: readonly IsoAttachment[], assignments: readonly NodeBootAssignment[], now: Date,
): InstallSignals {
  // A medium the hypervisor holds as pending (an IDE CD-ROM added to a running PVE VM) is not in the drive yet.
  const pending = new Set(observed.pending ?? []);
  const inCdrom = new Set(observed.devices.filter((d) => d.kind === 'cdrom' && d.volume && !pending.has(d.slot)).map((d) => d.volume));
  const installerInPlace = vm.spec.install?.source === 'network'
    ? assignments.some((a) => !a.metadata.deletionTimestamp && (a.spec.state ?? 'Enabled') === 'Enabled')
    : attachments.some((a) => a.spec.purpose === 'installer' && a.status?.volume !== undefined && inCdrom.has(a.status.volume));
  return {
    now, installerInPlace, power: observed.power,
    ...(vm.spec.powerState ? { powerStateWanted: vm.spec.powerState } : {}),
    ...(vm.status?.guest?.osRelease ? { osRelease: vm.status.guest.osRelease } : {}),
    ...networkBootTimes(assignments),
  };
}
