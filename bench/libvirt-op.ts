// `libvirt-op`: median latency of one domain operation — lookup by name, read the XML, update a
// device (swap the CD-ROM medium in the persistent config) — through our RPC client, against one
// `virsh` invocation doing the same three commands, measured in the same run on the same domain.
// Two figures: over an open connection (how the driver works) and with a fresh connection per
// operation (dial + auth + open + close included), each against virsh.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { DeviceModifyFlags } from '../src/hypervisors/libvirt/rpc/protocol.js';
import { report } from './report.js';

const URI = 'qemu:///system';
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const execFileAsync = promisify(execFile);
const NAME = `bench-libvirt-op-${process.pid}`;
const MEDIA = ['/usr/lib/ipxe/ipxe.iso', '/usr/lib/ipxe/ipxe.lkrn'];
const cdrom = (file: string) => `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${file}'/><target dev='hdc' bus='ide'/><readonly/></disk>`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function ours(client: LibvirtClient, i: number): Promise<void> {
  const dom = await client.lookupDomainByName(NAME);
  const xml = await client.domainXml(dom);
  if (!xml.includes('<name>')) throw new Error('no XML');
  await client.updateDevice(dom, cdrom(MEDIA[i % 2]!), DeviceModifyFlags.CONFIG);
}

async function virsh(files: string[], i: number): Promise<void> {
  const { stdout } = await execFileAsync('virsh', ['-c', URI, `domuuid ${NAME}; dumpxml ${NAME}; update-device ${NAME} ${files[i % 2]} --config`]);
  if (!stdout.includes('<name>')) throw new Error('no XML from virsh');
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-libvirt-'));
  const files = MEDIA.map((m, i) => {
    const f = join(dir, `cdrom-${i}.xml`);
    writeFileSync(f, cdrom(m));
    return f;
  });
  const client = new LibvirtClient({ uri: URI });
  await client.defineDomain(`<domain type='qemu'><name>${NAME}</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${cdrom(MEDIA[0]!)}<memballoon model='none'/></devices></domain>`);
  try {
    const warm: number[] = [];
    const cold: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < 3; i++) { await ours(client, i); await virsh(files, i); } // warm-up
    // Interleaved so drift on the shared machine hits all three alike.
    for (let i = 0; i < ITERATIONS; i++) {
      warm.push(await time(() => ours(client, i)));
      cold.push(await time(async () => {
        const fresh = new LibvirtClient({ uri: URI });
        await ours(fresh, i);
        await fresh.close();
      }));
      peer.push(await time(() => virsh(files, i)));
    }
    const virshMs = median(peer);
    report({ name: 'libvirt-op', unit: 'ms', value: median(warm), peer: 'virsh (one invocation)', peerValue: virshMs, ratio: median(warm) / virshMs, iterations: ITERATIONS, connection: 'open' });
    report({ name: 'libvirt-op-fresh-connection', unit: 'ms', value: median(cold), peer: 'virsh (one invocation)', peerValue: virshMs, ratio: median(cold) / virshMs, iterations: ITERATIONS, connection: 'per operation' });
  } finally {
    await client.undefineDomain(await client.lookupDomainByName(NAME)).catch(() => undefined);
    await client.close();
  }
}

