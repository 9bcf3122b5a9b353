// Cloud-init content on Proxmox end to end: the real API server and controller, the PVE
// simulator over HTTPS (every request checked against the official schema). spec.cloudInit and
// its Secrets become ci* config keys and a regenerated drive; a pass with nothing new writes
// nothing; a rotated password Secret is written again; no Secret value reaches status or Events.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { simPasswordMatches } from '../src/hypervisors/proxmox/simulator/vm-config.js';
import { condition, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { startProxmoxSite, stopProxmoxSite, type ProxmoxSite } from './support/proxmox.js';

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq7c3+Wz/aDbI0Bv1c0eT3xsD8m5y5i7oKq0F2lXx1y admin@example.test';
const FIRST_PASSWORD = 'first+Pa55 w0rd!';
const SECOND_PASSWORD = 'second/Pa55&w0rd';
const USER_DATA = '#cloud-config\nruncmd: [echo private-user-data-marker]\n';
let site: ProxmoxSite;
let sim: PveSimulator;
let ns: string;
let hv: string;

beforeAll(async () => {
  site = await startProxmoxSite('pveci');
  ({ sim, ns, hv } = site);
});

afterEach(() => {
  expect(sim.schemaViolations).toEqual([]);
});

afterAll(async () => {
  await stopProxmoxSite(site, 'virtualmachines');
});

const cond = (kindName: string, type: string) => condition(kindName, type, ns);
const pveConfig = (vmid: number) => sim.cluster.vms.get(vmid)!.config;
const writesTo = (vmid: number) => sim.calls.filter((c) => c.startsWith('PUT') && c.includes(`/qemu/${vmid}/`));
const secret = (name: string, key: string, value: string) =>
  kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: { [key]: value } }));
const everything = async (name: string) => [
  await kubectlOk(['get', 'vm', name, '-n', ns, '-o', 'json']),
  await kubectlOk(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', `regarding.name=${name}`, '-o', 'json']),
].join('\n');

function vmYaml(name: string, vmid: number, cloudInit: string, extra = ''): string {
  return `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
  osFamily: debian
  cloudInit:
${cloudInit}
${extra}`;
}

describe('cloud-init content on Proxmox', () => {
  it('writes user, password, SSH keys, addresses and DNS; a quiet pass writes nothing; a rotated password is written again', async () => {
    const vmid = 700;
    sim.cluster.addVm({ vmid, config: { name: 'debian-ci', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, ipconfig3: 'ip=dhcp', boot: 'order=scsi0' } });
    await secret('debian-ci-pw', 'password', FIRST_PASSWORD);
    const cloudInit = `    user: debian
    passwordSecretRef: {name: debian-ci-pw, key: password}
    sshAuthorizedKeys: ["${SSH_KEY}"]
    ipConfigs: [{ip: 192.0.2.10/24, gateway: 192.0.2.1}, {ip: dhcp}, {ip: "2001:db8::10/64", gateway: "2001:db8::1"}]
    nameservers: [192.0.2.53, 192.0.2.54]
    searchDomain: example.test`;
    await kubectlOk(['apply', '-f', '-'], vmYaml('debian-ci', vmid, cloudInit));
    await eventually(async () => (await cond('vm/debian-ci', 'CloudInitConfigured'))?.status === 'True', 'cloud-init written', 60_000, 300);

    const config = pveConfig(vmid);
    expect(config.ciuser).toBe('debian');
    expect(config.cipassword).not.toContain(FIRST_PASSWORD); // PVE keeps it hashed
    expect(simPasswordMatches(config.cipassword, FIRST_PASSWORD)).toBe(true);
    expect(config.sshkeys).not.toContain(' '); // URL-encoded, as PVE stores it
    expect(decodeURIComponent(config.sshkeys!)).toBe(`${SSH_KEY}\n`);
    expect(config.ipconfig0).toBe('ip=192.0.2.10/24,gw=192.0.2.1');
    expect(config.ipconfig1).toBe('ip=dhcp');
    expect(config.ipconfig2).toBe('ip6=2001:db8::10/64,gw6=2001:db8::1');
    expect(config.ipconfig3).toBeUndefined(); // beyond spec.cloudInit.ipConfigs
    expect(config.nameserver).toBe('192.0.2.53 192.0.2.54');
    expect(config.searchdomain).toBe('example.test');
    expect(config.cicustom).toBeUndefined();
    expect(writesTo(vmid)).toContain(`PUT /nodes/pve1/qemu/${vmid}/cloudinit`);
    const vm = await getJson<{ status: { cloudInitHash: string } }>(['get', 'vm', 'debian-ci', '-n', ns]);
    expect(vm.status.cloudInitHash).toMatch(/^[0-9a-f]{64}$/);

    // A new generation makes a full pass; the content is unchanged, so nothing is written.
    const before = writesTo(vmid).length;
    await kubectlOk(['apply', '-f', '-'], vmYaml('debian-ci', vmid, cloudInit, '  guestAgent: {enabled: true}\n'));
    await eventually(async () => {
      const now = await getJson<{ metadata: { generation: number }; status: { observedGeneration?: number } }>(['get', 'vm', 'debian-ci', '-n', ns]);
      return now.status.observedGeneration === now.metadata.generation && (await cond('vm/debian-ci', 'CloudInitConfigured'))?.reason === 'UpToDate';
    }, 'a pass with nothing new', 60_000, 300);
    expect(writesTo(vmid).length).toBe(before);

    // Rotating the Secret re-queues the VM through the Secret watch and writes the new password.
    await secret('debian-ci-pw', 'password', SECOND_PASSWORD);
    await eventually(async () => simPasswordMatches(pveConfig(vmid).cipassword, SECOND_PASSWORD), 'rotated password written', 60_000, 300);
    await eventually(async () => (await getJson<{ status: { cloudInitHash: string } }>(['get', 'vm', 'debian-ci', '-n', ns])).status.cloudInitHash !== vm.status.cloudInitHash, 'new hash in status', 30_000, 300);
    expect(writesTo(vmid).filter((c) => c.endsWith('/cloudinit')).length).toBeGreaterThanOrEqual(2);

    // The rewrite is an Event; the first write was not (the drive's first content is part of the
    // VM coming under bootplane's care, and its audit line records it).
    const seen = await eventually(async () => { const all = await everything('debian-ci'); return all.includes('CloudInitWritten') && all; }, 'CloudInitWritten for the rewrite', 30_000, 300);
    for (const value of [FIRST_PASSWORD, SECOND_PASSWORD, 'first+Pa55', 'second/Pa55']) expect(seen).not.toContain(value);
  });

  it('custom user-data without a snippet storage: the generated keys are written and the condition says what is missing', async () => {
    const vmid = 701;
    sim.cluster.addVm({ vmid, config: { name: 'custom-ci', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' } });
    await secret('custom-ci-ud', 'user-data', USER_DATA);
    await kubectlOk(['apply', '-f', '-'], vmYaml('custom-ci', vmid, '    user: ops\n    userDataSecretRef: {name: custom-ci-ud, key: user-data}'));
    const c = await eventually(async () => {
      const found = await cond('vm/custom-ci', 'CloudInitConfigured');
      return found?.reason === 'Incomplete' && found;
    }, 'incomplete cloud-init', 60_000, 300);
    expect(c.message).toContain('snippetStorage');
    expect(pveConfig(vmid).ciuser).toBe('ops');
    expect(pveConfig(vmid).cicustom).toBeUndefined();
    expect((await cond('vm/custom-ci', 'Ready'))?.status).toBe('False');
    expect(await everything('custom-ci')).not.toContain('private-user-data-marker');
  });

  it('custom user-data with a snippet storage: cicustom is set once the snippet file is there', async () => {
    const vmid = 703;
    const snippetHv = `${hv}-snip`;
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: Hypervisor
metadata: {name: ${snippetHv}}
spec:
  type: proxmox
  proxmox: {endpoint: "${sim.endpoint}", isoStorage: local, snippetStorage: local}
  credentialsSecretRef: {name: pve, namespace: ${ns}}
  tls: {caSecretKey: ca.crt}
  requestTimeoutSeconds: 5
`);
    sim.cluster.addVm({ vmid, config: { name: 'snippet-ci', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' } });
    await secret('snippet-ci-ud', 'user-data', USER_DATA);
    await kubectlOk(['apply', '-f', '-'], vmYaml('snippet-ci', vmid, '    userDataSecretRef: {name: snippet-ci-ud, key: user-data}').replace(`hypervisorRef: {name: ${hv}}`, `hypervisorRef: {name: ${snippetHv}}`));
    const missing = await eventually(async () => {
      const found = await cond('vm/snippet-ci', 'CloudInitConfigured');
      return found?.reason === 'Incomplete' && found;
    }, 'snippet missing reported', 60_000, 300);
    expect(missing.message).toContain(`local:snippets/bootplane-${vmid}-user-data.yaml`);
    expect(pveConfig(vmid).cicustom).toBeUndefined();

    // The admin copies the snippet; the next pass (every 30 s while incomplete; a spec change here for speed) sets cicustom.
    sim.cluster.addSnippet(`local:snippets/bootplane-${vmid}-user-data.yaml`, USER_DATA);
    await kubectlOk(['apply', '-f', '-'], vmYaml('snippet-ci', vmid, '    userDataSecretRef: {name: snippet-ci-ud, key: user-data}', '  guestAgent: {enabled: true}\n').replace(`hypervisorRef: {name: ${hv}}`, `hypervisorRef: {name: ${snippetHv}}`));
    await eventually(async () => (await cond('vm/snippet-ci', 'CloudInitConfigured'))?.status === 'True', 'cicustom written', 60_000, 300);
    expect(pveConfig(vmid).cicustom).toBe(`user=local:snippets/bootplane-${vmid}-user-data.yaml`);
    await kubectl(['delete', 'vm', 'snippet-ci', '-n', ns, '--timeout=60s']);
    await kubectl(['delete', 'hv', snippetHv, '--timeout=60s']);
  });

  it('an ISO that needs the drive\'s slot: the content goes with the relocation, one regeneration for both', async () => {
    const vmid = 704;
    sim.cluster.addIso('local:iso/debian-installer.iso');
    sim.cluster.addVm({ vmid, config: { name: 'moved-ci', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' } });
    await secret('moved-ci-pw', 'password', FIRST_PASSWORD);
    const cloudInit = '    user: debian\n    passwordSecretRef: {name: moved-ci-pw, key: password}\n    ipConfigs: [{ip: dhcp}]';
    // In safe mode first, until the plan holds the ISO: then one pass makes the whole change.
    await kubectlOk(['apply', '-f', '-'], vmYaml('moved-ci', vmid, cloudInit, '  safeMode: true\n'));
    await kubectlOk(['apply', '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: moved-ci-installer, namespace: ${ns}}
spec:
  vmRef: {name: moved-ci}
  source: {volume: "local:iso/debian-installer.iso"}
  slot: ide2
`);
    await eventually(async () => {
      const vm = await getJson<{ status?: { plan?: string[] } }>(['get', 'vm', 'moved-ci', '-n', ns]);
      return vm.status?.plan?.some((step) => step.includes('debian-installer.iso')) ?? false;
    }, 'the plan holds the ISO', 60_000, 300);
    expect(writesTo(vmid)).toEqual([]);
    await kubectlOk(['apply', '-f', '-'], vmYaml('moved-ci', vmid, cloudInit));
    await eventually(async () => pveConfig(vmid).ide2 === 'local:iso/debian-installer.iso,media=cdrom' && (await cond('vm/moved-ci', 'CloudInitConfigured'))?.status === 'True', 'ISO on ide2 and cloud-init written', 60_000, 300);
    const config = pveConfig(vmid);
    const drive = Object.entries(config).find(([key, value]) => key !== 'ide2' && /^(ide|sata|scsi)\d+$/.test(key) && String(value).includes('cloudinit'));
    expect(drive).toBeDefined(); // moved off ide2
    expect(config.ciuser).toBe('debian');
    expect(simPasswordMatches(config.cipassword, FIRST_PASSWORD)).toBe(true);
    expect(config.ipconfig0).toBe('ip=dhcp');
    // The passes that follow (the IsoAttachment's, the VM's after it) write nothing more: the
    // password Secret's first read does not queue the VM again ahead of its own status write.
    await eventually(async () => (await getJson<{ status?: { phase?: string } }>(['get', 'isoattachment', 'moved-ci-installer', '-n', ns])).status?.phase === 'Attached', 'IsoAttachment Attached', 60_000, 300);
    // The old drive out, then the new drive, the ISO, the boot order and the ci* keys in one
    // request, and one regeneration for the new drive's image with the new keys.
    expect(writesTo(vmid)).toEqual([`PUT /nodes/pve1/qemu/${vmid}/config`, `PUT /nodes/pve1/qemu/${vmid}/config`, `PUT /nodes/pve1/qemu/${vmid}/cloudinit`]);
    const vm = await getJson<{ status: { cloudInitHash?: string } }>(['get', 'vm', 'moved-ci', '-n', ns]);
    expect(vm.status.cloudInitHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await everything('moved-ci')).not.toContain(FIRST_PASSWORD);
  });

  it('a missing password Secret is reported by name, nothing is written', async () => {
    const vmid = 702;
    sim.cluster.addVm({ vmid, config: { name: 'nopw', ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`, boot: 'order=scsi0' } });
    await kubectlOk(['apply', '-f', '-'], vmYaml('nopw', vmid, '    user: debian\n    passwordSecretRef: {name: nopw-pw, key: password}'));
    const c = await eventually(async () => {
      const found = await cond('vm/nopw', 'CloudInitConfigured');
      return found?.reason === 'SecretMissing' && found;
    }, 'missing Secret reported', 60_000, 300);
    expect(c.message).toContain(`Secret ${ns}/nopw-pw key password`);
    expect(pveConfig(vmid).ciuser).toBeUndefined();
    // Creating it brings the VM back through the Secret watch.
    await secret('nopw-pw', 'password', FIRST_PASSWORD);
    await eventually(async () => simPasswordMatches(pveConfig(vmid).cipassword, FIRST_PASSWORD), 'written once the Secret exists', 60_000, 300);
  });
});
