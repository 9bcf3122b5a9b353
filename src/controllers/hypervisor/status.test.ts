import { describe, expect, it } from 'vitest';
import { HypervisorSpec } from '../../api/v1alpha1/hypervisor.js';
import { credentialsCondition, deletionBlockedMessage, readyCondition, requiredCredentialKeys } from './status.js';

const proxmox = HypervisorSpec.parse({ type: 'proxmox', proxmox: { endpoint: 'https://pve:8006' }, credentialsSecretRef: { name: 's', namespace: 'ns' } });
const libvirtTls = HypervisorSpec.parse({ type: 'libvirt', libvirt: { uri: 'qemu+tls://host/system' }, credentialsSecretRef: { name: 's', namespace: 'ns' } });
const libvirtLocal = HypervisorSpec.parse({ type: 'libvirt', libvirt: { uri: 'qemu:///system' } });

describe('Hypervisor credentials', () => {
  it('asks for the keys each connection needs', () => {
    expect(requiredCredentialKeys(proxmox)).toEqual(['tokenId', 'tokenSecret']);
    expect(requiredCredentialKeys({ ...proxmox, proxmox: { ...proxmox.proxmox!, authMethod: 'ticket' } })).toEqual(['username', 'password']);
    expect(requiredCredentialKeys(libvirtTls)).toEqual(['tls.crt', 'tls.key']);
    expect(requiredCredentialKeys(libvirtLocal)).toEqual([]);
  });

  it('names the Secret and the missing keys, never a value', () => {
    expect(credentialsCondition(proxmox, undefined)).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: expect.stringContaining('Secret ns/s does not exist') });
    expect(credentialsCondition(proxmox, ['tokenId'])).toMatchObject({ status: 'False', reason: 'MissingKeys', message: 'Secret ns/s lacks key(s) tokenSecret.' });
    expect(credentialsCondition(proxmox, ['tokenId', 'tokenSecret'])).toMatchObject({ status: 'True', reason: 'Resolved' });
    expect(credentialsCondition(libvirtLocal, [])).toMatchObject({ status: 'True', reason: 'NotRequired' });
  });
});

describe('Hypervisor Ready', () => {
  const c = (type: string, status: 'True' | 'False' | 'Unknown', reason: string) => ({ type, status, reason, message: reason, lastTransitionTime: 'x' });
  it('is False while credentials are missing, whatever else holds', () => {
    expect(readyCondition([c('CredentialsResolved', 'False', 'SecretNotFound'), c('Connected', 'True', 'Reachable')])).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
  });
  it('follows Connected once credentials resolve', () => {
    expect(readyCondition([c('CredentialsResolved', 'True', 'Resolved'), c('Connected', 'True', 'Reachable')])).toMatchObject({ status: 'True' });
    expect(readyCondition([c('CredentialsResolved', 'True', 'Resolved'), c('Connected', 'False', 'Unreachable')])).toMatchObject({ status: 'False', reason: 'Unreachable' });
  });
  it('lists at most five blocking VMs and names the escape hatch', () => {
    const msg = deletionBlockedMessage(['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'a/6', 'a/7']);
    expect(msg).toContain('7 VirtualMachine(s)');
    expect(msg).toContain('and 2 more');
    expect(msg).toContain('bootplane.io/force-delete=true');
  });
});
