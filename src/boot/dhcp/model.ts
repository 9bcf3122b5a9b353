// What every DHCP renderer needs: the site's boot settings and one host entry per MAC that has
// an assignment. Values are validated here once, so renderers can place them without escaping.
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { keyOf } from '../../kube/object.js';
import { assignmentMacs } from '../indexes.js';
import { byCodeUnits } from '../../order.js';

export const DHCP_VENDORS = ['mikrotik', 'dnsmasq', 'isc', 'kea'] as const;
export type DhcpVendor = (typeof DHCP_VENDORS)[number];

export interface DhcpSubnet {
  /** 192.0.2.0/24 */
  cidr: string;
  rangeStart?: string;
  rangeEnd?: string;
  router?: string;
}

export interface DhcpSettings {
  /** The boot HTTP server, e.g. http://192.0.2.1:8082; iPXE clients get <serverUrl>/boot.ipxe. */
  serverUrl: string;
  /** TFTP server for the first hop (next-server / siaddr). */
  nextServer: string;
  biosBootFile: string;
  uefiBootFile: string;
  subnet?: DhcpSubnet;
  /** RouterOS: the DHCP server the matchers attach to. */
  mikrotikServer: string;
}

export interface DhcpHost {
  /** Unique, config-safe identifier: bootplane-<namespace>-<name>[-n]. */
  id: string;
  source: string;
  mac: string;
  ipAddress?: string;
  hostname?: string;
}

export class DhcpConfigError extends Error {
  readonly code = 'DhcpConfigError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

const IPV4 = /^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$/;
const URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const SAFE_ID = /^[A-Za-z0-9_-]{1,63}$/;

export function validateSettings(s: DhcpSettings): void {
  if (!URL.test(s.serverUrl)) throw new DhcpConfigError('serverUrl', `server URL ${JSON.stringify(s.serverUrl)} must be http(s)://host[:port] with no path`);
  if (!IPV4.test(s.nextServer)) throw new DhcpConfigError('nextServer', `next-server ${JSON.stringify(s.nextServer)} must be an IPv4 address`);
  if (!FILE.test(s.biosBootFile)) throw new DhcpConfigError('biosBootFile', 'the BIOS boot file must be a plain file name');
  if (!FILE.test(s.uefiBootFile)) throw new DhcpConfigError('uefiBootFile', 'the UEFI boot file must be a plain file name');
  if (!SAFE_ID.test(s.mikrotikServer)) throw new DhcpConfigError('mikrotikServer', 'the RouterOS DHCP server name may hold letters, digits, "_" and "-"');
  if (s.subnet) {
    const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(s.subnet.cidr);
    if (!m || !IPV4.test(m[1]!) || Number(m[2]) > 32) throw new DhcpConfigError('subnet', `subnet ${JSON.stringify(s.subnet.cidr)} must be a.b.c.d/prefix`);
    for (const k of ['rangeStart', 'rangeEnd', 'router'] as const) {
      const v = s.subnet[k];
      if (v !== undefined && !IPV4.test(v)) throw new DhcpConfigError(k, `${k} ${JSON.stringify(v)} must be an IPv4 address`);
    }
  }
}

/** The subnet's address and netmask in dotted form. */
export function subnetParts(cidr: string): { address: string; netmask: string; prefix: number } {
  const [address, prefix] = cidr.split('/') as [string, string];
  const bits = Number(prefix);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const netmask = [24, 16, 8, 0].map((shift) => (mask >>> shift) & 255).join('.');
  return { address, netmask, prefix: bits };
}

/** One host entry per MAC of every enabled assignment, in a stable order. */
export function dhcpHosts(assignments: readonly NodeBootAssignment[]): DhcpHost[] {
  const hosts: DhcpHost[] = [];
  const sorted = [...assignments].filter((a) => a.spec.state !== 'Disabled').sort((a, b) => byCodeUnits(keyOf(a), keyOf(b)));
  for (const a of sorted) {
    const macs = assignmentMacs(a);
    const base = `bootplane-${a.metadata.namespace ?? 'default'}-${a.metadata.name}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 56);
    macs.forEach((mac, i) => {
      hosts.push({
        id: macs.length > 1 ? `${base}-${i}` : base,
        source: keyOf(a),
        mac,
        // A fixed address fits one NIC only; further NICs of the same machine get pool addresses.
        ipAddress: i === 0 && a.spec.ipAddress && IPV4.test(a.spec.ipAddress) ? a.spec.ipAddress : undefined,
        hostname: a.spec.hostname && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(a.spec.hostname) ? a.spec.hostname : undefined,
      });
    });
  }
  return hosts;
}

export function chainUrl(s: DhcpSettings): string {
  return `${s.serverUrl}/boot.ipxe`;
}
