// NFS shares in the guest (spec.nfsMounts): the client package when missing, the mount points,
// exactly one marked fstab line per share (guest-fstab.ts), `mount -a`, and a check in
// /proc/mounts. Skipped when status.guest.mountsHash already matches the spec, so a steady VM
// costs no agent calls; when it differs, only what differs in the guest is changed.
import { errorMessage } from '../../kube/errors.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { nfsClientPackage, type OsRelease } from './guest-facts.js';
import { mountedPaths, mountsHash, planFstab, type NfsMountSpec } from './guest-fstab.js';
import type { GuestSession } from './guest-session.js';

export interface NfsOutcome {
  condition: ConditionUpdate;
  /** Recorded in status.guest.mountsHash when everything is in place. */
  hash?: string;
  retry: boolean;
}

export async function convergeNfs(session: GuestSession, mounts: readonly NfsMountSpec[], previousHash: string | undefined, os: OsRelease | undefined): Promise<NfsOutcome> {
  const hash = mountsHash(mounts);
  if (hash === previousHash) {
    return { hash, retry: false, condition: { type: 'NfsMounted', status: 'True', reason: 'UpToDate', message: upToDate(mounts) } };
  }
  try {
    if (mounts.length > 0) {
      const missing = await missingPackage(session, os);
      if (missing) await session.change(missing.install, 600_000);
    }
    const fstab = await session.read(['cat', '/etc/fstab']);
    const plan = planFstab(fstab.exitCode === 0 ? fstab.stdout : '', mounts);
    if (plan.changed) await session.replaceFile('/etc/fstab', Buffer.from(plan.content), '0644', 'root:root');

    const before = mountedPaths((await session.read(['cat', '/proc/mounts'])).stdout);
    // Gone from the spec: unmounted. Options changed: unmounted so that mount -a uses the new line.
    const unmount = [...plan.removed, ...plan.edited].filter((path) => before.has(path));
    for (const path of unmount) await session.change(['umount', path]);
    const absent = mounts.filter((m) => !before.has(m.mountPath) || unmount.includes(m.mountPath));
    if (absent.length > 0) {
      await session.change(['mkdir', '-p', ...absent.map((m) => m.mountPath)]);
      await session.change(['mount', '-a'], 120_000);
    }
    const after = mountedPaths((await session.read(['cat', '/proc/mounts'])).stdout);
    const notMounted = mounts.filter((m) => !after.has(m.mountPath));
    if (notMounted.length > 0) {
      return { retry: true, condition: { type: 'NfsMounted', status: 'False', reason: 'NotMounted', message: `fstab is in place but ${notMounted.map((m) => `${m.server}:${m.export} on ${m.mountPath}`).join(', ')} is not mounted after mount -a.` } };
    }
    return { hash, retry: false, condition: { type: 'NfsMounted', status: 'True', reason: 'Mounted', message: upToDate(mounts) } };
  } catch (err) {
    return { retry: true, condition: { type: 'NfsMounted', status: 'False', reason: 'MountFailed', message: `Mounting the NFS shares failed: ${errorMessage(err)} Check that the server exports them to this guest and that the options suit the guest's mount.` } };
  }
}

/** The install command when the OS family's NFS client package is missing, else undefined. */
async function missingPackage(session: GuestSession, os: OsRelease | undefined): Promise<{ install: string[] } | undefined> {
  const pkg = os ? nfsClientPackage(os) : undefined;
  if (!pkg) return undefined; // no known package tool: the guest's own mount is relied on
  const check = await session.read(pkg.check);
  return check.exitCode === 0 ? undefined : pkg;
}

function upToDate(mounts: readonly NfsMountSpec[]): string {
  return mounts.length ? `Mounted: ${mounts.map((m) => `${m.server}:${m.export} on ${m.mountPath}`).join(', ')}.` : 'No NFS shares are declared; bootplane\'s fstab lines are gone.';
}
