// The end-to-end proof of diskless sessions: a qemu VM (SeaBIOS, an e1000 NIC with Debian's iPXE
// ROM, user networking whose bootfile is our boot server) PXE-boots, is answered with the
// sanboot script of its Active DisklessSession, and boots the session's disk from tgtd on
// loopback: a FAT image with syslinux, the test guest's kernel and initramfs. The guest comes up
// (its ready line on the serial console, and its guest agent answers). Stopping the session
// removes the target and the ephemeral copy.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { runController, type RunningController } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { TgtDriver } from '../src/targets/tgt/driver.js';
import { createNamespace, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { KUBECONFIG, ROOT } from './support/paths.js';
import { freePort } from './support/ports.js';

const MAC = `52:54:00:d1:${randomBytes(2).toString('hex').replace(/(..)(..)/, '$1:$2')}`;
const work = mkdtempSync(join(tmpdir(), 'diskless-boot-'));
let controller: RunningController;
let qemu: ChildProcess | undefined;
let ns: string;
let bootPort: number;
let portal: number;
let driver: TgtDriver;
let golden: string;

beforeAll(async () => {
  ns = await createNamespace('diskless-boot');
  golden = execFileSync(join(ROOT, 'hack', 'diskless-disk.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!;
  bootPort = await freePort();
  portal = await freePort();
  const controlPort = 10_000 + (portal % 10_000);
  driver = new TgtDriver({ controlPort });
  controller = await runController(parseControllerConfig({
    kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0',
    bootAddr: `127.0.0.1:${bootPort}`, bootStatusFlushMs: 200, bootAssetCacheDir: join(work, 'assets'),
    disklessTarget: 'supervise', disklessPortalAddr: `127.0.0.1:${portal}`, disklessControlPort: controlPort,
    disklessDataDir: join(work, 'data'), disklessStopGraceSeconds: 2,
  }), createLogger({ level: 'info', destination: createWriteStream(join(work, 'controller.log')) }));
});

afterAll(async () => {
  qemu?.kill('SIGKILL');
  await controller?.stop();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

/** One guest agent command over the chardev socket: guest-sync first, as the protocol asks. */
async function agent(socketPath: string, command: string): Promise<unknown> {
  const socket = connect(socketPath);
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => { buffer += d; });
  try {
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const id = Math.floor(Math.random() * 1e9);
    socket.write(`${JSON.stringify({ execute: 'guest-sync', arguments: { id } })}\n`);
    await eventually(async () => buffer.includes(String(id)), 'guest-sync', 5000, 50);
    buffer = '';
    socket.write(`${JSON.stringify({ execute: command })}\n`);
    await eventually(async () => buffer.includes('\n'), command, 5000, 50);
    return JSON.parse(buffer.trim().split('\n')[0]!);
  } finally {
    socket.destroy();
  }
}

describe('a VM boots a DisklessSession', () => {
  it('PXE-boots, sanboots its session disk to a running guest, and loses it when the session stops', { timeout: 420_000 }, async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: DisklessSession
metadata: {name: lab-1}
spec:
  machine: {mac: "${MAC}"}
  image: {path: ${golden}}
  mode: ephemeral
  # qemu user networking forwards 10.0.2.2 to the host's loopback, where tgtd listens.
  target: {portal: "10.0.2.2:${portal}"}
`);
    const iqn = `iqn.2024-01.io.bootplane:${ns}.lab-1`;
    const active = await eventually(async () => {
      const s = (await getJson<{ status?: { phase?: string; copyPath?: string } }>(['get', 'disklesssession', 'lab-1', '-n', ns])).status;
      return s?.phase === 'Active' && s;
    }, 'session Active', 120_000, 500);
    expect(existsSync(active.copyPath!)).toBe(true);

    const serial = join(work, 'serial.log');
    const agentSocket = join(work, 'qga.sock');
    qemu = spawn('qemu-system-x86_64', [
      '-machine', 'pc,graphics=off', '-accel', 'tcg', '-m', '512', '-display', 'none', '-monitor', 'none',
      '-serial', `file:${serial}`, '-no-reboot', '-boot', 'n',
      '-netdev', `user,id=n0,bootfile=http://10.0.2.2:${bootPort}/boot.ipxe`,
      '-device', `e1000,netdev=n0,mac=${MAC}`,
      '-device', 'virtio-serial-pci',
      '-chardev', `socket,id=qga,path=${agentSocket},server=on,wait=off`,
      '-device', 'virtserialport,chardev=qga,name=org.qemu.guest_agent.0',
    ], { stdio: 'ignore' });
    const log = () => (existsSync(serial) ? readFileSync(serial, 'utf8').replaceAll('\r', '') : '');

    // The firmware's own account: the sanboot script, the SAN device, syslinux from the session disk.
    await eventually(async () => log().includes('Booting from SAN device 0x80'), 'sanboot of the session disk', 180_000, 500);
    await eventually(async () => log().includes('bootplane-testguest ready'), 'the guest booted from its session disk', 240_000, 1000);
    const text = log();
    expect(text).toContain('Registered SAN device 0x80');
    expect(text).toContain('SYSLINUX');
    expect(text).toContain('bootplane.diskless=1');
    // The guest agent answers.
    expect(await eventually(async () => agent(agentSocket, 'guest-ping').catch(() => undefined), 'guest agent answers', 60_000, 1000)).toEqual({ return: {} });

    // The target saw the machine's initiator, and so does the session's status.
    const connected = await eventually(async () => {
      const s = (await getJson<{ status?: { connections?: { initiator: string; address: string }[] } }>(['get', 'disklesssession', 'lab-1', '-n', ns])).status;
      return s?.connections?.[0];
    }, 'connection in status', 30_000, 1000);
    expect(connected.initiator).toBe(`iqn.2024-01.io.bootplane:${MAC.replaceAll(':', '')}`);

    // Stop: after the (2 s) bound the target goes, and the ephemeral copy with it.
    await kubectlOk(['patch', 'disklesssession', 'lab-1', '-n', ns, '--type=merge', '-p', '{"spec":{"state":"Stopped"}}']);
    await eventually(async () => (await getJson<{ status?: { phase?: string } }>(['get', 'disklesssession', 'lab-1', '-n', ns])).status?.phase === 'Stopped', 'session Stopped', 60_000, 500);
    expect((await driver.list()).has(iqn)).toBe(false);
    expect(existsSync(active.copyPath!)).toBe(false);
    // The machine is back to its normal script (no assignment: the fallback menu).
    expect(await (await fetch(`http://127.0.0.1:${bootPort}/ipxe?mac=${MAC}`)).text()).not.toContain('sanboot');
  });
});
