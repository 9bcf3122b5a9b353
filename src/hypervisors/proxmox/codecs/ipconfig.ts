// Cloud-init address configuration (ipconfigN): `ip=dhcp`, `ip=192.0.2.10/24,gw=192.0.2.1`,
// `ip6=auto`. PVE prints the keys sorted (gw, gw6, ip, ip6).
import { formatPropertyString, parsePropertyString, PropertyStringError, sortedPairs } from './property-string.js';

export interface PveIpConfig {
  ip?: string;
  gw?: string;
  ip6?: string;
  gw6?: string;
  /** Properties newer PVE versions may add, verbatim. */
  options: Record<string, string>;
}

const KNOWN = ['ip', 'gw', 'ip6', 'gw6'] as const;

export function parseIpConfig(text: string): PveIpConfig {
  const list = parsePropertyString(text);
  if (list.defaultValue !== undefined) {
    throw new PropertyStringError(`ipconfig ${JSON.stringify(text)}: every value needs a key (ip=, gw=, ip6=, gw6=)`);
  }
  const config: PveIpConfig = { options: {} };
  for (const [key, value] of list.pairs) {
    if ((KNOWN as readonly string[]).includes(key)) config[key as (typeof KNOWN)[number]] = value;
    else config.options[key] = value;
  }
  if (config.gw !== undefined && config.ip === undefined) throw new PropertyStringError(`ipconfig ${JSON.stringify(text)}: gw requires ip`);
  if (config.gw6 !== undefined && config.ip6 === undefined) throw new PropertyStringError(`ipconfig ${JSON.stringify(text)}: gw6 requires ip6`);
  return config;
}

export function formatIpConfig(config: PveIpConfig): string {
  const record: Record<string, string> = { ...config.options };
  for (const key of KNOWN) {
    const value = config[key];
    if (value !== undefined) record[key] = value;
  }
  return formatPropertyString({ pairs: sortedPairs(record) });
}

export const pveIpConfigCodec = { parse: parseIpConfig, format: formatIpConfig };
