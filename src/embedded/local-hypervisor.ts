// Finds the embedded default's local hypervisor: the libvirt daemon on this machine when it
// answers, otherwise the Proxmox VE simulator started in this process — the same simulator the
// tests use, labelled as such everywhere it appears.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { LibvirtClient } from '../hypervisors/libvirt/rpc/client.js';
import { PveSimulator } from '../hypervisors/proxmox/simulator/server.js';
import { demoDomainXml, libvirtSite, simulatorSite } from './local-site.js';

export type LocalChoice = 'auto' | 'libvirt' | 'simulator';

export interface LocalHypervisor {
  kind: 'libvirt' | 'simulator';
  /** Manifests for <site>/local-hypervisor.yaml. */
  manifests: string;
  description: string;
  stop(): Promise<void>;
}

const LIBVIRT_URI = 'qemu:///system';
const IPXE_ISO = '/usr/lib/ipxe/ipxe.iso';

export async function prepareLocalHypervisor(choice: LocalChoice, log: Logger): Promise<LocalHypervisor> {
  if (choice !== 'simulator') {
    const libvirt = await tryLibvirt(log);
    if (libvirt) return libvirt;
    if (choice === 'libvirt') throw new Error(`no libvirt daemon answered at ${LIBVIRT_URI}: start libvirtd (hack/libvirt.sh) or use --local-hypervisor simulator`);
  }
  return startSimulator();
}

async function tryLibvirt(log: Logger): Promise<LocalHypervisor | undefined> {
  const client = new LibvirtClient({ uri: LIBVIRT_URI, callTimeoutMs: 3000, reconnectMaxMs: 1000 });
  try {
    const version = await client.libvirtVersion(AbortSignal.timeout(3000));
    for (const name of ['bootplane-demo-installer', 'bootplane-demo-debian']) {
      const exists = await client.lookupDomainByName(name).then(() => true, () => false);
      if (!exists) await client.defineDomain(demoDomainXml(name, { cloudInitSeed: name === 'bootplane-demo-debian' }));
    }
    await client.close();
    return {
      kind: 'libvirt',
      manifests: libvirtSite(LIBVIRT_URI, existsSync(IPXE_ISO) ? IPXE_ISO : '/var/lib/libvirt/images/installer.iso'),
      description: `local libvirt ${version} at ${LIBVIRT_URI} (demo domains bootplane-demo-installer and bootplane-demo-debian)`,
      stop: async () => undefined,
    };
  } catch (err) {
    log.info({ err: (err as Error).message }, 'no local libvirt daemon answered; using the Proxmox VE simulator');
    await client.close().catch(() => undefined);
    return undefined;
  }
}

async function startSimulator(): Promise<LocalHypervisor> {
  const sim = new PveSimulator({ nodes: ['pve1'] });
  const tokenId = 'root@pam!bootplane';
  const tokenSecret = randomBytes(16).toString('hex');
  sim.auth.addToken(tokenId, tokenSecret);
  sim.cluster.addIso('local:iso/fedora-coreos-live.iso', 780 * 2 ** 20);
  sim.cluster.addIso('local:iso/debian-12-netinst.iso', 630 * 2 ** 20);
  sim.cluster.addVm({ vmid: 9001, config: { name: 'okd-master-0', machine: 'q35', ostype: 'l26', scsi0: 'local-lvm:vm-9001-disk-0,size=120G', ide0: 'local-lvm:vm-9001-disk-1,size=8G', ide2: 'local-lvm:vm-9001-cloudinit,media=cdrom', net0: 'virtio=BC:24:11:00:90:01,bridge=vmbr0', boot: 'order=scsi0;ide0;net0' } });
  sim.cluster.addVm({ vmid: 9002, config: { name: 'debian-web', ostype: 'l26', scsi0: 'local-lvm:vm-9002-disk-0,size=16G', ide2: 'local-lvm:vm-9002-cloudinit,media=cdrom', net0: 'virtio=BC:24:11:00:90:02,bridge=vmbr0', boot: 'order=scsi0' } });
  await sim.start();
  const der = new X509Certificate(sim.certificate.cert).raw;
  const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
  return {
    kind: 'simulator',
    manifests: simulatorSite(sim.endpoint, fingerprint, tokenId, tokenSecret),
    description: `Proxmox VE SIMULATOR (in-process, not a real Proxmox) at ${sim.endpoint}`,
    stop: () => sim.stop(),
  };
}
