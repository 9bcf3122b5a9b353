import { describe, expect, it } from 'vitest';
import { cloudInitContent, cloudInitHash } from './cloud-init.js';

const spec = { placement: 'keep' as const, user: 'debian', sshAuthorizedKeys: [' ssh-ed25519 AAAA a@b ', ''], ipConfigs: [{ ip: 'dhcp' }], nameservers: ['192.0.2.53'], searchDomain: 'example.test' };

describe('cloud-init content', () => {
  it('takes spec fields and Secret values, trimming keys and dropping empty ones', () => {
    expect(cloudInitContent(spec, { password: 'pw', userData: '#cloud-config\n' })).toEqual({
      user: 'debian', password: 'pw', sshAuthorizedKeys: ['ssh-ed25519 AAAA a@b'], ipConfigs: [{ ip: 'dhcp' }],
      nameservers: ['192.0.2.53'], searchDomain: 'example.test', userData: '#cloud-config\n',
    });
  });

  it('hashes equal content equally and any change differently, without the content in the hash', () => {
    const a = cloudInitHash(cloudInitContent(spec, { password: 'one' }));
    expect(cloudInitHash(cloudInitContent({ ...spec }, { password: 'one' }))).toBe(a);
    expect(cloudInitHash(cloudInitContent(spec, { password: 'two' }))).not.toBe(a);
    expect(cloudInitHash(cloudInitContent({ ...spec, searchDomain: 'other.test' }, { password: 'one' }))).not.toBe(a);
    expect(cloudInitHash(cloudInitContent({ ...spec, ipConfigs: [{ ip: '192.0.2.1/24' }] }, { password: 'one' }))).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
