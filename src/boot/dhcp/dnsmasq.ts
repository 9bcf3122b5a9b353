// dnsmasq: tag iPXE clients by option 175 or user class "iPXE" and hand them the HTTP chain
// script; plain PXE ROMs get iPXE over TFTP, by client architecture (option 93). Without the
// split an iPXE client would be handed iPXE again, forever.
import { chainUrl, dhcpHosts, subnetParts, type DhcpSettings } from './model.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';

export function renderDnsmasq(s: DhcpSettings, assignments: readonly NodeBootAssignment[]): string {
  const lines = ['# bootplane: network boot for dnsmasq (generated; edit the BootProfiles and NodeBootAssignments instead)'];
  if (s.subnet) {
    const { netmask } = subnetParts(s.subnet.cidr);
    if (s.subnet.rangeStart && s.subnet.rangeEnd) lines.push(`dhcp-range=${s.subnet.rangeStart},${s.subnet.rangeEnd},${netmask},12h`);
    if (s.subnet.router) lines.push(`dhcp-option=option:router,${s.subnet.router}`);
  }
  lines.push(
    'dhcp-match=set:ipxe,175',
    'dhcp-userclass=set:ipxe,iPXE',
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-match=set:efi64,option:client-arch,9',
    `dhcp-boot=tag:ipxe,${chainUrl(s)}`,
    `dhcp-boot=tag:!ipxe,tag:efi64,${s.uefiBootFile},,${s.nextServer}`,
    `dhcp-boot=tag:!ipxe,tag:!efi64,${s.biosBootFile},,${s.nextServer}`,
  );
  for (const h of dhcpHosts(assignments)) {
    const fields = [h.mac, h.ipAddress, h.hostname].filter(Boolean);
    lines.push(`# ${h.source}`, `dhcp-host=${fields.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}
