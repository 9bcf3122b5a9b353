// What a machine gets when it asks: its profile's script, local boot (boot once, used up), or the
// fallback (unknown, disabled, wrong firmware, missing profile). Pure: the server looks the
// objects up in its caches and hands them here; the reconcilers call the same code to report
// whether a profile renders.
import { createHash } from 'node:crypto';
import type { BootProfile } from '../api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { macHex, type Firmware } from './identity.js';
import { buildLocalBootScript, buildProfileScript } from './scripts.js';
import { TemplateError } from './template.js';

export type BootAnswer =
  | { kind: 'profile'; script: string; scriptHash: string; consumesBootOnce: boolean }
  | { kind: 'localBoot'; script: string | undefined }
  | { kind: 'fallback'; reason: FallbackReason }
  | { kind: 'renderError'; parameter: string; message: string };

export type FallbackReason = 'UnknownMachine' | 'Disabled' | 'ProfileNotFound' | 'FirmwareNotSupported';

export interface MachineFacts {
  /** Canonical MAC the request came with (the assignment may have been found by UUID). */
  mac?: string;
  firmware: Firmware;
  serverUrl: string;
  /** Short-lived signed URLs, present only when the assignment references the Secret. */
  ignitionUrl?: string;
  cloudConfigUrl?: string;
  /** This replica already served the one boot of the current epoch (status not yet written). */
  bootOnceUsedHere?: boolean;
}

export function scriptHash(script: string): string {
  return createHash('sha256').update(script).digest('hex');
}

/** Profile defaults, then assignment overrides, then the values bootplane itself knows. */
export function machineParameters(profile: BootProfile, assignment: NodeBootAssignment | undefined, facts: MachineFacts): Record<string, string> {
  const builtins: Record<string, string> = { serverUrl: facts.serverUrl, profile: profile.metadata.name };
  if (facts.mac) {
    builtins.mac = macHex(facts.mac);
    builtins.macAddress = facts.mac;
  }
  if (assignment) {
    builtins.assignment = assignment.metadata.name;
    if (assignment.spec.hostname) builtins.hostname = assignment.spec.hostname;
    if (assignment.spec.ipAddress) builtins.ipAddress = assignment.spec.ipAddress;
  }
  if (facts.ignitionUrl) builtins.ignitionUrl = facts.ignitionUrl;
  if (facts.cloudConfigUrl) builtins.cloudConfigUrl = facts.cloudConfigUrl;
  return { ...(profile.spec.parameters ?? {}), ...(assignment?.spec.parameters ?? {}), ...builtins };
}

export function bootOnceUsed(assignment: NodeBootAssignment): boolean {
  return assignment.spec.bootMode === 'Once' && assignment.status?.bootOnceConsumedEpoch === (assignment.spec.bootOnceEpoch ?? 0);
}

export function decideBoot(assignment: NodeBootAssignment | undefined, profile: BootProfile | undefined, facts: MachineFacts): BootAnswer {
  if (!assignment) return { kind: 'fallback', reason: 'UnknownMachine' };
  if (assignment.spec.state === 'Disabled') return { kind: 'fallback', reason: 'Disabled' };
  if (!profile) return { kind: 'fallback', reason: 'ProfileNotFound' };
  const firmwares = profile.spec.firmware ?? ['bios', 'uefi'];
  if (!firmwares.includes(facts.firmware)) return { kind: 'fallback', reason: 'FirmwareNotSupported' };
  const once = assignment.spec.bootMode === 'Once';
  if (once && (facts.bootOnceUsedHere || bootOnceUsed(assignment))) {
    return { kind: 'localBoot', script: buildLocalBootScript(profile.spec.localBoot ?? 'exit', facts.firmware, `bootplane: ${assignment.metadata.name} has used its one boot`) };
  }
  return renderFor(profile, assignment, facts, once);
}

/** A profile's script for a machine (or, without an assignment, with the profile's defaults). */
export function renderFor(profile: BootProfile, assignment: NodeBootAssignment | undefined, facts: MachineFacts, consumesBootOnce = false): BootAnswer {
  const header = assignment
    ? `bootplane: ${profile.metadata.namespace}/${profile.metadata.name} for ${assignment.metadata.name}`
    : `bootplane: ${profile.metadata.namespace}/${profile.metadata.name} with its defaults`;
  try {
    const script = buildProfileScript(
      { namespace: profile.metadata.namespace ?? 'default', name: profile.metadata.name, spec: profile.spec },
      machineParameters(profile, assignment, facts),
      { serverUrl: facts.serverUrl, firmware: facts.firmware },
      header,
    );
    return { kind: 'profile', script, scriptHash: scriptHash(script), consumesBootOnce };
  } catch (err) {
    if (err instanceof TemplateError) return { kind: 'renderError', parameter: err.parameter, message: err.message };
    throw err;
  }
}

/**
 * Stand-ins for what only a booting machine supplies, so a reconciler can check that a profile
 * renders (and report a parameter by name) before any machine asks.
 */
export function sampleFacts(serverUrl: string, firmware: Firmware, mac = '52:54:00:00:00:00'): MachineFacts {
  return { mac, firmware, serverUrl, ignitionUrl: `${serverUrl}/ignition?signed`, cloudConfigUrl: `${serverUrl}/cloud-config?signed` };
}

/** sampleFacts plus placeholder assignment values, for rendering a profile on its own. */
export function sampleAssignmentParameters(): Record<string, string> {
  return { hostname: 'sample-host', ipAddress: '192.0.2.10', assignment: 'sample' };
}
