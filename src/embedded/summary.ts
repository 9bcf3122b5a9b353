// What the embedded default prints once the site has converged (or a minute has passed): what
// happened to each VM, and the URLs to try.
import type { KubeObject } from '../kube/object.js';
import type { DirStore } from '../store/dir-store.js';
import { DEMO_MAC } from './local-site.js';

interface VmStatus {
  power?: string;
  bootOrder?: string[];
  cloudInitSlot?: string;
  devices?: { slot: string; kind: string; volume?: string }[];
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

export function converged(store: DirStore): boolean {
  const objects = [...store.list('VirtualMachine'), ...store.list('IsoAttachment'), ...store.list('NodeBootAssignment')];
  return objects.length > 0 && objects.every((o) => ready(o)?.status === 'True');
}

function ready(o: KubeObject) {
  return (o.status as VmStatus | undefined)?.conditions?.find((c) => c.type === 'Ready');
}

export function summary(store: DirStore, dir: string, bootUrl: string, hypervisor: string): string {
  const lines = ['', '━━ bootplane embedded default ━━', `Hypervisor: ${hypervisor}`, ''];
  for (const vm of store.list('VirtualMachine')) {
    const s = (vm.status ?? {}) as VmStatus;
    const r = ready(vm);
    lines.push(`VM ${vm.metadata.namespace}/${vm.metadata.name}: Ready=${r?.status ?? 'Unknown'}${r && r.status !== 'True' ? ` (${r.reason}: ${r.message})` : ''}`);
    lines.push(`  boot order: ${(s.bootOrder ?? []).join(' → ') || '<none>'}   cloud-init: ${s.cloudInitSlot ?? 'none'}`);
    for (const d of (s.devices ?? []).filter((d) => d.kind === 'cdrom')) lines.push(`  ISO on ${d.slot}: ${d.volume ?? '(empty)'}`);
  }
  for (const iso of store.list('IsoAttachment')) {
    const s = (iso.status ?? {}) as { slot?: string; phase?: string; cloudInitRelocation?: { from: string; to: string } };
    lines.push(`ISO ${iso.metadata.namespace}/${iso.metadata.name}: ${s.phase ?? 'Pending'} on ${s.slot ?? '?'}${s.cloudInitRelocation ? ` (cloud-init moved ${s.cloudInitRelocation.from} → ${s.cloudInitRelocation.to} to make room)` : ''}`);
  }
  for (const vm of store.list('VirtualMachine')) {
    for (const e of store.events('VirtualMachine', vm).slice(-4)) lines.push(`  event ${vm.metadata.name}: ${e.reason} — ${e.note}`);
  }
  lines.push(
    '',
    'Try:',
    `  curl '${bootUrl}/ipxe?mac=${DEMO_MAC}'      # the iPXE script that machine gets`,
    `  curl '${bootUrl}/boot.ipxe'                  # the first hop every iPXE client chains from`,
    `  curl '${bootUrl}/api/v1/boot/network-config?vendor=dnsmasq'`,
    `  npx tsx src/cli/main.ts get --dir ${dir}`,
    `  npx tsx src/cli/main.ts describe vm/debian-web -n demo --dir ${dir}`,
    `Edit the YAML in ${dir}/ and watch it converge; Ctrl-C stops.`,
    '',
  );
  return lines.join('\n');
}
