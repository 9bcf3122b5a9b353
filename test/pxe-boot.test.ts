// The end-to-end proof: a real qemu VM (SeaBIOS, an e1000 NIC with Debian's iPXE ROM, user-mode
// networking whose DHCP hands out http://10.0.2.2:PORT/boot.ipxe) network-boots from the
// running controller. It fetches the chain script, then its own per-MAC script, downloads the
// profile's kernel through /boot/assets (a URL-backed, checksum-verified asset; the kernel is
// Debian's ipxe.lkrn, a bootable iPXE) and boots it. That second iPXE asks again, and because
// the assignment boots once, it now gets local boot. The assignment's status records the boot.
// Then the Linux test guest boots from the asset directory twice: under SeaBIOS, and under UEFI
// (Debian's OVMF with the e1000's iPXE EFI driver, platform=efi, an EFI-stub kernel).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../src/config/config.js';
import { runController, type RunningController } from '../src/main.js';
import { createWriteStream } from 'node:fs';
import { createLogger } from '../src/observability/logger.js';
import { createNamespace, eventually, getJson, kubectl, kubectlOk } from './support/kube.js';
import { KUBECONFIG, ROOT } from './support/paths.js';
import { freePort } from './support/ports.js';

const KERNEL = '/usr/lib/ipxe/ipxe.lkrn';
// A MAC of its own per run: the boot server's MAC index spans namespaces, and this control plane
// has no namespace controller, so assignments of earlier runs stay behind.
const randomMac = () => `52:54:00:e2:${randomBytes(2).toString('hex').replace(/(..)(..)/, '$1:$2')}`;
const MAC = randomMac();
const GUEST_MAC = randomMac();
const UEFI_MAC = randomMac();
// Debian's ovmf package (hack/apt.sh): the firmware code, read-only, and a template of its
// variable store, copied per run because the firmware writes to it.
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

let controller: RunningController;
let upstream: Server;
let ns: string;
let bootPort: number;
let upstreamPort: number;
let qemu: ChildProcess | undefined;
let guestQemu: ChildProcess | undefined;
let uefiQemu: ChildProcess | undefined;
let guestDir: string;
const work = mkdtempSync(join(tmpdir(), 'pxe-e2e-'));

beforeAll(async () => {
  ns = await createNamespace('pxe');
  bootPort = await freePort();
  // The tiny Linux test guest (Debian kernel + busybox initramfs), built once into a cache.
  guestDir = execFileSync(join(ROOT, 'hack', 'testguest.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!;
  upstreamPort = await freePort();
  // The "release server" the profile's kernel URL points at; the boot server caches from it.
  const kernel = readFileSync(KERNEL);
  upstream = createServer((_req, res) => res.end(kernel)).listen(upstreamPort, '127.0.0.1');
  controller = await runController(parseControllerConfig({
    kubeconfig: KUBECONFIG, leaderElect: false, metricsAddr: ':0', healthAddr: ':0', consoleAddr: ':0',
    bootAddr: `127.0.0.1:${bootPort}`, bootStatusFlushMs: 200, bootAssetCacheDir: join(work, 'assets'), bootAssetDir: guestDir,
  }), createLogger({ level: 'info', destination: createWriteStream(join(work, 'controller.log')) }));
});

afterAll(async () => {
  qemu?.kill('SIGKILL');
  guestQemu?.kill('SIGKILL');
  uefiQemu?.kill('SIGKILL');
  await controller?.stop();
  upstream?.close();
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

describe('PXE boot of a real VM', () => {
  it('boots the assigned kernel from the asset endpoint once, then gets local boot', { timeout: 240_000 }, async () => {
    const sha256 = createHash('sha256').update(readFileSync(KERNEL)).digest('hex');
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: lkrn}
spec:
  type: kernel
  kernel:
    kernel: {url: "http://127.0.0.1:${upstreamPort}/releases/ipxe.lkrn", sha256: "${sha256}"}
    # ipxe.lkrn runs its command line: autoboot makes it DHCP and ask the boot server again.
    cmdline: "autoboot"
  firmware: [bios]
  localBoot: exit
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: vm-1}
spec:
  mac: "${MAC}"
  hostname: vm-1
  profileRef: {name: lkrn}
  bootMode: Once
`);
    await eventually(async () => (await getJson<{ status?: { macAddresses?: string[] } }>(['get', 'nodebootassignment', 'vm-1', '-n', ns])).status?.macAddresses?.[0] === MAC, 'assignment reconciled');

    const serial = join(work, 'serial.log');
    qemu = spawn('qemu-system-x86_64', [
      '-machine', 'pc,graphics=off', '-accel', 'tcg', '-m', '128', '-display', 'none', '-monitor', 'none',
      '-serial', `file:${serial}`, '-no-reboot', '-boot', 'n',
      '-netdev', `user,id=n0,bootfile=http://10.0.2.2:${bootPort}/boot.ipxe`,
      '-device', `e1000,netdev=n0,mac=${MAC}`,
    ], { stdio: 'ignore' });
    const log = () => (existsSync(serial) ? readFileSync(serial, 'utf8') : '');

    // The firmware's own account: chain script, per-MAC script, the kernel from our asset endpoint.
    const download = new RegExp(`/boot/assets/${ns}/lkrn/ipxe\\.lkrn\\.\\.\\.[ 0-9%\\b\\r]*ok`);
    await eventually(async () => download.test(log()), 'kernel downloaded by the VM', 120_000, 500);
    // The booted kernel (a second iPXE) asks again and is sent to local boot: boot once is used.
    await eventually(async () => log().includes('bootplane: nothing to network-boot'), 'second boot answered with local boot', 120_000, 500);
    const text = log();
    expect(text).toContain(`http://10.0.2.2:${bootPort}/boot.ipxe... ok`);
    expect(text).toContain(`http://10.0.2.2:${bootPort}/ipxe... ok`);

    const status = await eventually(async () => {
      const s = (await getJson<{ status?: { bootCount?: number; bootOnceConsumedEpoch?: number; lastBoot?: { clientIP: string; firmware?: string; arch?: string } } }>(['get', 'nodebootassignment', 'vm-1', '-n', ns])).status;
      return s?.bootCount === 1 && s.bootOnceConsumedEpoch === 0 && s;
    }, 'boot recorded in status');
    expect(status.lastBoot).toMatchObject({ clientIP: '127.0.0.1', firmware: 'pcbios' });
  });

  it('boots the Linux test guest: kernel and initrd from the asset directory, over HTTP', { timeout: 300_000 }, async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: testguest}
spec:
  type: kernel
  kernel:
    kernel: {path: vmlinuz}
    initrds: [{path: initrd.img}]
    cmdline: "console=ttyS0 bootplane.node={{hostname}}"
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: guest-1}
spec:
  mac: "${GUEST_MAC}"
  hostname: guest-1
  profileRef: {name: testguest}
`);
    await eventually(async () => (await getJson<{ status?: { macAddresses?: string[] } }>(['get', 'nodebootassignment', 'guest-1', '-n', ns])).status?.macAddresses?.[0] === GUEST_MAC, 'assignment reconciled');
    const serial = join(work, 'guest-serial.log');
    guestQemu = spawn('qemu-system-x86_64', [
      '-machine', 'pc,graphics=off', '-accel', 'tcg', '-m', '512', '-display', 'none', '-monitor', 'none',
      '-serial', `file:${serial}`, '-no-reboot', '-boot', 'n',
      '-netdev', `user,id=n0,bootfile=http://10.0.2.2:${bootPort}/boot.ipxe`,
      '-device', `e1000,netdev=n0,mac=${GUEST_MAC}`,
    ], { stdio: 'ignore' });
    const log = () => (existsSync(serial) ? readFileSync(serial, 'utf8') : '');
    await eventually(async () => log().includes('bootplane-testguest ready'), 'the test guest booted to its ready line', 240_000, 1000);
    const text = log();
    expect(text).toMatch(new RegExp(`/boot/assets/${ns}/testguest/vmlinuz\\.\\.\\.[ 0-9%\\b\\r]*ok`));
    expect(text).toMatch(new RegExp(`/boot/assets/${ns}/testguest/initrd\\.img\\.\\.\\.[ 0-9%\\b\\r]*ok`));
    // The kernel got the rendered command line, parameter included.
    expect(text).toContain('bootplane.node=guest-1');
    await eventually(async () => (await getJson<{ status?: { bootCount?: number } }>(['get', 'nodebootassignment', 'guest-1', '-n', ns])).status?.bootCount === 1, 'boot recorded');
  });

  it('boots the Linux test guest under UEFI: OVMF, the iPXE EFI driver, platform=efi', { timeout: 300_000 }, async () => {
    await kubectlOk(['apply', '-n', ns, '-f', '-'], `apiVersion: bootplane.io/v1alpha1
kind: BootProfile
metadata: {name: testguest-uefi}
spec:
  type: kernel
  kernel:
    kernel: {path: vmlinuz}
    initrds: [{path: initrd.img}]
    cmdline: "console=ttyS0 bootplane.node={{hostname}}"
  firmware: [uefi]
---
apiVersion: bootplane.io/v1alpha1
kind: NodeBootAssignment
metadata: {name: guest-uefi}
spec:
  mac: "${UEFI_MAC}"
  hostname: guest-uefi
  profileRef: {name: testguest-uefi}
`);
    await eventually(async () => (await getJson<{ status?: { macAddresses?: string[] } }>(['get', 'nodebootassignment', 'guest-uefi', '-n', ns])).status?.macAddresses?.[0] === UEFI_MAC, 'assignment reconciled');
    const vars = join(work, 'uefi-vars.fd');
    copyFileSync(OVMF_VARS, vars);
    const serial = join(work, 'uefi-serial.log');
    // q35 with OVMF; qemu gives the e1000 Debian's combined ROM (efi-e1000.rom), whose EFI driver
    // is iPXE: OVMF's network boot entry runs it, and it fetches the DHCP bootfile over HTTP.
    uefiQemu = spawn('qemu-system-x86_64', [
      '-machine', 'q35,graphics=off', '-accel', 'tcg', '-m', '512', '-display', 'none', '-monitor', 'none',
      '-serial', `file:${serial}`, '-no-reboot',
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
      '-netdev', `user,id=n0,bootfile=http://10.0.2.2:${bootPort}/boot.ipxe`,
      '-device', `e1000,netdev=n0,mac=${UEFI_MAC},bootindex=1`,
    ], { stdio: 'ignore' });
    const log = () => (existsSync(serial) ? readFileSync(serial, 'utf8') : '');
    await eventually(async () => log().includes('bootplane-testguest ready'), 'the test guest booted to its ready line under UEFI', 240_000, 1000);
    const text = log();
    // The firmware's account: iPXE is the EFI build, and it fetched the per-machine script and
    // both assets from the running controller.
    expect(text).toContain('Features: DNS HTTP iSCSI NFS TFTP AoE EFI');
    expect(text).toContain(`http://10.0.2.2:${bootPort}/ipxe... ok`);
    expect(text).toMatch(new RegExp(`/boot/assets/${ns}/testguest-uefi/vmlinuz\\.\\.\\.[ 0-9%\\b\\r]*ok`));
    expect(text).toMatch(new RegExp(`/boot/assets/${ns}/testguest-uefi/initrd\\.img\\.\\.\\.[ 0-9%\\b\\r]*ok`));
    // The kernel's account: it was started by EFI firmware through its EFI stub, which found the
    // initrd through the initrd= argument the UEFI script adds.
    expect(text).toMatch(/efi: EFI v[0-9.]+ by EDK II/);
    expect(text).toMatch(/Command line: .*initrd=initrd\.img .*bootplane\.node=guest-uefi/);
    const status = await eventually(async () => {
      const s = (await getJson<{ status?: { bootCount?: number; lastBoot?: { firmware?: string; arch?: string } } }>(['get', 'nodebootassignment', 'guest-uefi', '-n', ns])).status;
      return s?.bootCount === 1 && s;
    }, 'boot recorded');
    expect(status.lastBoot).toMatchObject({ firmware: 'efi', arch: 'x86_64' });
  });
});
