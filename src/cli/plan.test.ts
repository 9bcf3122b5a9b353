// Golden tests of `bootplane plan proxmox` on realistic PVE configs (src/hypervisors/proxmox/testdata).
// Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and read the diff.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseIsoFlag, PLAN_EXIT, runPlan } from './plan.js';

const configs = fileURLToPath(new URL('../hypervisors/proxmox/testdata/', import.meta.url));
const golden = fileURLToPath(new URL('./testdata/plan/', import.meta.url));

function run(args: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = runPlan(args, {
    readFile: (path) => (path === '-' ? stdin ?? '' : readFileSync(path.startsWith('/') ? path : `${configs}${path}`, 'utf8')),
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
  });
  return { code, stdout, stderr };
}

function expectGolden(name: string, text: string) {
  const file = `${golden}${name}`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const CASES: [name: string, args: string[], exit: number][] = [
  ['debian-cloud-init-to-scsi', ['--config', 'debian-12-cloudinit-ide2.json', '--cloud-init', 'auto', '--node', 'pve1'], PLAN_EXIT.ok],
  ['debian-installer-iso', ['--config', 'debian-12-cloudinit-ide2.json', '--iso', 'local:iso/debian-12.7.0-amd64-netinst.iso', '--node', 'pve1'], PLAN_EXIT.ok],
  ['debian-nothing-to-do', ['--config', 'debian-12-cloudinit-ide2.json', '--cloud-init', 'keep'], PLAN_EXIT.ok],
  ['okd-fcos-iso-relocates-cloud-init', ['--config', 'okd-master-q35-ovmf.json', '--iso', 'nfs-iso:iso/fedora-coreos-40.20240906.3.0-live.x86_64.iso,primary', '--node', 'pve2'], PLAN_EXIT.ok],
  ['okd-eject-answer-iso', ['--config', 'okd-master-q35-ovmf.json', '--eject', 'ide0', '--boot', 'hd'], PLAN_EXIT.ok],
  ['windows-installer-and-drivers', ['--config', 'windows-2022-q35-ovmf.json', '--iso', 'local:iso/SERVER_EVAL_x64FRE_en-us.iso', '--iso', 'local:iso/virtio-win-0.1.262.iso,drivers', '--boot', 'cdrom_hd', '--node', 'pve1'], PLAN_EXIT.ok],
  ['rocky-legacy-boot-to-hd', ['--config', 'rocky-8-legacy-boot.json', '--boot', 'hd', '--eject', 'ide2'], PLAN_EXIT.ok],
  ['rocky-network-first', ['--config', 'rocky-8-legacy-boot.json', '--network-first'], PLAN_EXIT.ok],
  ['ubuntu-arm64-iso-on-sata', ['--config', 'ubuntu-arm64-virt.json', '--iso', 'local:iso/ubuntu-24.04.1-live-server-arm64.iso,rescue,primary'], PLAN_EXIT.ok],
  ['what-if-q35-debian', ['--config', 'debian-12-cloudinit-ide2.json', '--machine', 'q35', '--bios', 'ovmf', '--os', 'rhel', '--cloud-init', 'auto'], PLAN_EXIT.ok],
  ['refused-ide-on-arm64', ['--config', 'ubuntu-arm64-virt.json', '--iso', 'local:iso/x.iso@ide2'], PLAN_EXIT.refused],
  ['refused-q35-ide1', ['--config', 'okd-master-q35-ovmf.json', '--iso', 'local:iso/x.iso@ide1'], PLAN_EXIT.refused],
  ['refused-disk-slot', ['--config', 'windows-2022-q35-ovmf.json', '--iso', 'local:iso/x.iso@scsi0'], PLAN_EXIT.refused],
  ['refused-virtio', ['--config', 'debian-12-cloudinit-ide2.json', '--iso', 'local:iso/x.iso@virtio1'], PLAN_EXIT.refused],
];

describe('bootplane plan proxmox', () => {
  it.each(CASES)('%s', (name, args, exit) => {
    const result = run(['proxmox', ...args]);
    expect(result.code, result.stderr).toBe(exit);
    if (exit === PLAN_EXIT.ok) {
      expect(result.stderr).toBe('');
      expect(() => JSON.parse(result.stdout)).not.toThrow();
      expectGolden(`${name}.json`, result.stdout);
    } else {
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expectGolden(`${name}.txt`, result.stderr);
    }
  });

  it('reads the data object as well as the whole response', () => {
    const whole = readFileSync(`${configs}debian-12-cloudinit-ide2.json`, 'utf8');
    const data = JSON.stringify((JSON.parse(whole) as { data: unknown }).data);
    const args = ['proxmox', '--config', '-', '--cloud-init', 'auto'];
    expect(run(args, data).stdout).toBe(run(args, whole).stdout);
  });

  it.each([
    [['proxmox'], /--config is required/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--os', 'beos'], /--os beos: use one of debian, ubuntu/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--bios', 'uefi'], /--bios uefi: use seabios or ovmf/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--boot', 'floppy'], /--boot floppy: use a preset/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--iso', 'local:iso/a.iso,fast'], /unknown modifier "fast"/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--eject', 'ide3'], /--eject ide3: the VM has no ISO at ide3/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--iso', 'local-lvm:vm-101-disk-0'], /is not a PVE ISO volume/],
    [['proxmox', '--config', 'debian-12-cloudinit-ide2.json', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['proxmox', '--config', '-'], /--config -: Unexpected end of JSON input/],
    [['libvirt', '--config', 'x'], /Unknown option '--config'/],
    [['xen', '--config', 'x'], /plan proxmox \(from a config\) or libvirt/],
  ])('%j is a usage error', (args, message) => {
    const result = run(args as string[], '');
    expect(result.code).toBe(PLAN_EXIT.usage);
    expect(result.stderr).toMatch(message);
  });

  it('names the config key it cannot read', () => {
    const result = run(['proxmox', '--config', '-'], JSON.stringify({ ide2: 'local:iso/a.iso,media=tape' }));
    expect(result.code).toBe(PLAN_EXIT.usage);
    expect(result.stderr).toMatch(/config key ide2: drive .* media must be cdrom or disk/);
  });

  it('parses --iso flags', () => {
    expect(parseIsoFlag('local:iso/a.iso')).toEqual({ id: 'local:iso/a.iso', volume: 'local:iso/a.iso', slot: 'auto', purpose: 'installer', primaryBoot: false });
    expect(parseIsoFlag('local:iso/a.iso@sata1,primary,rescue')).toEqual({ id: 'local:iso/a.iso', volume: 'local:iso/a.iso', slot: 'sata1', purpose: 'rescue', primaryBoot: true });
    expect(parseIsoFlag('local:iso/a.iso@auto,drivers')).toMatchObject({ slot: 'auto', purpose: 'drivers' });
  });

  it('the real command prints the same plan and exits with the documented codes', async () => {
    const cli = fileURLToPath(new URL('./main.ts', import.meta.url));
    const config = `${configs}okd-master-q35-ovmf.json`;
    const ok = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'plan', 'proxmox', '--config', config, '--iso', 'nfs-iso:iso/fedora-coreos-40.20240906.3.0-live.x86_64.iso,primary', '--node', 'pve2']);
    expect(ok.stdout).toBe(readFileSync(`${golden}okd-fcos-iso-relocates-cloud-init.json`, 'utf8'));
    const refused = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'plan', 'proxmox', '--config', config, '--iso', 'local:iso/x.iso@ide1'])
      .then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => err);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toBe(readFileSync(`${golden}refused-q35-ide1.txt`, 'utf8'));
  }, 30_000);
});
