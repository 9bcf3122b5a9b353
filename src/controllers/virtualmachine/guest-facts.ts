// Pure: what the guest agent's answers say about the guest — os-release fields, the NFS client
// package per OS family, and the addresses worth reporting.
import type { GuestNetworkInterface } from '../../hypervisors/guest-agent.js';

export interface OsRelease {
  prettyName?: string;
  id?: string;
  idLike: string[];
}

/** Parses /etc/os-release (KEY=value lines, values optionally quoted). */
export function parseOsRelease(text: string): OsRelease {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!.trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    fields.set(m[1]!, value);
  }
  return {
    ...(fields.get('PRETTY_NAME') ? { prettyName: fields.get('PRETTY_NAME')!.slice(0, 256) } : {}),
    ...(fields.get('ID') ? { id: fields.get('ID')!.toLowerCase() } : {}),
    idLike: (fields.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean),
  };
}

export interface NfsClientPackage {
  package: string;
  /** Exits 0 when the package is installed. */
  check: string[];
  install: string[];
}

/**
 * The NFS client package and how to check and install it, by OS family (ID, then ID_LIKE), or
 * undefined when the family has no known package tool (the guest's own mount is relied on).
 */
export function nfsClientPackage(os: OsRelease): NfsClientPackage | undefined {
  for (const id of [os.id, ...os.idLike]) {
    switch (id) {
      case 'debian': case 'ubuntu':
        return { package: 'nfs-common', check: ['dpkg-query', '-W', '-f=${Status}', 'nfs-common'], install: ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', 'nfs-common'] };
      case 'fedora': case 'rhel': case 'centos': case 'rocky': case 'almalinux': case 'ol':
        return { package: 'nfs-utils', check: ['rpm', '-q', 'nfs-utils'], install: ['dnf', 'install', '-y', 'nfs-utils'] };
      case 'suse': case 'opensuse': case 'sles': case 'opensuse-leap': case 'opensuse-tumbleweed':
        return { package: 'nfs-client', check: ['rpm', '-q', 'nfs-client'], install: ['zypper', '--non-interactive', 'install', 'nfs-client'] };
      case 'alpine':
        return { package: 'nfs-utils', check: ['apk', 'info', '-e', 'nfs-utils'], install: ['apk', 'add', 'nfs-utils'] };
      case 'arch':
        return { package: 'nfs-utils', check: ['pacman', '-Q', 'nfs-utils'], install: ['pacman', '-S', '--noconfirm', 'nfs-utils'] };
    }
  }
  return undefined;
}

/** Addresses other than loopback and IPv6 link-local, in interface order, at most 32. */
export function reportedAddresses(interfaces: readonly GuestNetworkInterface[]): string[] {
  const out: string[] = [];
  for (const i of interfaces) {
    if (i.name === 'lo') continue;
    for (const a of i.addresses) {
      if (a.address.startsWith('127.') || a.address === '::1' || /^fe80:/i.test(a.address)) continue;
      if (!out.includes(a.address)) out.push(a.address);
    }
  }
  return out.slice(0, 32);
}
