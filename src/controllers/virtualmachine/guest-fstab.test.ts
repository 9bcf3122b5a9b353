import { describe, expect, it } from 'vitest';
import { mountedPaths, mountsHash, planFstab } from './guest-fstab.js';

const base = '# /etc/fstab\nUUID=abc / ext4 defaults 0 1\n';
const share = { server: '10.0.2.2', export: '/srv/data', mountPath: '/mnt/data', options: 'nolock,vers=3' };

describe('planFstab', () => {
  it('appends one marked line per share and keeps everything else byte for byte', () => {
    const plan = planFstab(base, [share]);
    expect(plan.content).toBe(`${base}# bootplane: /mnt/data\n10.0.2.2:/srv/data /mnt/data nfs nolock,vers=3 0 0\n`);
    expect(plan.changed).toBe(true);
  });

  it('is a fixed point: planning its own output changes nothing', () => {
    const once = planFstab(base, [share]).content;
    const twice = planFstab(once, [share]);
    expect(twice.changed).toBe(false);
    expect(twice.content).toBe(once);
  });

  it('edits the line in place when the options change, and reports it for a remount', () => {
    const once = planFstab(`${base}# bootplane: /mnt/data\n10.0.2.2:/srv/data /mnt/data nfs ro 0 0\n/dev/vdb /srv ext4 defaults 0 2\n`, [share]);
    expect(once.content).toBe(`${base}# bootplane: /mnt/data\n10.0.2.2:/srv/data /mnt/data nfs nolock,vers=3 0 0\n/dev/vdb /srv ext4 defaults 0 2\n`);
    expect(once.edited).toEqual(['/mnt/data']);
  });

  it('removes duplicates and shares that left the spec, and never touches lines it did not write', () => {
    const mine = '# bootplane: /mnt/data\n10.0.2.2:/srv/data /mnt/data nfs ro 0 0\n';
    const gone = '# bootplane: /mnt/old\nnas:/old /mnt/old nfs defaults 0 0\n';
    const theirs = 'nas:/x /mnt/data nfs defaults 0 0\n';
    const plan = planFstab(base + mine + theirs + gone + mine, [share]);
    expect(plan.content).toBe(`${base}# bootplane: /mnt/data\n10.0.2.2:/srv/data /mnt/data nfs nolock,vers=3 0 0\n${theirs}`);
    expect(plan.removed).toEqual(['/mnt/old']);
  });

  it('empties back to the original file when every share is gone', () => {
    expect(planFstab(planFstab(base, [share]).content, []).content).toBe(base);
  });

  it('leaves a mark whose line was edited away by hand without eating the next line', () => {
    const plan = planFstab(`# bootplane: /mnt/data\n${base}`, []);
    expect(plan.content).toBe(base);
  });
});

describe('mountsHash and mountedPaths', () => {
  it('hash changes with any field', () => {
    expect(mountsHash([share])).not.toBe(mountsHash([{ ...share, options: 'defaults' }]));
    expect(mountsHash([share])).toBe(mountsHash([{ ...share }]));
  });

  it('reads nfs mount points from /proc/mounts', () => {
    expect([...mountedPaths('proc /proc proc rw 0 0\n10.0.2.2:/srv /mnt/data nfs rw,vers=3 0 0\nnas:/x /mnt/x nfs4 rw 0 0\n')]).toEqual(['/mnt/data', '/mnt/x']);
  });
});
