// The install lifecycle on the real libvirtd with the test guest, through the real API server and
// controller: the installer ISO goes into the CD-ROM of a stopped domain, spec.powerState starts
// it, the guest (standing in for an installer) reboots into shut-off (on_reboot destroy, as
// installer VMs are set up), and bootplane then ejects the
// ISO, makes the disk the only boot device, takes the internal qcow2 snapshot named in spec and
// starts the domain again. virsh is the oracle (dumpxml --inactive, snapshot-list). A second
// domain, retired by spec.teardown with action Delete once the first is Ready, leaves libvirt
// with its own volume deleted and a volume it did not own kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { guestShell } from './support/guest-agent.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, testGuest, virsh, virshOk } from './support/libvirt.js';
import { KUBECONFIG } from './support/paths.js';

let controller: RunningController;
let client: LibvirtClient;
let ns: string;
let hv: string;
const domain = uniqueName('install-vm');
const bootstrap = uniqueName('install-boot');
const installerIso = `${domain}-installer.iso`;
const sharedVolume = `${uniqueName('install-shared')}.qcow2`;
const volumes = [`${domain}.qcow2`, installerIso, `${bootstrap}.qcow2`, sharedVolume];

async function volume(name: string, format: 'qcow2' | 'raw', mib: number): Promise<string> {
  await virshOk(['vol-create-as', 'default', name, `${mib}M`, '--format', format]);
  return (await virshOk(['vol-path', '--pool', 'default', name])).trim();
}

function domainXml(name: string, disks: string[], guest: { kernel: string; initrd: string }): string {
  const targets = ['vda', 'vdb'];
  return `<domain type='${domainType()}'>
  <name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <on_reboot>destroy</on_reboot>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    ${disks.map((path, i) => `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${path}'/><target dev='${targets[i]}' bus='virtio'/></disk>`).join('\n    ')}
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>`;
}

async function defineDomain(xml: string): Promise<void> {
  await client.defineDomain(xml);
}

beforeAll(async () => {
  const guest = testGuest();
  client = new LibvirtClient({ uri: LIBVIRT_URI });
  await defineDomain(domainXml(domain, [await volume(`${domain}.qcow2`, 'qcow2', 32)], guest));
  await defineDomain(domainXml(bootstrap, [await volume(`${bootstrap}.qcow2`, 'qcow2', 16), await volume(sharedVolume, 'qcow2', 16)], guest));
  await volume(installerIso, 'raw', 1);
  await virshOk(['vol-upload', '--pool', 'default', installerIso, '/usr/lib/ipxe/ipxe.iso']);
  ns = await createNamespace('install');
  hv = uniqueName('install');
  await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system", storagePool: default}}\n`);
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0' }), silentLogger());
}, 300_000);

afterAll(async () => {
  await kubectl(['delete', 'isoattachments,virtualmachines', '--all', '-n', ns, '--timeout=60s']);
  await kubectl(['delete', 'hv', hv, '--timeout=60s']);
  await controller?.stop();
  await client?.close();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  for (const name of [domain, bootstrap]) {
    await virsh(['destroy', name]);
    await virsh(['undefine', name, '--snapshots-metadata', '--nvram']);
  }
  for (const v of volumes) await virsh(['vol-delete', '--pool', 'default', v]);
});

const apply = (yaml: string) => kubectlOk(['apply', '-f', '-'], yaml);
async function until(kindName: string, type: string, pred: (c: { status: string; reason: string; message: string }) => boolean, what: string, timeoutMs = 90_000) {
  return eventually(async () => {
    const c = await condition(kindName, type, ns);
    return c && pred(c) && c;
  }, what, timeoutMs, 500);
}

function vmYaml(name: string, domainName: string, extra: string, labels = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}${labels ? `, labels: {${labels}}` : ''}}
spec:
  hypervisorRef: {name: ${hv}}
  libvirt: {domainName: ${domainName}}
  osFamily: linux
${extra}`;
}

const installSpec = (power: string) => `${power}  install:
    source: iso
    detectCompletion: [diskBoot]
    afterInstall: {bootPreset: hd, snapshotName: installed}
`;

describe('install lifecycle on libvirt', () => {
  it('the installer ends by shutting the domain off -> Installed; ISO ejected, disk boot order, snapshot present, started again', async () => {
    await apply(vmYaml('web', domain, installSpec(''), 'role: control-plane'));
    await apply(`apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: web-installer, namespace: ${ns}}
spec:
  vmRef: {name: web}
  source: {volume: "default/${installerIso}"}
  purpose: installer
  primaryBoot: true
  ejectPolicy: AfterInstall
`);
    await until('isoattachment/web-installer', 'Attached', (c) => c.status === 'True', 'installer attached');
    const before = await virshOk(['dumpxml', '--inactive', domain]);
    expect(before).toContain(installerIso);
    expect(before).toMatch(/<target dev='hdc' bus='ide'\/>\s*<readonly\/>\s*<boot order='1'\/>/); // the installer first

    await apply(vmYaml('web', domain, installSpec('  powerState: Running\n'), 'role: control-plane'));
    await until('vm/web', 'Installed', (c) => c.reason === 'Installing', 'install started');
    expect((await virshOk(['domstate', domain])).trim()).toBe('running');

    // The "installer" finishes and reboots; the domain is set up as installer VMs are (on_reboot
    // destroy, like qemu -no-reboot), so its reboot ends in shut off. The test guest has no ACPI
    // power-off of its own.
    const dom = await client.lookupDomainByName(domain);
    await eventually(async () => client.agentCommand(dom, '{"execute":"guest-ping"}', 2), 'guest agent', 120_000, 1000);
    await guestShell(client, dom, 'sync; reboot -f', 5_000).catch(() => undefined); // the agent goes with the guest
    await eventually(async () => (await virshOk(['domstate', domain])).trim() === 'shut off' || undefined, 'installer reboot ends the domain', 60_000, 300);

    const installed = await until('vm/web', 'Installed', (c) => c.status === 'True', 'installed', 120_000);
    expect(installed.reason).toBe('BootedFromDisk');
    await until('vm/web', 'Snapshot', (c) => c.status === 'True', 'snapshot taken');

    // virsh, not our status, says what happened.
    const snapshots = (await virshOk(['snapshot-list', domain, '--name'])).split('\n').map((l) => l.trim()).filter(Boolean);
    expect(snapshots).toEqual(['installed']);
    const after = await virshOk(['dumpxml', '--inactive', domain]);
    expect(after).not.toContain(installerIso);
    // The disk is the one boot device left (libvirt keeps its number; only the order matters).
    expect(after.match(/<boot order=/g)).toHaveLength(1);
    expect(after).toMatch(/<target dev='vda' bus='virtio'\/>\s*<boot order='\d+'\/>/);
    const status = (await getJson<{ status: { install: Record<string, unknown>; snapshots: string[]; bootOrder: string[] } }>(['get', 'vm', 'web', '-n', ns])).status;
    expect(status.bootOrder).toEqual(['virtio0']);
    expect(status.install).toMatchObject({ state: 'Installed', completedBy: 'diskBoot', progressPercent: 100 });
    expect(status.snapshots).toEqual(['installed']);
    await until('isoattachment/web-installer', 'Attached', (c) => c.reason === 'Ejected', 'installer ejected');
    // spec.powerState Running: started again, now from its disk; still one snapshot.
    await eventually(async () => (await virshOk(['domstate', domain])).trim() === 'running' || undefined, 'started again', 60_000, 500);
    await kubectlOk(['annotate', 'vm', 'web', '-n', ns, `bootplane.test/poke=${Date.now()}`, '--overwrite']);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await virshOk(['snapshot-list', domain, '--name'])).trim()).toBe('installed');
  }, 400_000);

  it('teardown Delete removes the bootstrap domain and its own volume, keeps the one it does not own', async () => {
    await until('vm/web', 'Ready', (c) => c.status === 'True', 'web Ready');
    await apply(vmYaml('bootstrap', bootstrap, '  teardown:\n    whenReady: {matchLabels: {role: control-plane}, count: 1}\n    action: Delete\n'));
    const gone = await until('vm/bootstrap', 'TornDown', (c) => c.status === 'True', 'bootstrap deleted');
    expect(gone.reason).toBe('Deleted');
    expect((await virsh(['dominfo', bootstrap])).code).not.toBe(0);
    const vols = await virshOk(['vol-list', 'default']);
    expect(vols).not.toContain(`${bootstrap}.qcow2`);
    expect(vols).toContain(sharedVolume);
  }, 120_000);
});
