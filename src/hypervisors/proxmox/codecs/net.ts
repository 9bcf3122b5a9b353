// NIC values (netN): `virtio=52:54:00:12:34:56,bridge=vmbr0,tag=10`. The model doubles as the
// key of the MAC address (PVE's keyAlias); `model=virtio,macaddr=...` is the long form of the
// same thing. PVE prints the short form first, then the other keys sorted.
import { formatPropertyString, parsePropertyString, PropertyStringError, sortedPairs } from './property-string.js';

export const PVE_NIC_MODELS = [
  'e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er',
  'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3',
] as const;

export interface PveNet {
  model: string;
  macaddr?: string;
  bridge?: string;
  tag?: number;
  firewall?: boolean;
  /** Every other property (mtu, queues, rate, link_down, trunks, ...), verbatim. */
  options: Record<string, string>;
}

const MODELS = new Set<string>(PVE_NIC_MODELS);

export function parseNet(text: string): PveNet {
  const list = parsePropertyString(text);
  let model = list.defaultValue;
  let macaddr: string | undefined;
  const options: Record<string, string> = {};
  const net: Omit<PveNet, 'model'> = { options };
  for (const [key, value] of list.pairs) {
    if (MODELS.has(key)) {
      if (model !== undefined) throw new PropertyStringError(`net ${JSON.stringify(text)} names its model twice`);
      model = key;
      macaddr = value;
    } else if (key === 'model') {
      if (model !== undefined) throw new PropertyStringError(`net ${JSON.stringify(text)} names its model twice`);
      model = value;
    } else if (key === 'macaddr') {
      macaddr = value;
    } else if (key === 'bridge') {
      net.bridge = value;
    } else if (key === 'tag') {
      if (!/^\d+$/.test(value)) throw new PropertyStringError(`net ${JSON.stringify(text)}: tag must be a number`);
      net.tag = Number(value);
    } else if (key === 'firewall') {
      net.firewall = value === '1';
    } else {
      options[key] = value;
    }
  }
  if (model === undefined) throw new PropertyStringError(`net ${JSON.stringify(text)} has no model`);
  const result: PveNet = { model, ...net };
  if (macaddr !== undefined) result.macaddr = macaddr;
  return result;
}

export function formatNet(net: PveNet): string {
  const record: Record<string, string> = { ...net.options };
  if (net.bridge !== undefined) record.bridge = net.bridge;
  if (net.tag !== undefined) record.tag = String(net.tag);
  if (net.firewall !== undefined) record.firewall = net.firewall ? '1' : '0';
  const rest = sortedPairs(record);
  if (net.macaddr === undefined) return formatPropertyString({ pairs: [['model', net.model], ...rest] });
  return formatPropertyString({ pairs: [[net.model, net.macaddr], ...rest] });
}

export const pveNetCodec = { parse: parseNet, format: formatNet };
