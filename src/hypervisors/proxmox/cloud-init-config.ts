// Cloud-init content as Proxmox VE config keys: ciuser, cipassword, sshkeys (URL-encoded, as
// PVE's API wants them), ipconfigN, nameserver, searchdomain, and cicustom for full user-data
// or network-config. PVE's API cannot upload snippet files, so cicustom names a snippet by
// convention and is set only once that file is on the snippet storage; until then the outcome
// says what is missing. Fields spec.cloudInit leaves unset are left as they are on the VM.
import type { CloudInitContent } from '../../planning/cloud-init.js';
import { isIpv6 } from '../../planning/cloud-init.js';
import type { PveVmConfig } from './config.js';

export interface PveCloudInitOptions {
  vmid: number;
  /** Hypervisor.spec.proxmox.snippetStorage. */
  snippetStorage?: string;
  /** Snippet volumes present on that storage (<storage>:snippets/<file>). */
  snippets?: ReadonlySet<string>;
}

export interface PveCloudInitWrite {
  set: Record<string, string>;
  delete: string[];
  /** What could not be written and why (no content in these messages). */
  incomplete: string[];
}

/** Snippet file bootplane expects for a VM's custom user-data or network-config. */
export const snippetVolume = (storage: string, vmid: number, part: 'user-data' | 'network-config') => `${storage}:snippets/bootplane-${vmid}-${part}.yaml`;

/**
 * PVE decodes sshkeys with uri_unescape; encodeURIComponent leaves !'()* alone, which PVE's GUI
 * escapes too, so every client writes the same bytes.
 */
export function encodeSshKeys(keys: string[]): string {
  return encodeURIComponent(keys.join('\n') + '\n').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function ipConfigValue(ip: string, gateway?: string): string {
  if (ip === 'dhcp') return 'ip=dhcp';
  if (ip === 'auto' || ip === 'dhcp6') return `ip6=${ip}`;
  const v6 = isIpv6(ip);
  return [`${v6 ? 'ip6' : 'ip'}=${ip}`, ...(gateway ? [`${v6 ? 'gw6' : 'gw'}=${gateway}`] : [])].join(',');
}

export function pveCloudInitWrite(content: CloudInitContent, current: PveVmConfig, options: PveCloudInitOptions): PveCloudInitWrite {
  const set: Record<string, string> = {};
  const del: string[] = [];
  const incomplete: string[] = [];
  if (content.user !== undefined) set.ciuser = content.user;
  if (content.password !== undefined) set.cipassword = content.password;
  if (content.sshAuthorizedKeys?.length) set.sshkeys = encodeSshKeys(content.sshAuthorizedKeys);
  if (content.ipConfigs) {
    content.ipConfigs.forEach((c, i) => { set[`ipconfig${i}`] = ipConfigValue(c.ip, c.gateway); });
    for (const key of Object.keys(current)) {
      const index = /^ipconfig(\d+)$/.exec(key)?.[1];
      if (index !== undefined && Number(index) >= content.ipConfigs.length) del.push(key);
    }
  }
  if (content.nameservers?.length) set.nameserver = content.nameservers.join(' ');
  if (content.searchDomain !== undefined) set.searchdomain = content.searchDomain;

  const custom: string[] = [];
  for (const [part, wanted, key] of [['user-data', content.userData, 'user'], ['network-config', content.networkConfig, 'network']] as const) {
    if (wanted === undefined) continue;
    if (!options.snippetStorage) {
      incomplete.push(`custom ${part} needs Hypervisor spec.proxmox.snippetStorage (a storage with content type snippets)`);
      continue;
    }
    const volume = snippetVolume(options.snippetStorage, options.vmid, part);
    if (options.snippets?.has(volume)) custom.push(`${key}=${volume}`);
    else incomplete.push(`the Proxmox API cannot upload snippets: place the ${part} from its Secret as ${volume} on every node that runs the VM`);
  }
  const currentCustom = typeof current.cicustom === 'string' ? current.cicustom : undefined;
  if (custom.length) set.cicustom = custom.join(',');
  else if (currentCustom?.includes(':snippets/bootplane-')) del.push('cicustom'); // ours, no longer wanted
  return { set, delete: del, incomplete };
}
