// MikroTik RouterOS 7: options and option sets for the boot file, matchers that pick the set
// for iPXE clients (user class, option 77) and UEFI PXE ROMs (architecture, option 93), and
// static leases for machines with a fixed address. Paste into a terminal or /import it.
import { chainUrl, dhcpHosts, type DhcpSettings } from './model.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';

export function renderMikrotik(s: DhcpSettings, assignments: readonly NodeBootAssignment[]): string {
  const lines = [
    '# bootplane: network boot for RouterOS 7 (generated; edit the BootProfiles and NodeBootAssignments instead)',
    '/ip dhcp-server option',
    `add name=bootplane-ipxe-script code=67 value="'${chainUrl(s)}'"`,
    `add name=bootplane-uefi-file code=67 value="'${s.uefiBootFile}'"`,
    '/ip dhcp-server option sets',
    'add name=bootplane-ipxe options=bootplane-ipxe-script',
    'add name=bootplane-uefi options=bootplane-uefi-file',
    '/ip dhcp-server matcher',
    `add name=bootplane-ipxe server=${s.mikrotikServer} code=77 value="iPXE" option-set=bootplane-ipxe`,
    `add name=bootplane-uefi-x64 server=${s.mikrotikServer} code=93 value=0x0007 option-set=bootplane-uefi`,
    `add name=bootplane-uefi-bc server=${s.mikrotikServer} code=93 value=0x0009 option-set=bootplane-uefi`,
    '/ip dhcp-server network',
  ];
  if (s.subnet) {
    const gateway = s.subnet.router ? ` gateway=${s.subnet.router}` : '';
    lines.push(`add address=${s.subnet.cidr}${gateway} next-server=${s.nextServer} boot-file-name=${s.biosBootFile}`);
  } else {
    lines.push(`# set next-server=${s.nextServer} boot-file-name=${s.biosBootFile} on the network that machines boot from`);
  }
  lines.push('/ip dhcp-server lease');
  for (const h of dhcpHosts(assignments)) {
    if (!h.ipAddress) {
      lines.push(`# ${h.source} (${h.mac}) has no fixed address: it gets a pool address`);
      continue;
    }
    lines.push(`add server=${s.mikrotikServer} mac-address=${h.mac.toUpperCase()} address=${h.ipAddress} comment="${h.source}${h.hostname ? ` ${h.hostname}` : ''}"`);
  }
  return `${lines.join('\n')}\n`;
}
