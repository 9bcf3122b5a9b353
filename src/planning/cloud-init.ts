// What a VM's cloud-init drive says, independent of the hypervisor: spec.cloudInit with the
// values of the Secrets it names. Drivers turn it into their own form (Proxmox ci* config keys,
// a libvirt NoCloud seed). The hash lets the controller write a drive only when its content
// changes; it is a one-way digest, so it may go into status though the content holds secrets.
import { createHash } from 'node:crypto';
import type { CloudInit } from '../api/v1alpha1/virtual-machine.js';

export interface CloudInitIpConfig {
  /** dhcp, or an address with prefix length (IPv4 or IPv6). */
  ip: string;
  gateway?: string;
}

export interface CloudInitContent {
  user?: string;
  /** Plain-text password from spec.cloudInit.passwordSecretRef. Never logged or put in status. */
  password?: string;
  sshAuthorizedKeys?: string[];
  ipConfigs?: CloudInitIpConfig[];
  nameservers?: string[];
  searchDomain?: string;
  /** Full user-data from spec.cloudInit.userDataSecretRef; replaces the generated one. */
  userData?: string;
  /** Full network-config (v2) from spec.cloudInit.networkConfigSecretRef; replaces ipConfigs. */
  networkConfig?: string;
}

/** The values of the Secret keys spec.cloudInit names, already read. */
export interface CloudInitSecretValues {
  password?: string;
  userData?: string;
  networkConfig?: string;
}

export function cloudInitContent(spec: CloudInit, secrets: CloudInitSecretValues): CloudInitContent {
  const content: CloudInitContent = {};
  if (spec.user !== undefined) content.user = spec.user;
  if (secrets.password !== undefined) content.password = secrets.password;
  if (spec.sshAuthorizedKeys?.length) content.sshAuthorizedKeys = spec.sshAuthorizedKeys.map((k) => k.trim()).filter(Boolean);
  if (spec.ipConfigs?.length) content.ipConfigs = spec.ipConfigs.map((c) => ({ ip: c.ip, ...(c.gateway ? { gateway: c.gateway } : {}) }));
  if (spec.nameservers?.length) content.nameservers = [...spec.nameservers];
  if (spec.searchDomain !== undefined) content.searchDomain = spec.searchDomain;
  if (secrets.userData !== undefined) content.userData = secrets.userData;
  if (secrets.networkConfig !== undefined) content.networkConfig = secrets.networkConfig;
  return content;
}

/** SHA-256 over a canonical form (fixed key order), so equal content always hashes the same. */
export function cloudInitHash(content: CloudInitContent): string {
  const canonical = JSON.stringify([
    content.user ?? null, content.password ?? null, content.sshAuthorizedKeys ?? null,
    content.ipConfigs?.map((c) => [c.ip, c.gateway ?? null]) ?? null, content.nameservers ?? null,
    content.searchDomain ?? null, content.userData ?? null, content.networkConfig ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Whether an ipConfigs address is IPv6 (Proxmox ip6=, network-config v2 addresses alike). */
export const isIpv6 = (address: string) => address.includes(':');
