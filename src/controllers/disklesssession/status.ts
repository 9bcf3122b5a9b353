// Pure decisions of the DisklessSession controller: the names a session's target and copy get,
// which MAC the machine has, whether another session holds that machine, and the summary.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { DisklessSession } from '../../api/v1alpha1/diskless-session.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { macHex, normalizeMac } from '../../boot/identity.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { keyOf } from '../../kube/object.js';
import { redact } from '../../targets/images/source.js';
import { byCodeUnits } from '../../order.js';

export type Phase = NonNullable<NonNullable<DisklessSession['status']>['phase']>;

/** The IQN naming authority of everything bootplane creates (and of BootProfiles' default initiator IQN). */
export const IQN_PREFIX = 'iqn.2024-01.io.bootplane';
export const SESSION_LUN = 1;

/** One target per session: namespace and name, hashed when they would pass the IQN limit (223). */
export function targetIqn(session: DisklessSession): string {
  const plain = `${IQN_PREFIX}:${session.metadata.namespace ?? 'default'}.${session.metadata.name}`;
  if (plain.length <= 223) return plain;
  const hash = createHash('sha256').update(keyOf(session)).digest('hex').slice(0, 16);
  return `${plain.slice(0, 200)}.${hash}`;
}

/** The machine's initiator IQN, the same one a sanboot BootProfile gives it by default. */
export function initiatorIqn(mac: string): string {
  return `${IQN_PREFIX}:${macHex(mac)}`;
}

/**
 * ephemeral: a file for this session alone (its uid, so a new session of the same name never
 * meets an old copy). persistent: the machine's own file, found again by every later session.
 */
export function copyPath(session: DisklessSession, mac: string, defaultDirectory: string): string {
  const dir = session.spec.target.copyDirectory ?? defaultDirectory;
  const ns = session.metadata.namespace ?? 'default';
  if (session.spec.mode === 'persistent') return join(dir, 'persistent', `${ns}_${macHex(mac)}.img`);
  return join(dir, `${ns}_${session.metadata.name}_${(session.metadata.uid ?? 'nouid').slice(0, 8)}.img`);
}

export function imageLabel(session: DisklessSession): string {
  return session.spec.image.path ?? redact(session.spec.image.url ?? '');
}

export interface MachineIdentity {
  mac?: string;
  address?: string;
  condition: ConditionUpdate;
}

export function identifyMachine(session: DisklessSession, assignment: NodeBootAssignment | undefined): MachineIdentity {
  const machine = session.spec.machine;
  if (machine.mac) {
    const mac = normalizeMac(machine.mac) ?? machine.mac.toLowerCase();
    return { mac, condition: { type: 'MachineIdentified', status: 'True', reason: 'MacAddress', message: `The machine with MAC ${mac}.` } };
  }
  const name = machine.assignmentRef?.name ?? '';
  if (!assignment) {
    return { condition: { type: 'MachineIdentified', status: 'False', reason: 'AssignmentNotFound', message: `NodeBootAssignment ${name} does not exist in this namespace; create it or fix spec.machine.assignmentRef.` } };
  }
  const mac = [assignment.spec.mac, ...(assignment.status?.macAddresses ?? [])].map((m) => (m ? normalizeMac(m) : undefined)).find(Boolean);
  if (!mac) {
    return { condition: { type: 'MachineIdentified', status: 'False', reason: 'MacAddressesUnknown', message: `NodeBootAssignment ${name} has no MAC address yet (it identifies its machine by UUID or its VM has not reported MACs).` } };
  }
  return { mac, address: assignment.spec.ipAddress, condition: { type: 'MachineIdentified', status: 'True', reason: 'Assignment', message: `The machine of NodeBootAssignment ${name}, MAC ${mac}.` } };
}

/** Whether a session still holds (or is about to hold) its machine. */
export function holdsMachine(session: DisklessSession): boolean {
  if (session.metadata.deletionTimestamp) return true;
  const phase = session.status?.phase;
  if (phase === 'Stopped' || phase === 'Failed') return false;
  return session.spec.state !== 'Stopped' || phase === 'Stopping';
}

/**
 * The session that holds this MAC before this one: the oldest of the others that hold it (then
 * by name), so exactly one of several sessions on one machine goes ahead.
 */
export function machineHolder(self: DisklessSession, claimants: readonly DisklessSession[]): DisklessSession | undefined {
  const order = (s: DisklessSession) => `${s.metadata.creationTimestamp ?? ''}\0${keyOf(s)}`;
  const mine = order(self);
  return claimants
    .filter((s) => keyOf(s) !== keyOf(self) && holdsMachine(s) && (s.status?.phase === 'Active' || s.status?.phase === 'Provisioning' || s.status?.phase === 'Stopping' || order(s) < mine))
    .sort((a, b) => byCodeUnits(order(a), order(b)))[0];
}

/** Ready: True once Active; otherwise the first condition that is not True explains why not. */
export function readyCondition(phase: Phase, steps: readonly ConditionUpdate[]): ConditionUpdate {
  if (phase === 'Active') return { type: 'Ready', status: 'True', reason: 'Active', message: 'The target is published; the machine boots from it.' };
  const blocking = steps.find((c) => c.status !== 'True');
  if (blocking) return { type: 'Ready', status: 'False', reason: blocking.reason, message: blocking.message };
  return { type: 'Ready', status: 'False', reason: phase, message: `The session is ${phase}.` };
}
