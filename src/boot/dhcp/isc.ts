// ISC dhcpd: iPXE (user class "iPXE") gets the HTTP chain script, UEFI PXE ROMs (architecture 7
// or 9) get the EFI build of iPXE, everything else the BIOS build, all from next-server.
import { chainUrl, dhcpHosts, subnetParts, type DhcpSettings } from './model.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';

export function renderIscDhcpd(s: DhcpSettings, assignments: readonly NodeBootAssignment[]): string {
  const lines = [
    '# bootplane: network boot for ISC dhcpd (generated; edit the BootProfiles and NodeBootAssignments instead)',
    'option bootplane-client-arch code 93 = unsigned integer 16;',
    '',
    `next-server ${s.nextServer};`,
    'if exists user-class and option user-class = "iPXE" {',
    `  filename "${chainUrl(s)}";`,
    '} elsif option bootplane-client-arch = 7 or option bootplane-client-arch = 9 {',
    `  filename "${s.uefiBootFile}";`,
    '} else {',
    `  filename "${s.biosBootFile}";`,
    '}',
  ];
  if (s.subnet) {
    const { address, netmask } = subnetParts(s.subnet.cidr);
    lines.push('', `subnet ${address} netmask ${netmask} {`);
    if (s.subnet.rangeStart && s.subnet.rangeEnd) lines.push(`  range ${s.subnet.rangeStart} ${s.subnet.rangeEnd};`);
    if (s.subnet.router) lines.push(`  option routers ${s.subnet.router};`);
    lines.push('}');
  }
  for (const h of dhcpHosts(assignments)) {
    lines.push('', `# ${h.source}`, `host ${h.id} {`, `  hardware ethernet ${h.mac};`);
    if (h.ipAddress) lines.push(`  fixed-address ${h.ipAddress};`);
    if (h.hostname) lines.push(`  option host-name "${h.hostname}";`);
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
