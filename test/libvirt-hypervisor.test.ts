// The Hypervisor controller with the libvirt driver against the real libvirtd: Connected,
// versions, the host, storage pools and the ISO volumes of the pool, as status shows them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, eventually, getJson, kubectlOk, uniqueName } from './support/kube.js';
import { LIBVIRT_URI, virsh, virshOk } from './support/libvirt.js';
import { KUBECONFIG } from './support/paths.js';

let controller: RunningController;
let client: LibvirtClient;
const iso = `${uniqueName('bp-hv')}.iso`;

beforeAll(async () => {
  client = new LibvirtClient({ uri: LIBVIRT_URI });
  // An ISO volume in the default pool, uploaded through our own client.
  const data = readFileSync('/usr/lib/ipxe/ipxe.iso');
  const pool = await client.lookupPool('default');
  const vol = await client.createVolume(pool, `<volume><name>${iso}</name><capacity>${data.length}</capacity><target><format type='raw'/></target></volume>`);
  await client.uploadVolume(vol, data);
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0' }), silentLogger());
});

afterAll(async () => {
  await controller?.stop();
  await client?.close();
  await virsh(['vol-delete', '--pool', 'default', iso]);
});

interface HvStatus {
  version?: string;
  nodes?: { name: string; online: boolean }[];
  storages?: { name: string; type?: string; totalBytes?: number; availableBytes?: number }[];
  isos?: { volume: string; sizeBytes?: number }[];
}

describe('Hypervisor controller with the libvirt driver', () => {
  it('reports Connected, versions, the host, pools and ISO volumes of qemu:///system', async () => {
    const hv = uniqueName('lv');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system"}}\n`);
    const connected = await eventually(async () => {
      const c = await condition(`hv/${hv}`, 'Connected');
      return c?.status === 'True' && c;
    }, 'Connected', 60_000);
    const version = await virshOk(['version']);
    const lib = /Using library: libvirt (\S+)/.exec(version)![1];
    const qemu = /Running hypervisor: QEMU (\S+)/.exec(version)![1];
    expect(connected.message).toBe(`Connected to libvirt ${lib} (QEMU ${qemu}).`);
    expect((await condition(`hv/${hv}`, 'Ready'))?.status).toBe('True');

    const status = (await getJson<{ status: HvStatus }>(['get', 'hv', hv])).status;
    expect(status.version).toBe(`${lib} (QEMU ${qemu})`);
    expect(status.nodes).toEqual([{ name: (await virshOk(['hostname'])).trim(), online: true }]);
    const pool = status.storages!.find((s) => s.name === 'default')!;
    expect(pool.type).toBe('dir');
    const info = await virshOk(['pool-info', 'default', '--bytes']);
    expect(pool.totalBytes).toBe(Number(/Capacity: +(\d+)/.exec(info)![1]));
    expect(status.isos).toContainEqual({ volume: `default/${iso}`, sizeBytes: readFileSync('/usr/lib/ipxe/ipxe.iso').length });
    await kubectlOk(['delete', 'hv', hv, '--timeout=30s']);
  });

  it('reports a daemon it cannot reach with the transport error', async () => {
    const hv = uniqueName('lv-down');
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu+tcp://127.0.0.1:1/system"}, requestTimeoutSeconds: 5}\n`);
    const down = await eventually(async () => {
      const c = await condition(`hv/${hv}`, 'Connected');
      return c?.status === 'False' && c;
    }, 'Connected=False', 60_000);
    expect(down.reason).toBe('LibvirtConnectionLost');
    expect(down.message).toContain('cannot connect to libvirtd at 127.0.0.1:1');
    await kubectlOk(['delete', 'hv', hv, '--timeout=30s']);
  });
});
