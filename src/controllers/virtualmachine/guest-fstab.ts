// Pure: the guest's /etc/fstab with exactly one line per spec.nfsMounts entry. bootplane's lines
// are marked by a comment line just above them ("# bootplane: <mount path>"), so it edits and
// removes only its own: a line a person wrote stays untouched, even for the same mount point.
import { createHash } from 'node:crypto';

export interface NfsMountSpec {
  server: string;
  export: string;
  mountPath: string;
  options: string;
}

export const FSTAB_MARK = '# bootplane: ';

export function fstabLine(m: NfsMountSpec): string {
  return `${m.server}:${m.export} ${m.mountPath} nfs ${m.options || 'defaults'} 0 0`;
}

export interface FstabPlan {
  /** The whole new file. */
  content: string;
  changed: boolean;
  /** Mount paths whose bootplane lines were removed (to unmount). */
  removed: string[];
  /** Mount paths whose lines changed (to mount again with the new line). */
  edited: string[];
}

/**
 * Edits bootplane's lines in place (options changed), drops the ones whose share left the spec
 * and duplicates, and appends new ones at the end. Everything else is kept byte for byte.
 */
export function planFstab(current: string, mounts: readonly NfsMountSpec[]): FstabPlan {
  const wanted = new Map(mounts.map((m) => [m.mountPath, m]));
  const lines = current.length ? current.replace(/\n$/, '').split('\n') : [];
  const out: string[] = [];
  const written = new Set<string>();
  const removed: string[] = [];
  const edited: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(FSTAB_MARK)) { out.push(line); continue; }
    const path = line.slice(FSTAB_MARK.length).trim();
    // The marked line follows its mark; a mark whose line was edited away by hand goes alone.
    const previous = lines[i + 1]?.trim().split(/\s+/)[1] === path ? lines[++i] : undefined;
    const m = wanted.get(path);
    if (m && !written.has(path)) {
      if (previous !== undefined && previous !== fstabLine(m)) edited.push(path);
      out.push(`${FSTAB_MARK}${path}`, fstabLine(m));
      written.add(path);
    } else if (!m && !removed.includes(path)) {
      removed.push(path);
    }
  }
  for (const m of mounts) {
    if (written.has(m.mountPath)) continue;
    out.push(`${FSTAB_MARK}${m.mountPath}`, fstabLine(m));
    written.add(m.mountPath);
  }
  const content = out.length ? `${out.join('\n')}\n` : '';
  return { content, changed: content !== current, removed, edited };
}

/** status.guest.mountsHash: what was last converged. */
export function mountsHash(mounts: readonly NfsMountSpec[]): string {
  return createHash('sha256').update(JSON.stringify(mounts.map((m) => [m.server, m.export, m.mountPath, m.options]))).digest('hex').slice(0, 32);
}

/** Mount points (second field) of the nfs entries in /proc/mounts. */
export function mountedPaths(procMounts: string): Set<string> {
  const out = new Set<string>();
  for (const line of procMounts.split('\n')) {
    const f = line.split(/\s+/);
    if (f.length >= 3 && /^nfs4?$/.test(f[2]!)) out.add(f[1]!);
  }
  return out;
}
