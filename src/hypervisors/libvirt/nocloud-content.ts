// Cloud-init content as the files of a NoCloud seed: user-data (the Secret's own, or a
// #cloud-config generated from user, password and SSH keys), meta-data, and network-config (the
// Secret's own, or version 2 generated from ipConfigs matched to the NICs by MAC). Generated
// documents are JSON, which is YAML too: no hand-written quoting of user values.
import type { CloudInitContent } from '../../planning/cloud-init.js';
import { isIpv6 } from '../../planning/cloud-init.js';
import type { NoCloudSeed } from './nocloud-seed.js';

export interface SeedIdentity {
  /** Host name for meta-data (the domain name). */
  hostname: string;
  /**
   * instance-id: like Proxmox, derived from the content, so a changed drive is a new instance
   * to cloud-init and its per-instance modules run again.
   */
  instanceId: string;
  /** MAC addresses of the NICs in order, for matching ipConfigs. */
  macs: string[];
}

export function noCloudSeedFromContent(content: CloudInitContent, id: SeedIdentity): NoCloudSeed {
  const metaData = `${JSON.stringify({ 'instance-id': id.instanceId, 'local-hostname': id.hostname })}\n`;
  const userData = content.userData ?? `#cloud-config\n${JSON.stringify(generatedUserData(content, id.hostname), null, 2)}\n`;
  const network = content.networkConfig ?? generatedNetworkConfig(content, id.macs);
  return { userData, metaData, ...(network !== undefined ? { networkConfig: network } : {}) };
}

function generatedUserData(content: CloudInitContent, hostname: string): Record<string, unknown> {
  const doc: Record<string, unknown> = { hostname, manage_etc_hosts: true };
  if (content.user !== undefined) doc.user = content.user;
  if (content.password !== undefined) {
    doc.password = content.password;
    doc.chpasswd = { expire: false };
    doc.ssh_pwauth = true;
  }
  if (content.sshAuthorizedKeys?.length) doc.ssh_authorized_keys = content.sshAuthorizedKeys;
  doc.users = ['default'];
  return doc;
}

function generatedNetworkConfig(content: CloudInitContent, macs: string[]): string | undefined {
  if (!content.ipConfigs?.length) return undefined;
  const nameservers = content.nameservers?.length || content.searchDomain
    ? { nameservers: { ...(content.nameservers?.length ? { addresses: content.nameservers } : {}), ...(content.searchDomain ? { search: [content.searchDomain] } : {}) } }
    : {};
  const ethernets: Record<string, unknown> = {};
  content.ipConfigs.forEach((c, i) => {
    const mac = macs[i];
    const match = mac ? { match: { macaddress: mac.toLowerCase() } } : { match: { name: `eth${i}` } };
    const address = c.ip === 'dhcp' ? { dhcp4: true } : c.ip === 'auto' || c.ip === 'dhcp6' ? { dhcp6: true } : {
      addresses: [c.ip],
      ...(c.gateway ? { [isIpv6(c.ip) ? 'gateway6' : 'gateway4']: c.gateway } : {}),
    };
    ethernets[`net${i}`] = { ...match, ...address, ...nameservers };
  });
  return `${JSON.stringify({ version: 2, ethernets }, null, 2)}\n`;
}
