// Pure decisions of the Hypervisor controller: which credential keys a connection needs, and
// how the conditions add up to Ready.
import type { HypervisorSpec } from '../../api/v1alpha1/hypervisor.js';
import type { Condition } from '../../api/v1alpha1/common.js';
import type { ConditionUpdate } from '../../kube/conditions.js';

export const FORCE_DELETE_ANNOTATION = 'bootplane.io/force-delete';

/** Keys the credentials Secret must hold for this connection (values are never looked at here). */
export function requiredCredentialKeys(spec: HypervisorSpec): string[] {
  const keys: string[] = [];
  if (spec.type === 'proxmox') {
    keys.push(...(spec.proxmox?.authMethod === 'ticket' ? ['username', 'password'] : ['tokenId', 'tokenSecret']));
  } else {
    const uri = spec.libvirt?.uri ?? '';
    if (uri.includes('+tls://')) keys.push('tls.crt', 'tls.key');
    if (uri.includes('+ssh://')) keys.push('ssh-privatekey');
  }
  if (spec.tls?.caSecretKey) keys.push(spec.tls.caSecretKey);
  return keys;
}

export function needsCredentials(spec: HypervisorSpec): boolean {
  return spec.credentialsSecretRef !== undefined || requiredCredentialKeys(spec).length > 0;
}

export function credentialsCondition(spec: HypervisorSpec, secretKeys: string[] | undefined): ConditionUpdate {
  const ref = spec.credentialsSecretRef;
  const required = requiredCredentialKeys(spec);
  if (!ref) {
    return required.length === 0
      ? { type: 'CredentialsResolved', status: 'True', reason: 'NotRequired', message: 'This connection needs no credentials.' }
      : { type: 'CredentialsResolved', status: 'False', reason: 'SecretRefMissing', message: `spec.credentialsSecretRef is required: the connection needs keys ${required.join(', ')}.` };
  }
  const where = `Secret ${ref.namespace}/${ref.name}`;
  if (secretKeys === undefined) {
    return { type: 'CredentialsResolved', status: 'False', reason: 'SecretNotFound', message: `${where} does not exist. Create it with keys ${required.join(', ') || '(none required)'}.` };
  }
  const missing = required.filter((k) => !secretKeys.includes(k));
  if (missing.length > 0) {
    return { type: 'CredentialsResolved', status: 'False', reason: 'MissingKeys', message: `${where} lacks key(s) ${missing.join(', ')}.` };
  }
  return { type: 'CredentialsResolved', status: 'True', reason: 'Resolved', message: `Credentials read from ${where}.` };
}

export function tlsCondition(spec: HypervisorSpec): ConditionUpdate {
  if (spec.tls?.insecureSkipVerify) {
    return { type: 'InsecureTLS', status: 'True', reason: 'VerificationDisabled', message: 'spec.tls.insecureSkipVerify is set: the server certificate is not verified and the connection can be intercepted. Set a CA (tls.caSecretKey) or a fingerprint instead.' };
  }
  return { type: 'InsecureTLS', status: 'False', reason: 'Verified', message: spec.tls?.fingerprintSHA256 ? 'The server certificate must match the pinned SHA-256 fingerprint.' : 'The server certificate is verified against the configured CA.' };
}

/** Ready summarises: credentials resolved and the hypervisor answered. */
export function readyCondition(conditions: readonly Condition[]): ConditionUpdate {
  const credentials = conditions.find((c) => c.type === 'CredentialsResolved');
  const connected = conditions.find((c) => c.type === 'Connected');
  if (credentials?.status !== 'True') {
    return { type: 'Ready', status: 'False', reason: credentials?.reason ?? 'CredentialsUnknown', message: credentials?.message ?? 'Credentials not resolved yet.' };
  }
  if (connected?.status === 'True') return { type: 'Ready', status: 'True', reason: 'Connected', message: connected.message };
  return {
    type: 'Ready',
    status: connected?.status === 'False' ? 'False' : 'Unknown',
    reason: connected?.reason ?? 'NotConnected',
    message: connected?.message ?? 'Not connected yet.',
  };
}

export function deletionBlockedMessage(vmKeys: string[]): string {
  const shown = vmKeys.slice(0, 5).join(', ') + (vmKeys.length > 5 ? `, and ${vmKeys.length - 5} more` : '');
  return `${vmKeys.length} VirtualMachine(s) still reference this Hypervisor (${shown}). Delete them first, or annotate the Hypervisor ${FORCE_DELETE_ANNOTATION}=true to remove it anyway (their VMs stay untouched on the hypervisor).`;
}
