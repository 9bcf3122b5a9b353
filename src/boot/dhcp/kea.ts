// Kea DHCPv4: client classes do the split (iPXE by user class, UEFI by architecture, BIOS the
// rest); host reservations are global, so they apply whichever subnet the machine is in.
import { chainUrl, dhcpHosts, type DhcpSettings } from './model.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';

export function renderKea(s: DhcpSettings, assignments: readonly NodeBootAssignment[]): string {
  // Kea refuses a reservation that reserves nothing; such machines are booted by the classes alone.
  const reservations = dhcpHosts(assignments).filter((h) => h.ipAddress || h.hostname).map((h) => ({
    'hw-address': h.mac,
    ...(h.ipAddress ? { 'ip-address': h.ipAddress } : {}),
    ...(h.hostname ? { hostname: h.hostname } : {}),
    'user-context': { bootplane: h.source },
  }));
  const config: Record<string, unknown> = {
    Dhcp4: {
      'interfaces-config': { interfaces: [] },
      'reservations-global': true,
      'reservations-in-subnet': true,
      'client-classes': [
        { name: 'bootplane-ipxe', test: "option[77].hex == 'iPXE'", 'boot-file-name': chainUrl(s) },
        { name: 'bootplane-efi', test: "not member('bootplane-ipxe') and (option[93].hex == 0x0007 or option[93].hex == 0x0009)", 'next-server': s.nextServer, 'boot-file-name': s.uefiBootFile },
        { name: 'bootplane-bios', test: "not member('bootplane-ipxe') and not member('bootplane-efi')", 'next-server': s.nextServer, 'boot-file-name': s.biosBootFile },
      ],
      reservations,
      ...(s.subnet
        ? {
            subnet4: [{
              id: 1,
              subnet: s.subnet.cidr,
              ...(s.subnet.rangeStart && s.subnet.rangeEnd ? { pools: [{ pool: `${s.subnet.rangeStart} - ${s.subnet.rangeEnd}` }] } : {}),
              ...(s.subnet.router ? { 'option-data': [{ name: 'routers', data: s.subnet.router }] } : {}),
            }],
          }
        : {}),
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
