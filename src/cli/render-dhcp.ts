// `bootplane render dhcp`: the DHCP configuration for the site's own DHCP server, from
// NodeBootAssignments in manifests (-f) or in the cluster. Prints to stdout.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { DHCP_VENDORS, DhcpConfigError } from '../boot/dhcp/model.js';
import { defaultDhcpSettings, isDhcpVendor, renderDhcpConfig } from '../boot/dhcp/render.js';
import { KubeClient } from '../kube/client.js';
import { bootplaneResource, collectionPath } from '../kube/resources.js';

export const RENDER_DHCP_USAGE = `bootplane render dhcp — DHCP configuration for network boot

Usage:
  bootplane render dhcp --vendor mikrotik|dnsmasq|isc|kea --server-url http://HOST:PORT [flags]

Flags:
  --vendor NAME          the DHCP server: mikrotik (RouterOS 7), dnsmasq, isc (dhcpd), kea (kea-dhcp4)
  --server-url URL       the boot HTTP server machines reach (iPXE gets URL/boot.ipxe)
  --next-server IP       TFTP server for the first hop (default: the server URL's host)
  --bios-file NAME       first-hop file for BIOS PXE ROMs (default undionly.kpxe)
  --uefi-file NAME       first-hop file for UEFI PXE ROMs (default ipxe.efi)
  --subnet CIDR          also declare this subnet, e.g. 192.0.2.0/24
  --range FIRST-LAST     its dynamic pool, e.g. 192.0.2.100-192.0.2.200
  --router IP            its default gateway
  --mikrotik-server NAME RouterOS DHCP server the matchers and leases belong to (default dhcp1)
  -f, --filename FILE    read NodeBootAssignments from manifests (repeatable) instead of the cluster
  --kubeconfig PATH      kubeconfig for reading from the cluster
  -n, --namespace NS     only this namespace (default: all)
`;

export class UsageError extends Error {
  readonly code = 'UsageError';
}

export async function renderDhcp(args: string[], out: (text: string) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      vendor: { type: 'string' }, 'server-url': { type: 'string' }, 'next-server': { type: 'string' },
      'bios-file': { type: 'string' }, 'uefi-file': { type: 'string' }, subnet: { type: 'string' },
      range: { type: 'string' }, router: { type: 'string' }, 'mikrotik-server': { type: 'string' },
      filename: { type: 'string', short: 'f', multiple: true }, kubeconfig: { type: 'string' }, namespace: { type: 'string', short: 'n' },
    },
    strict: true,
  });
  const vendor = values.vendor ?? '';
  if (!isDhcpVendor(vendor)) throw new UsageError(`--vendor must be one of ${DHCP_VENDORS.join(', ')}`);
  if (!values['server-url']) throw new UsageError('--server-url is required: the boot HTTP server machines reach, e.g. http://192.0.2.1:8082');
  const [rangeStart, rangeEnd] = values.range ? values.range.split('-') : [];
  if (values.range && (!rangeStart || !rangeEnd)) throw new UsageError('--range must be FIRST-LAST');
  const settings = defaultDhcpSettings(values['server-url'], {
    ...(values['next-server'] ? { nextServer: values['next-server'] } : {}),
    ...(values['bios-file'] ? { biosBootFile: values['bios-file'] } : {}),
    ...(values['uefi-file'] ? { uefiBootFile: values['uefi-file'] } : {}),
    ...(values['mikrotik-server'] ? { mikrotikServer: values['mikrotik-server'] } : {}),
    ...(values.subnet ? { subnet: { cidr: values.subnet, rangeStart, rangeEnd, router: values.router } } : {}),
  });
  const assignments = values.filename
    ? fromManifests(values.filename, values.namespace)
    : await fromCluster(values.kubeconfig, values.namespace);
  try {
    out(renderDhcpConfig(vendor, settings, assignments).body);
  } catch (err) {
    if (err instanceof DhcpConfigError) throw new UsageError(err.message);
    throw err;
  }
}

function fromManifests(files: string[], namespace: string | undefined): NodeBootAssignment[] {
  const found: NodeBootAssignment[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new UsageError(`${file}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as NodeBootAssignment | null;
      if (obj?.kind !== 'NodeBootAssignment') continue;
      obj.metadata.namespace ??= 'default';
      if (!namespace || obj.metadata.namespace === namespace) found.push(obj);
    }
  }
  return found;
}

async function fromCluster(kubeconfig: string | undefined, namespace: string | undefined): Promise<NodeBootAssignment[]> {
  const client = await KubeClient.create({ kubeconfigPath: kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] });
  try {
    const list = await client.request<{ items: NodeBootAssignment[] }>(collectionPath(bootplaneResource('NodeBootAssignment'), namespace));
    return list.items;
  } finally {
    await client.close();
  }
}
