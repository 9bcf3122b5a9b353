import { describe, expect, it } from 'vitest';
import { encodeSshKeys, ipConfigValue, pveCloudInitWrite, snippetVolume } from './cloud-init-config.js';

describe('cloud-init as Proxmox config keys', () => {
  it('URL-encodes SSH keys the way PVE decodes them', () => {
    const encoded = encodeSshKeys(["ssh-ed25519 AAAA+/= it's(me)*!"]);
    expect(encoded).toMatch(/^[-%a-zA-Z0-9_.~]*$/);
    expect(decodeURIComponent(encoded)).toBe("ssh-ed25519 AAAA+/= it's(me)*!\n");
  });

  it('writes ipconfigN for IPv4, IPv6 and DHCP', () => {
    expect(ipConfigValue('dhcp')).toBe('ip=dhcp');
    expect(ipConfigValue('192.0.2.10/24', '192.0.2.1')).toBe('ip=192.0.2.10/24,gw=192.0.2.1');
    expect(ipConfigValue('2001:db8::5/64', '2001:db8::1')).toBe('ip6=2001:db8::5/64,gw6=2001:db8::1');
    expect(ipConfigValue('auto')).toBe('ip6=auto');
  });

  it('sets what the spec says, drops surplus ipconfigN, leaves unset fields alone', () => {
    const write = pveCloudInitWrite({ user: 'ops', ipConfigs: [{ ip: 'dhcp' }], nameservers: ['192.0.2.53', '192.0.2.54'] }, { ipconfig0: 'ip=dhcp', ipconfig2: 'ip=dhcp', searchdomain: 'kept.test' }, { vmid: 100 });
    expect(write).toEqual({ set: { ciuser: 'ops', ipconfig0: 'ip=dhcp', nameserver: '192.0.2.53 192.0.2.54' }, delete: ['ipconfig2'], incomplete: [] });
  });

  it('points cicustom at a snippet only once it is on the snippet storage, and says why not otherwise', () => {
    const content = { userData: '#cloud-config\nsecret: yes\n' };
    const none = pveCloudInitWrite(content, {}, { vmid: 100 });
    expect(none.set.cicustom).toBeUndefined();
    expect(none.incomplete.join()).toContain('snippetStorage');
    const missing = pveCloudInitWrite(content, {}, { vmid: 100, snippetStorage: 'local', snippets: new Set() });
    expect(missing.incomplete.join()).toContain('local:snippets/bootplane-100-user-data.yaml');
    const present = pveCloudInitWrite(content, {}, { vmid: 100, snippetStorage: 'local', snippets: new Set([snippetVolume('local', 100, 'user-data')]) });
    expect(present).toEqual({ set: { cicustom: 'user=local:snippets/bootplane-100-user-data.yaml' }, delete: [], incomplete: [] });
    expect(JSON.stringify([none, missing, present])).not.toContain('secret: yes');
    expect(pveCloudInitWrite({}, { cicustom: 'user=local:snippets/bootplane-100-user-data.yaml' }, { vmid: 100 }).delete).toEqual(['cicustom']);
    expect(pveCloudInitWrite({}, { cicustom: 'user=local:snippets/hand-made.yaml' }, { vmid: 100 }).delete).toEqual([]);
  });
});
