// Helpers for tests against the real libvirtd that hack/libvirt.sh starts: the domain type to
// use (TCG unless KVM was opted into), the test guest's files, and virsh as an independent oracle.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const cache = process.env.BOOTPLANE_CACHE ?? join(homedir(), '.cache', 'bootplane');
export const LIBVIRT_URI = 'qemu:///system';

export function domainType(): 'qemu' | 'kvm' {
  const file = join(cache, 'libvirt', 'domain-type');
  return existsSync(file) && readFileSync(file, 'utf8').trim() === 'kvm' ? 'kvm' : 'qemu';
}

/** Builds the test guest if needed (hack/testguest.sh) and returns its kernel and initramfs. */
export function testGuest(): { kernel: string; initrd: string } {
  const dir = execFileSync(join(ROOT, 'hack', 'testguest.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!;
  return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
}

export function virsh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('virsh', ['-c', LIBVIRT_URI, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export async function virshOk(args: string[]): Promise<string> {
  const r = await virsh(args);
  if (r.code !== 0) throw new Error(`virsh ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Removes a domain whatever its state (test clean-up). */
export async function removeDomain(name: string): Promise<void> {
  await virsh(['destroy', name]);
  await virsh(['undefine', name, '--nvram']);
  await virsh(['undefine', name]);
}

/** A plain shut-off domain (no disks that need files) for XML and device tests. */
export function minimalDomainXml(name: string, extraDevices = ''): string {
  return `<domain type='${domainType()}'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/></disk>${extraDevices}
    <memballoon model='none'/>
  </devices>
</domain>`;
}
