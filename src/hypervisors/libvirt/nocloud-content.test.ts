import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { noCloudSeedFromContent } from './nocloud-content.js';

const id = { hostname: 'web', instanceId: 'abc123', macs: ['52:54:00:AA:00:01'] };

describe('NoCloud seed files from cloud-init content', () => {
  it('generates #cloud-config with user, password and keys, and meta-data with the identity', () => {
    const seed = noCloudSeedFromContent({ user: 'debian', password: 'p"w: x', sshAuthorizedKeys: ['ssh-ed25519 AAAA a@b'] }, id);
    expect(seed.userData.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(seed.userData)).toEqual({
      hostname: 'web', manage_etc_hosts: true, user: 'debian', password: 'p"w: x', chpasswd: { expire: false }, ssh_pwauth: true,
      ssh_authorized_keys: ['ssh-ed25519 AAAA a@b'], users: ['default'],
    });
    expect(parse(seed.metaData)).toEqual({ 'instance-id': 'abc123', 'local-hostname': 'web' });
    expect(seed.networkConfig).toBeUndefined();
  });

  it('generates network-config v2 matched by MAC, with DNS', () => {
    const seed = noCloudSeedFromContent({ ipConfigs: [{ ip: '192.0.2.10/24', gateway: '192.0.2.1' }, { ip: 'dhcp' }], nameservers: ['192.0.2.53'], searchDomain: 'example.test' }, id);
    expect(parse(seed.networkConfig!)).toEqual({
      version: 2,
      ethernets: {
        net0: { match: { macaddress: '52:54:00:aa:00:01' }, addresses: ['192.0.2.10/24'], gateway4: '192.0.2.1', nameservers: { addresses: ['192.0.2.53'], search: ['example.test'] } },
        net1: { match: { name: 'eth1' }, dhcp4: true, nameservers: { addresses: ['192.0.2.53'], search: ['example.test'] } },
      },
    });
  });

  it('uses the Secrets\' own user-data and network-config as they are', () => {
    const seed = noCloudSeedFromContent({ user: 'ignored', userData: '#cloud-config\nruncmd: [x]\n', networkConfig: 'version: 2\n', ipConfigs: [{ ip: 'dhcp' }] }, id);
    expect(seed.userData).toBe('#cloud-config\nruncmd: [x]\n');
    expect(seed.networkConfig).toBe('version: 2\n');
  });
});
