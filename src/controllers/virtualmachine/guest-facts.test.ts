import { describe, expect, it } from 'vitest';
import { nfsClientPackage, parseOsRelease, reportedAddresses } from './guest-facts.js';

describe('parseOsRelease', () => {
  it('reads quoted and bare values', () => {
    expect(parseOsRelease('PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n')).toEqual({ prettyName: 'Rocky Linux 9.4 (Blue Onyx)', id: 'rocky', idLike: ['rhel', 'centos', 'fedora'] });
    expect(parseOsRelease('ID=ubuntu\nPRETTY_NAME=Ubuntu\n')).toEqual({ prettyName: 'Ubuntu', id: 'ubuntu', idLike: [] });
  });
});

describe('nfsClientPackage', () => {
  it.each([
    ['ID=debian', 'nfs-common', 'apt-get'],
    ['ID=linuxmint\nID_LIKE="ubuntu debian"', 'nfs-common', 'apt-get'],
    ['ID=fedora', 'nfs-utils', 'dnf'],
    ['ID=almalinux\nID_LIKE="rhel centos fedora"', 'nfs-utils', 'dnf'],
    ['ID="opensuse-leap"\nID_LIKE="suse opensuse"', 'nfs-client', 'zypper'],
    ['ID=alpine', 'nfs-utils', 'apk'],
  ])('%s -> %s', (osRelease, pkg, tool) => {
    const p = nfsClientPackage(parseOsRelease(osRelease))!;
    expect(p.package).toBe(pkg);
    expect(p.install).toContain(tool);
  });

  it('knows no package for an unknown family', () => {
    expect(nfsClientPackage(parseOsRelease('ID=bootplane-testguest'))).toBeUndefined();
  });
});

describe('reportedAddresses', () => {
  it('skips loopback and link-local', () => {
    expect(reportedAddresses([
      { name: 'lo', addresses: [{ address: '127.0.0.1', family: 'ipv4' }] },
      { name: 'eth0', addresses: [{ address: '10.0.2.15', family: 'ipv4' }, { address: 'fe80::1', family: 'ipv6' }, { address: 'fd00::5', family: 'ipv6' }] },
    ])).toEqual(['10.0.2.15', 'fd00::5']);
  });
});
