// IsoAttachments without a finalizer, on the real control plane with the PVE simulator: the
// VirtualMachine records what it attached (status.attachedIsos) and hands it back itself when an
// IsoAttachment is deleted or the VM is; an IsoAttachment's status is written once per attach;
// and objects still carrying the finalizer older versions added are released.
import { spawn, type ChildProcess } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../src/hypervisors/proxmox/simulator/server.js';
import { condition, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { KUBECONFIG } from './support/paths.js';
import { useProxmoxSite } from './support/proxmox.js';

const LEGACY_FINALIZER = 'bootplane.io/finalizer';
let sim: PveSimulator;
let ns: string;
let hv: string;
let nextVmid = 800;

const held = useProxmoxSite('isorec', (sim) => {
  for (const iso of ['installer.iso', 'tools.iso', 'legacy.iso', 'held.iso']) sim.cluster.addIso(`local:iso/${iso}`);
});
beforeAll(() => {
  ({ sim, ns, hv } = held.site);
});

const apply = (yaml: string) => kubectlOk(['apply', '-f', '-'], yaml);
const pveConfig = (vmid: number) => sim.cluster.vms.get(vmid)!.config;
const holds = (vmid: number, volume: string) => Object.values(pveConfig(vmid)).some((v) => v.startsWith(`${volume},`) && v.includes('media=cdrom'));

function addVm(name: string): number {
  const vmid = nextVmid++;
  sim.cluster.addVm({ vmid, config: { name, ostype: 'l26', scsi0: `local-lvm:vm-${vmid}-disk-0,size=16G`, net0: `virtio=BC:24:11:00:08:${(vmid % 100).toString().padStart(2, '0')},bridge=vmbr0`, boot: 'order=scsi0;net0' } });
  return vmid;
}

const vmYaml = (name: string, vmid: number) => `apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hypervisorRef: {name: ${hv}}
  proxmox: {node: pve1, vmid: ${vmid}}
`;

const isoYaml = (name: string, vm: string, volume: string, finalizers: string[] = []) => `apiVersion: bootplane.io/v1alpha1
kind: IsoAttachment
metadata: {name: ${name}, namespace: ${ns}${finalizers.length ? `, finalizers: [${finalizers.map((f) => JSON.stringify(f)).join(', ')}]` : ''}}
spec:
  vmRef: {name: ${vm}}
  source: {volume: "${volume}"}
`;

const attached = (name: string) => eventually(async () => (await condition(`isoattachment/${name}`, 'Attached', ns))?.status === 'True', `${name} attached`, 60_000, 200);

interface Watched { phases: string[]; stop: () => void }

/** Every change kubectl's watch reports for one IsoAttachment: its phase after each write. */
function watchPhases(name: string): Promise<Watched> {
  const child: ChildProcess = spawn('kubectl', ['get', 'isoattachment', '-n', ns, '--field-selector', `metadata.name=${name}`, '--watch', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.resourceVersion} {.object.status.phase}{"\\n"}'], { env: { ...process.env, KUBECONFIG } });
  const phases: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) phases.push(line.trim());
  });
  // A field selector, not a name: the object does not exist yet.
  return new Promise((resolve) => setTimeout(() => resolve({ phases, stop: () => child.kill() }), 500));
}

describe('IsoAttachments without a finalizer', () => {
  it('writes an attachment\'s status once when it is attached, with no finalizer, and records it on the VM', async () => {
    const vmid = addVm('rec-one');
    await apply(vmYaml('rec-one', vmid));
    await eventually(async () => (await condition('virtualmachine/rec-one', 'MediaConfigured', ns))?.status === 'True', 'VM converged');
    const watch = await watchPhases('rec-inst');
    try {
      await apply(isoYaml('rec-inst', 'rec-one', 'local:iso/installer.iso'));
      await attached('rec-inst');
      await new Promise((r) => setTimeout(r, 1500)); // anything that would follow the attach
      const iso = await getJson<{ metadata: { finalizers?: string[] }; status: { phase: string; slot: string } }>(['get', 'isoattachment', 'rec-inst', '-n', ns]);
      expect(iso.metadata.finalizers ?? []).toEqual([]);
      expect(iso.status.phase).toBe('Attached');
      // ADDED (no status), then exactly one MODIFIED: the status, written Attached at once.
      const modified = watch.phases.filter((l) => l.startsWith('MODIFIED'));
      expect(watch.phases[0]).toMatch(/^ADDED \d+\s*$/);
      expect(modified).toHaveLength(1);
      expect(modified[0]).toMatch(/ Attached$/);
      const vm = await getJson<{ status: { attachedIsos?: { name: string; volume: string; slot: string }[] } }>(['get', 'vm', 'rec-one', '-n', ns]);
      expect(vm.status.attachedIsos).toEqual([{ name: 'rec-inst', volume: 'local:iso/installer.iso', slot: iso.status.slot }]);
      expect(holds(vmid, 'local:iso/installer.iso')).toBe(true);
      // The controller writes as the field manager `bootplane` (its User-Agent), not `unknown`.
      const managed = await getJson<{ metadata: { managedFields: { manager: string; subresource?: string }[] } }>(['get', 'vm', 'rec-one', '-n', ns, '--show-managed-fields']);
      expect(managed.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: 'bootplane', subresource: 'status' }));
    } finally {
      watch.stop();
    }
  });

  it('deleting an IsoAttachment removes the object at once, and the VM takes out the CD-ROM it recorded', async () => {
    const vmid = addVm('rec-del');
    await apply(vmYaml('rec-del', vmid));
    await apply(isoYaml('rec-tools', 'rec-del', 'local:iso/tools.iso'));
    await attached('rec-tools');
    expect(holds(vmid, 'local:iso/tools.iso')).toBe(true);
    const started = Date.now();
    await kubectlOk(['delete', 'isoattachment', 'rec-tools', '-n', ns, '--timeout=10s']);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await kubectl(['get', 'isoattachment', 'rec-tools', '-n', ns])).code).not.toBe(0);
    await eventually(async () => !holds(vmid, 'local:iso/tools.iso'), 'CD-ROM taken out', 30_000, 200);
    expect(pveConfig(vmid).scsi0).toBe(`local-lvm:vm-${vmid}-disk-0,size=16G`);
    expect(pveConfig(vmid).boot).toBe('order=scsi0;net0');
    await eventually(async () => ((await getJson<{ status: { attachedIsos?: unknown[] } }>(['get', 'vm', 'rec-del', '-n', ns])).status.attachedIsos ?? []).length === 0, 'record emptied');
  });

  it('deleting the VM with an ISO attached detaches it before the VM object goes', async () => {
    const vmid = addVm('rec-vm');
    await apply(vmYaml('rec-vm', vmid));
    await apply(isoYaml('rec-vm-inst', 'rec-vm', 'local:iso/installer.iso'));
    await attached('rec-vm-inst');
    const states: { vmExists: boolean; isoHeld: boolean }[] = [];
    await kubectlOk(['delete', 'vm', 'rec-vm', '-n', ns, '--wait=false']);
    await eventually(async () => {
      const vmExists = (await kubectl(['get', 'vm', 'rec-vm', '-n', ns])).code === 0;
      states.push({ vmExists, isoHeld: holds(vmid, 'local:iso/installer.iso') });
      return !vmExists;
    }, 'VM object gone', 60_000, 100);
    expect(holds(vmid, 'local:iso/installer.iso')).toBe(false);
    // Never was the VM object gone while the hypervisor still held the ISO.
    expect(states.filter((s) => !s.vmExists && s.isoHeld)).toEqual([]);
    expect(sim.cluster.vms.has(vmid)).toBe(true); // the VM itself stays on the hypervisor
    await kubectlOk(['delete', 'isoattachment', 'rec-vm-inst', '-n', ns, '--timeout=10s']);
  });

  it('releases the finalizer older versions put on IsoAttachments, live or being deleted', async () => {
    const vmid = addVm('rec-legacy');
    await apply(vmYaml('rec-legacy', vmid));
    // A live object that carries it: released once the VM has its own record of the ISO.
    await apply(isoYaml('rec-old', 'rec-legacy', 'local:iso/legacy.iso', [LEGACY_FINALIZER]));
    await attached('rec-old');
    await eventually(async () => !((await getJson<{ metadata: { finalizers?: string[] } }>(['get', 'isoattachment', 'rec-old', '-n', ns])).metadata.finalizers ?? []).includes(LEGACY_FINALIZER), 'legacy finalizer released', 60_000, 200);
    await kubectlOk(['delete', 'isoattachment', 'rec-old', '-n', ns, '--timeout=10s']);
    await eventually(async () => !holds(vmid, 'local:iso/legacy.iso'), 'legacy ISO taken out', 30_000, 200);

    // An object being deleted while it carries it (another finalizer keeps the object readable
    // here): released once the VM no longer shows the ISO.
    await apply(isoYaml('rec-held', 'rec-legacy', 'local:iso/held.iso', [LEGACY_FINALIZER, 'test.bootplane.io/hold']));
    await attached('rec-held');
    await kubectlOk(['delete', 'isoattachment', 'rec-held', '-n', ns, '--wait=false']);
    await eventually(async () => !holds(vmid, 'local:iso/held.iso'), 'held ISO taken out', 30_000, 200);
    await eventually(async () => !((await getJson<{ metadata: { finalizers?: string[] } }>(['get', 'isoattachment', 'rec-held', '-n', ns])).metadata.finalizers ?? []).includes(LEGACY_FINALIZER), 'legacy finalizer released on deletion', 30_000, 200);
    await kubectlOk(['patch', 'isoattachment', 'rec-held', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(async () => (await kubectl(['get', 'isoattachment', 'rec-held', '-n', ns])).code !== 0, 'held object gone');
  });
});
