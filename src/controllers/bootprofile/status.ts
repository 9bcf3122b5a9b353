// Pure decisions of the BootProfile controller: does the profile render with its defaults, and
// the Ready summary both boot kinds share.
import type { BootProfile } from '../../api/v1alpha1/boot-profile.js';
import type { Condition } from '../../api/v1alpha1/common.js';
import { renderFor, sampleAssignmentParameters, sampleFacts } from '../../boot/decide.js';
import type { ConditionUpdate } from '../../kube/conditions.js';

/**
 * Renders the profile for each firmware with its defaults; values only a machine or an
 * assignment supplies (MAC, hostname, signed URLs) get stand-ins, so a failure here is the
 * profile's own.
 */
export function checkProfileRenders(profile: BootProfile, serverUrl: string): { scriptHash?: string; condition: ConditionUpdate } {
  let scriptHash: string | undefined;
  const withSamples: BootProfile = { ...profile, spec: { ...profile.spec, parameters: { ...sampleAssignmentParameters(), ...(profile.spec.parameters ?? {}) } } };
  for (const firmware of profile.spec.firmware ?? ['bios', 'uefi']) {
    const answer = renderFor(withSamples, undefined, sampleFacts(serverUrl, firmware));
    if (answer.kind === 'renderError') {
      return { condition: { type: 'Rendered', status: 'False', reason: 'ParameterRefused', message: `The ${firmware} script cannot be rendered with the profile's defaults: ${answer.message}.` } };
    }
    if (answer.kind === 'profile') scriptHash ??= answer.scriptHash;
  }
  return { scriptHash, condition: { type: 'Rendered', status: 'True', reason: 'Rendered', message: 'The script renders with the profile\'s defaults.' } };
}

/** Ready is True when every listed condition is True; otherwise it carries the first failure. */
export function readyCondition(conditions: readonly Condition[], types: readonly string[]): ConditionUpdate {
  for (const type of types) {
    const c = conditions.find((x) => x.type === type);
    if (!c) return { type: 'Ready', status: 'Unknown', reason: 'Pending', message: `${type} has not been observed yet.` };
    if (c.status !== 'True') return { type: 'Ready', status: 'False', reason: c.reason, message: c.message };
  }
  return { type: 'Ready', status: 'True', reason: 'Ready', message: 'Ready to boot.' };
}
