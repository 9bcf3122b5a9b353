// `guest-agent-exec`: median latency of running one program in a real guest through the QEMU
// guest agent and getting its output — `cat /etc/os-release`, what every guest pass starts
// with — through our libvirt driver (guest-exec + guest-exec-status over our RPC client), against
// the same through virsh (one `virsh qemu-agent-command` for guest-exec, then one per
// guest-exec-status until it has exited, as a script would), measured in the same run on the
// same test guest (hack/testguest.sh, booted under libvirt).
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LibvirtGuestAgent } from '../src/hypervisors/libvirt/guest-agent.js';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { report } from './report.js';

const URI = 'qemu:///system';
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 30);
const NAME = `guest-bench-agent-${process.pid}`;
const execFileAsync = promisify(execFile);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function viaVirsh(): Promise<void> {
  const agent = (cmd: unknown) => execFileAsync('virsh', ['-c', URI, 'qemu-agent-command', NAME, JSON.stringify(cmd)]);
  const { stdout } = await agent({ execute: 'guest-exec', arguments: { path: 'cat', arg: ['/etc/os-release'], 'capture-output': true } });
  const pid = (JSON.parse(stdout) as { return: { pid: number } }).return.pid;
  for (;;) {
    const status = JSON.parse((await agent({ execute: 'guest-exec-status', arguments: { pid } })).stdout) as { return: { exited: boolean; 'out-data'?: string } };
    if (status.return.exited) {
      if (!Buffer.from(status.return['out-data'] ?? '', 'base64').toString().includes('PRETTY_NAME')) throw new Error('no os-release from virsh');
      return;
    }
  }
}

export async function run(): Promise<void> {
  const dir = execFileSync(join(import.meta.dirname, '..', 'hack', 'testguest.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!;
  const domainType = (() => { try { return execFileSync('cat', [join(process.env.HOME ?? '/root', '.cache/bootplane/libvirt/domain-type')], { encoding: 'utf8' }).trim(); } catch { return 'qemu'; } })();
  const client = new LibvirtClient({ uri: URI });
  const dom = await client.defineDomain(`<domain type='${domainType === 'kvm' ? 'kvm' : 'qemu'}'><name>${NAME}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${dir}/vmlinuz</kernel><initrd>${dir}/initrd.img</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel><memballoon model='none'/></devices></domain>`);
  const agent = new LibvirtGuestAgent(client, NAME);
  try {
    await client.createDomain(dom);
    const deadline = Date.now() + 180_000;
    for (;;) {
      try { await agent.ping(AbortSignal.timeout(10_000)); break; } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const ours = async () => {
      const r = await agent.exec(['cat', '/etc/os-release'], {}, AbortSignal.timeout(30_000));
      if (!r.stdout.includes('PRETTY_NAME')) throw new Error('no os-release');
    };
    for (let i = 0; i < 3; i++) { await ours(); await viaVirsh(); } // warm-up
    const mine: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) { // interleaved: drift on the shared machine hits both alike
      mine.push(await time(ours));
      peer.push(await time(viaVirsh));
    }
    const virshMs = median(peer);
    report({ name: 'guest-agent-exec', unit: 'ms', value: median(mine), peer: 'virsh qemu-agent-command (exec + status)', peerValue: virshMs, ratio: median(mine) / virshMs, iterations: ITERATIONS, domainType });
  } finally {
    await client.destroyDomain(dom).catch(() => undefined);
    await client.undefineDomain(dom).catch(() => undefined);
    await client.close();
  }
}
