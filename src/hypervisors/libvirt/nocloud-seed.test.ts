// The seed ISO read back by real tools: isoinfo (genisoimage) for the primary and Joliet trees,
// blkid for the label cloud-init's ds-identify looks for.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildIso9660, IsoError } from './iso9660.js';
import { buildNoCloudSeedIso } from './nocloud-seed.js';

const seed = {
  userData: '#cloud-config\nhostname: web-1\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3Nza test@example\n',
  metaData: 'instance-id: web-1-0001\nlocal-hostname: web-1\n',
  networkConfig: 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n',
};

function write(iso: Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bp-iso-')), 'seed.iso');
  writeFileSync(file, iso);
  return file;
}

const isoinfo = (args: string[]) => execFileSync('isoinfo', args, { encoding: 'utf8' });

describe('NoCloud seed ISO', () => {
  it('is read back by isoinfo with Joliet names, content and the cidata label', () => {
    const file = write(buildNoCloudSeedIso(seed));
    const info = isoinfo(['-d', '-i', file]);
    expect(info).toMatch(/Volume id: cidata/);
    expect(info).toMatch(/Joliet with UCS level 3 found/);
    const listing = isoinfo(['-J', '-f', '-i', file]).split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['/meta-data', '/network-config', '/user-data']);
    expect(isoinfo(['-J', '-i', file, '-x', '/user-data'])).toBe(seed.userData);
    expect(isoinfo(['-J', '-i', file, '-x', '/meta-data'])).toBe(seed.metaData);
    expect(isoinfo(['-J', '-i', file, '-x', '/network-config'])).toBe(seed.networkConfig);
    // The primary tree alone (no Joliet) still has every file.
    expect(isoinfo(['-f', '-i', file]).split('\n').filter(Boolean).sort()).toEqual(['/META_DATA.;1', '/NETWORK_CONFIG.;1', '/USER_DATA.;1']);
  });

  it('carries the label blkid reports, as cloud-init finds it', () => {
    const file = write(buildNoCloudSeedIso(seed));
    expect(execFileSync('blkid', ['-o', 'export', '-p', file], { encoding: 'utf8' })).toMatch(/^LABEL=cidata$/m);
    expect(execFileSync('blkid', ['-o', 'export', '-p', file], { encoding: 'utf8' })).toMatch(/^TYPE=iso9660$/m);
  });

  it('is deterministic and leaves network-config out when not given', () => {
    expect(buildNoCloudSeedIso(seed).equals(buildNoCloudSeedIso(seed))).toBe(true);
    const file = write(buildNoCloudSeedIso({ userData: seed.userData, metaData: seed.metaData }));
    expect(isoinfo(['-J', '-f', '-i', file]).split('\n').filter(Boolean).sort()).toEqual(['/meta-data', '/user-data']);
  });

  it('handles files larger than a sector and empty ones', () => {
    const big = Buffer.alloc(5000, 'x');
    const file = write(buildIso9660('cidata', [{ name: 'user-data', data: big }, { name: 'meta-data', data: Buffer.alloc(0) }]));
    expect(isoinfo(['-J', '-i', file, '-x', '/user-data'])).toBe(big.toString());
    expect(isoinfo(['-J', '-i', file, '-x', '/meta-data'])).toBe('');
  });

  it('refuses bad labels and names', () => {
    expect(() => buildIso9660('has space', [])).toThrow(IsoError);
    expect(() => buildIso9660('cidata', [{ name: '../x', data: Buffer.alloc(0) }])).toThrow(/file name/);
  });
});
