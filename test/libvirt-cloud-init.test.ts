// Cloud-init content on the real libvirtd, through the real API server and controller: a VM with
// spec.cloudInit gets one cloud-init drive whose NoCloud seed (<domain>-cidata.iso in the pool,
// read back with virsh vol-download and isoinfo as an independent oracle) carries the content;
// later passes add no drives; a rotated password Secret produces a new seed; no Secret value
// reaches status or Events.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseControllerConfig } from '../src/config/config.js';
import { runController, type RunningController } from '../src/main.js';
import { silentLogger } from '../src/observability/logger.js';
import { condition, createNamespace, eventually, getJson, kubectl, kubectlOk, uniqueName } from './support/kube.js';
import { domainType, removeDomain, virsh, virshOk } from './support/libvirt.js';
import { KUBECONFIG } from './support/paths.js';

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq7c3+Wz/aDbI0Bv1c0eT3xsD8m5y5i7oKq0F2lXx1y admin@example.test';
const FIRST_PASSWORD = 'first+Pa55 w0rd!';
const SECOND_PASSWORD = 'second/Pa55&w0rd';
const MAC = '52:54:00:c1:00:01';
let controller: RunningController;
let ns: string;
let hv: string;
const domain = uniqueName('bp-ci');
const seed = `${domain}-cidata.iso`;

beforeAll(async () => {
  ns = await createNamespace('lvci');
  hv = uniqueName('lvci');
  await virshOk(['define', writeXml()]);
  await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1\nkind: Hypervisor\nmetadata: {name: ${hv}}\nspec: {type: libvirt, libvirt: {uri: "qemu:///system", storagePool: default}}\n`);
  controller = await runController(parseControllerConfig({ kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', bootAddr: ':0', consoleAddr: ':0' }), silentLogger());
});

afterAll(async () => {
  await kubectl(['delete', 'virtualmachines', '--all', '-n', ns, '--timeout=60s']);
  await kubectl(['delete', 'hv', hv, '--timeout=60s']);
  await controller?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await removeDomain(domain);
  await virsh(['vol-delete', '--pool', 'default', seed]);
});

/** A shut-off domain with a disk-less layout, one NIC and no CD-ROM: the planner must add the cloud-init drive. */
function writeXml(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bp-ci-')), 'domain.xml');
  writeFileSync(file, `<domain type='${domainType()}'>
  <name>${domain}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='${MAC}'/><source network='default'/><model type='virtio'/></interface>
    <memballoon model='none'/>
  </devices>
</domain>`);
  return file;
}

const secret = (name: string, key: string, value: string) =>
  kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: { [key]: value } }));

function vmYaml(extra = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: web, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  libvirt: {domainName: ${domain}}
  osFamily: debian
  cloudInit:
    user: debian
    passwordSecretRef: {name: web-pw, key: password}
    sshAuthorizedKeys: ["${SSH_KEY}"]
    ipConfigs: [{ip: 192.0.2.10/24, gateway: 192.0.2.1}]
    nameservers: [192.0.2.53]
    searchDomain: example.test
${extra}`;
}

/** The seed's files as virsh downloads them and isoinfo reads them. */
async function seedFiles(): Promise<{ label: string; userData: string; metaData: string; networkConfig: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'bp-ci-seed-')), 'seed.iso');
  await virshOk(['vol-download', '--pool', 'default', seed, file]);
  const read = (name: string) => execFileSync('isoinfo', ['-J', '-i', file, '-x', `/${name}`], { encoding: 'utf8' });
  const label = /Volume id: (\S+)/.exec(execFileSync('isoinfo', ['-d', '-i', file], { encoding: 'utf8' }))?.[1] ?? '';
  return { label, userData: read('user-data'), metaData: read('meta-data'), networkConfig: read('network-config') };
}

const cdroms = async () => [...(await virshOk(['dumpxml', '--inactive', domain])).matchAll(/<disk [^>]*device='cdrom'[\s\S]*?<\/disk>/g)].map((m) => m[0]);

describe('cloud-init content on libvirt', () => {
  it('writes a seed the cloud-init drive points at, adds no drives on later passes, and rewrites it when the password rotates', async () => {
    await secret('web-pw', 'password', FIRST_PASSWORD);
    await kubectlOk(['apply', '-f', '-'], vmYaml());
    await eventually(async () => (await condition('vm/web', 'CloudInitConfigured', ns))?.status === 'True', 'cloud-init written', 90_000, 300);

    const drives = await cdroms();
    expect(drives).toHaveLength(1);
    expect(drives[0]).toContain(`<source pool='default' volume='${seed}'/>`);
    expect(drives[0]).toMatch(/bus='(scsi|sata)'/); // Debian: cloud-init on SCSI
    const vm = await getJson<{ status: { cloudInitSlot?: string; cloudInitHash: string } }>(['get', 'vm', 'web', '-n', ns]);
    expect(vm.status.cloudInitSlot).toMatch(/^(scsi|sata)\d+$/);

    const files = await seedFiles();
    expect(files.label).toBe('cidata');
    const userData = parse(files.userData) as Record<string, unknown>;
    expect(files.userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toMatchObject({ user: 'debian', password: FIRST_PASSWORD, ssh_authorized_keys: [SSH_KEY], hostname: domain });
    expect(parse(files.metaData)).toMatchObject({ 'local-hostname': domain });
    expect(parse(files.networkConfig)).toEqual({ version: 2, ethernets: { net0: { match: { macaddress: MAC }, addresses: ['192.0.2.10/24'], gateway4: '192.0.2.1', nameservers: { addresses: ['192.0.2.53'], search: ['example.test'] } } } });

    // A new generation makes full passes: still one drive, the same seed, nothing rewritten.
    await kubectlOk(['apply', '-f', '-'], vmYaml('  guestAgent: {enabled: true}\n'));
    await eventually(async () => {
      const now = await getJson<{ metadata: { generation: number }; status: { observedGeneration?: number } }>(['get', 'vm', 'web', '-n', ns]);
      return now.status.observedGeneration === now.metadata.generation && (await condition('vm/web', 'CloudInitConfigured', ns))?.reason === 'UpToDate';
    }, 'a pass with nothing new', 60_000, 300);
    expect(await cdroms()).toEqual(drives);
    expect(await seedFiles()).toEqual(files);

    await secret('web-pw', 'password', SECOND_PASSWORD);
    await eventually(async () => (parse((await seedFiles()).userData) as { password?: string }).password === SECOND_PASSWORD, 'rotated password in the seed', 60_000, 500);
    expect(await cdroms()).toHaveLength(1);

    // The rewrite is an Event (the first content of the drive was not: see the reconciler).
    const seen = await eventually(async () => {
      const all = [
        await kubectlOk(['get', 'vm', 'web', '-n', ns, '-o', 'json']),
        await kubectlOk(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', 'regarding.name=web', '-o', 'json']),
      ].join('\n');
      return all.includes('CloudInitWritten') && all;
    }, 'CloudInitWritten for the rewrite', 30_000, 500);
    for (const value of [FIRST_PASSWORD, SECOND_PASSWORD]) expect(seen).not.toContain(value);
  });
});
