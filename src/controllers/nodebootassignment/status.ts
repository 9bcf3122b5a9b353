// Pure decisions of the NodeBootAssignment controller: which MACs identify the machine, whether
// its profile exists and renders for it, and how that adds up to Ready.
import type { BootProfile } from '../../api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import { renderFor, sampleFacts } from '../../boot/decide.js';
import { normalizeMac } from '../../boot/identity.js';
import type { ConditionUpdate } from '../../kube/conditions.js';

export interface MachineIdentity {
  macAddresses: string[];
  condition: ConditionUpdate;
}

export function identifyMachine(assignment: NodeBootAssignment, vm: VirtualMachine | undefined): MachineIdentity {
  const spec = assignment.spec;
  if (spec.mac) {
    return { macAddresses: [normalizeMac(spec.mac) ?? spec.mac.toLowerCase()], condition: { type: 'MachineIdentified', status: 'True', reason: 'MacAddress', message: `Answers for MAC ${spec.mac.toLowerCase()}.` } };
  }
  if (spec.vmRef) {
    if (!vm) {
      return { macAddresses: [], condition: { type: 'MachineIdentified', status: 'False', reason: 'VirtualMachineNotFound', message: `VirtualMachine ${spec.vmRef.name} does not exist in this namespace; create it or fix spec.vmRef.` } };
    }
    const macs = [...new Set((vm.status?.macAddresses ?? []).map((m) => normalizeMac(m)).filter((m): m is string => m !== undefined))].sort();
    if (macs.length === 0) {
      return { macAddresses: [], condition: { type: 'MachineIdentified', status: 'False', reason: 'MacAddressesUnknown', message: `VirtualMachine ${spec.vmRef.name} reports no MAC addresses yet; they appear once the hypervisor has been read.` } };
    }
    return { macAddresses: macs, condition: { type: 'MachineIdentified', status: 'True', reason: 'VirtualMachine', message: `Answers for the MACs of VirtualMachine ${spec.vmRef.name}: ${macs.join(', ')}.` } };
  }
  return { macAddresses: [], condition: { type: 'MachineIdentified', status: 'True', reason: 'SmbiosUuid', message: `Answers for SMBIOS UUID ${spec.uuid?.toLowerCase()}.` } };
}

export interface RenderCheck {
  scriptHash?: string;
  conditions: ConditionUpdate[];
}

/** Whether the profile exists and renders for this machine on every firmware it supports. */
export function checkProfile(assignment: NodeBootAssignment, profile: BootProfile | undefined, mac: string | undefined, serverUrl: string): RenderCheck {
  const name = assignment.spec.profileRef.name;
  if (!profile) {
    return {
      conditions: [
        { type: 'ProfileResolved', status: 'False', reason: 'ProfileNotFound', message: `BootProfile ${name} does not exist in this namespace; until it does, the machine gets the fallback.` },
        { type: 'Rendered', status: 'Unknown', reason: 'ProfileNotFound', message: 'Not checked: the profile does not exist.' },
      ],
    };
  }
  const resolved: ConditionUpdate = { type: 'ProfileResolved', status: 'True', reason: 'Found', message: `Boots BootProfile ${name} (${profile.spec.type}).` };
  let scriptHash: string | undefined;
  for (const firmware of profile.spec.firmware ?? ['bios', 'uefi']) {
    const answer = renderFor(profile, assignment, sampleFacts(serverUrl, firmware, mac));
    if (answer.kind === 'renderError') {
      return { conditions: [resolved, { type: 'Rendered', status: 'False', reason: 'ParameterRefused', message: `The ${firmware} script cannot be rendered: ${answer.message}.` }] };
    }
    if (answer.kind === 'profile') scriptHash ??= answer.scriptHash;
  }
  return { scriptHash, conditions: [resolved, { type: 'Rendered', status: 'True', reason: 'Rendered', message: `The script renders for ${(profile.spec.firmware ?? ['bios', 'uefi']).join(' and ')}.` }] };
}

/** Other assignments (any namespace) that claim one of this machine's MACs. */
export function macConflict(self: string, macs: readonly string[], claimants: (mac: string) => string[]): ConditionUpdate {
  const others = [...new Set(macs.flatMap((mac) => claimants(mac).filter((k) => k !== self)))].sort();
  if (others.length === 0) return { type: 'MacAddressUnique', status: 'True', reason: 'Unique', message: 'No other assignment claims these MAC addresses.' };
  return {
    type: 'MacAddressUnique', status: 'False', reason: 'MacAddressConflict',
    message: `Also claimed by ${others.join(', ')}; the boot server answers with the oldest enabled assignment. Delete or disable the others.`,
  };
}
