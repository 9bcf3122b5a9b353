// Cache indexes the boot server and the reconcilers look machines and profiles up by, so a
// request never scans: MAC (spec.mac and, for assignments that reference a VirtualMachine, the
// VM's MACs the reconciler copied into status.macAddresses), SMBIOS UUID, the profile an
// assignment uses, and whether a profile is public.
import type { KubeObject } from '../kube/object.js';
import { normalizeMac, normalizeUuid } from './identity.js';

export const ASSIGNMENT_MAC_INDEX = 'boot.mac';
export const ASSIGNMENT_UUID_INDEX = 'boot.uuid';
export const ASSIGNMENT_PROFILE_INDEX = 'boot.profile';
export const ASSIGNMENT_VM_INDEX = 'boot.vm';
export const PUBLIC_PROFILE_INDEX = 'boot.public';
export const PROFILE_NAME_INDEX = 'boot.profileName';
/** DisklessSessions by the MAC they claim (spec or status), for refusing a second session. */
export const SESSION_CLAIM_MAC_INDEX = 'diskless.claimMac';
/** Active DisklessSessions by MAC: the boot server's sanboot lookup. */
export const SESSION_ACTIVE_MAC_INDEX = 'diskless.activeMac';
/** namespace/name of the NodeBootAssignment a session takes its machine from. */
export const SESSION_ASSIGNMENT_INDEX = 'diskless.assignment';

interface AssignmentShape {
  spec?: { mac?: string; uuid?: string; profileRef?: { name?: string }; vmRef?: { name?: string } };
  status?: { macAddresses?: string[] };
}

export function assignmentMacs(obj: KubeObject): string[] {
  const a = obj as KubeObject & AssignmentShape;
  const macs = new Set<string>();
  for (const raw of [a.spec?.mac, ...(a.status?.macAddresses ?? [])]) {
    const mac = raw ? normalizeMac(raw) : undefined;
    if (mac) macs.add(mac);
  }
  return [...macs];
}

export function assignmentUuid(obj: KubeObject): string[] {
  const uuid = (obj as KubeObject & AssignmentShape).spec?.uuid;
  const normalized = uuid ? normalizeUuid(uuid) : undefined;
  return normalized ? [normalized] : [];
}

/** namespace/profileName, the key of the BootProfile an assignment boots. */
export function assignmentProfile(obj: KubeObject): string[] {
  const name = (obj as KubeObject & AssignmentShape).spec?.profileRef?.name;
  return name ? [`${obj.metadata.namespace ?? ''}/${name}`] : [];
}

/** namespace/vmName of the VirtualMachine an assignment takes its MACs from. */
export function assignmentVm(obj: KubeObject): string[] {
  const name = (obj as KubeObject & AssignmentShape).spec?.vmRef?.name;
  return name ? [`${obj.metadata.namespace ?? ''}/${name}`] : [];
}

export function profilePublic(obj: KubeObject): string[] {
  const spec = obj.spec as { public?: boolean; unattended?: boolean } | undefined;
  return spec?.public && !spec.unattended ? ['true'] : [];
}

interface IndexableCache {
  addIndex(name: string, fn: (obj: KubeObject) => readonly string[]): void;
}

export function addBootIndexes(assignments: IndexableCache, profiles: IndexableCache): void {
  assignments.addIndex(ASSIGNMENT_MAC_INDEX, assignmentMacs);
  assignments.addIndex(ASSIGNMENT_UUID_INDEX, assignmentUuid);
  assignments.addIndex(ASSIGNMENT_PROFILE_INDEX, assignmentProfile);
  assignments.addIndex(ASSIGNMENT_VM_INDEX, assignmentVm);
  profiles.addIndex(PUBLIC_PROFILE_INDEX, profilePublic);
  profiles.addIndex(PROFILE_NAME_INDEX, (obj) => [obj.metadata.name]);
}

interface SessionShape {
  spec?: { machine?: { mac?: string; assignmentRef?: { name?: string } } };
  status?: { mac?: string; phase?: string };
}

export function sessionClaimedMacs(obj: KubeObject): string[] {
  const s = obj as KubeObject & SessionShape;
  const macs = new Set<string>();
  for (const raw of [s.spec?.machine?.mac, s.status?.mac]) {
    const mac = raw ? normalizeMac(raw) : undefined;
    if (mac) macs.add(mac);
  }
  return [...macs];
}

export function sessionActiveMac(obj: KubeObject): string[] {
  const s = obj as KubeObject & SessionShape;
  const mac = s.status?.phase === 'Active' && s.status.mac && !obj.metadata.deletionTimestamp ? normalizeMac(s.status.mac) : undefined;
  return mac ? [mac] : [];
}

export function sessionAssignment(obj: KubeObject): string[] {
  const name = (obj as KubeObject & SessionShape).spec?.machine?.assignmentRef?.name;
  return name ? [`${obj.metadata.namespace ?? ''}/${name}`] : [];
}

export function addSessionIndexes(sessions: IndexableCache): void {
  sessions.addIndex(SESSION_CLAIM_MAC_INDEX, sessionClaimedMacs);
  sessions.addIndex(SESSION_ACTIVE_MAC_INDEX, sessionActiveMac);
  sessions.addIndex(SESSION_ASSIGNMENT_INDEX, sessionAssignment);
}
