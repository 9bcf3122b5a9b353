// One entry point for every DHCP vendor, used by /api/v1/boot/network-config and
// `bootplane render dhcp`.
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { renderDnsmasq } from './dnsmasq.js';
import { renderIscDhcpd } from './isc.js';
import { renderKea } from './kea.js';
import { renderMikrotik } from './mikrotik.js';
import { DHCP_VENDORS, validateSettings, type DhcpSettings, type DhcpVendor } from './model.js';

const RENDERERS: Record<DhcpVendor, { contentType: string; render: (s: DhcpSettings, a: readonly NodeBootAssignment[]) => string }> = {
  mikrotik: { contentType: 'text/plain; charset=utf-8', render: renderMikrotik },
  dnsmasq: { contentType: 'text/plain; charset=utf-8', render: renderDnsmasq },
  isc: { contentType: 'text/plain; charset=utf-8', render: renderIscDhcpd },
  kea: { contentType: 'application/json', render: renderKea },
};

export function isDhcpVendor(vendor: string): vendor is DhcpVendor {
  return (DHCP_VENDORS as readonly string[]).includes(vendor);
}

export function renderDhcpConfig(vendor: DhcpVendor, settings: DhcpSettings, assignments: readonly NodeBootAssignment[]): { contentType: string; body: string } {
  validateSettings(settings);
  const r = RENDERERS[vendor];
  return { contentType: r.contentType, body: r.render(settings, assignments) };
}

/** Settings from the boot server's URL when nothing else is known: TFTP on the same host. */
export function defaultDhcpSettings(serverUrl: string, overrides: Partial<DhcpSettings> = {}): DhcpSettings {
  const host = /^https?:\/\/([^:/]+)/.exec(serverUrl)?.[1] ?? '';
  return { serverUrl, nextServer: host, biosBootFile: 'undionly.kpxe', uefiBootFile: 'ipxe.efi', mikrotikServer: 'dhcp1', ...overrides };
}
