// iPXE script builders: pure functions from a BootProfile, its parameters and the machine's
// firmware to the script text. Every value a person supplied passes through renderTemplate, so
// nothing here can be steered into running another command.
import type { BootProfileSpec } from '../api/v1alpha1/boot-profile.js';
import type { Firmware } from './identity.js';
import { renderTemplate, TemplateError, unsafeCmdlineReason } from './template.js';
import { byCodeUnits } from '../order.js';

export interface ProfileIdentity {
  namespace: string;
  name: string;
}

export interface ScriptTarget {
  /** Where machines reach this server, for example http://192.0.2.1:8082 (no trailing slash). */
  serverUrl: string;
  firmware: Firmware;
}

type BootAssetSpec = NonNullable<BootProfileSpec['kernel']>['kernel'];

/** The file name a machine sees for an asset: its name, or the last segment of its url or path. */
export function assetFileName(asset: BootAssetSpec): string {
  if (asset.name) return asset.name;
  const source = asset.url ? new URL(asset.url).pathname : (asset.path ?? '');
  const last = source.split('/').filter(Boolean).pop() ?? '';
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(last) ? last : 'asset';
}

export function assetUrl(target: ScriptTarget, profile: ProfileIdentity, file: string): string {
  return `${target.serverUrl}/boot/assets/${profile.namespace}/${profile.name}/${file}`;
}

export function profileScriptUrl(serverUrl: string, profile: ProfileIdentity): string {
  return `${serverUrl}/boot/${profile.namespace}/${profile.name}.ipxe`;
}

const FAILED = [
  ':failed',
  'echo bootplane: boot failed, the firmware continues with its next boot device in 10 seconds',
  'sleep 10',
  'exit 1',
];

/** The profile's boot script for one machine. Throws TemplateError naming a bad parameter. */
export function buildProfileScript(
  profile: ProfileIdentity & { spec: BootProfileSpec },
  parameters: Readonly<Record<string, string>>,
  target: ScriptTarget,
  header: string,
): string {
  const spec = profile.spec;
  const lines = ['#!ipxe', `# ${header}`];
  switch (spec.type) {
    case 'kernel': {
      const kernel = spec.kernel!;
      const unsafe = unsafeCmdlineReason(kernel.cmdline ?? '');
      if (unsafe) {
        throw new TemplateError('UnsafeParameterValue', 'cmdline', `spec.kernel.cmdline contains ${unsafe}; a command line must be one line without iPXE separators`);
      }
      const cmdline = renderTemplate(kernel.cmdline ?? '', parameters);
      const initrds = (kernel.initrds ?? []).map(assetFileName);
      const kernelName = assetFileName(kernel.kernel);
      // An EFI stub kernel finds its initrds only through initrd= arguments naming the images
      // iPXE registered; BIOS kernels get them from the boot protocol.
      const args = [...(target.firmware === 'uefi' ? initrds.map((i) => `initrd=${i}`) : []), cmdline].filter(Boolean).join(' ');
      lines.push(`kernel --name ${kernelName} ${assetUrl(target, profile, kernelName)}${args ? ` ${args}` : ''} || goto failed`);
      for (const initrd of initrds) lines.push(`initrd --name ${initrd} ${assetUrl(target, profile, initrd)} || goto failed`);
      lines.push('boot || goto failed');
      break;
    }
    case 'ipxeTemplate': {
      const body = renderTemplate(spec.ipxeTemplate ?? '', parameters).replace(/^#!ipxe[^\n]*\n/, '').trimEnd();
      lines.push(body);
      lines.push('goto failed');
      break;
    }
    case 'httpIso': {
      const image = assetFileName(spec.httpIso!.image);
      // iPXE registers the ISO as a SAN drive and boots its El Torito image (both firmwares).
      lines.push(`sanboot --no-describe ${assetUrl(target, profile, image)} || goto failed`);
      break;
    }
    case 'iscsiSanboot': {
      const iscsi = spec.iscsiSanboot!;
      const initiator = renderTemplate(iscsi.initiatorIQNTemplate ?? 'iqn.2024-01.io.bootplane:{{mac}}', parameters);
      if (!/^iqn\.[0-9]{4}-[0-9]{2}\.[A-Za-z0-9.:-]+$/.test(initiator)) {
        throw new TemplateError('UnsafeParameterValue', 'initiatorIQNTemplate', `the initiator IQN rendered from spec.iscsiSanboot.initiatorIQNTemplate is not a valid IQN`);
      }
      const { host, port } = splitPortal(iscsi.portal);
      lines.push(`set initiator-iqn ${initiator}`);
      // iscsi:<server>:<protocol>:<port>:<LUN>:<target>; an empty LUN would open LUN 0, tgt's controller.
      lines.push(`sanboot iscsi:${host}::${port}:${iscsi.lun ?? 1}:${iscsi.targetIQN} || goto failed`);
      break;
    }
  }
  lines.push(...FAILED);
  return `${lines.join('\n')}\n`;
}

function splitPortal(portal: string): { host: string; port: string } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::([0-9]{1,5}))?$/.exec(portal);
  if (!m) return { host: portal, port: '' };
  return { host: m[1]!, port: m[2] && m[2] !== '3260' ? m[2] : '' };
}

/** The first hop: asks iPXE for the machine's identity and chains to its own script. */
export function buildChainScript(serverUrl: string): string {
  return [
    '#!ipxe',
    '# bootplane: identify this machine, then fetch its own script',
    `chain --autofree ${serverUrl}/ipxe?mac=\${net0/mac}&uuid=\${uuid}&arch=\${buildarch}&platform=\${platform} || goto failed`,
    // The machine's script returned without booting (local boot): leave iPXE so the firmware goes on.
    'exit',
    ...FAILED,
  ].join('\n') + '\n';
}

export type LocalBoot = BootProfileSpec['localBoot'];

/** What a boot-once machine gets after its one boot; undefined means answer HTTP 404. */
export function buildLocalBootScript(mode: LocalBoot, firmware: Firmware, header: string): string | undefined {
  if (mode === 'notFound') return undefined;
  const lines = ['#!ipxe', `# ${header}`];
  if (mode === 'sanbootLocalDisk' && firmware === 'bios') {
    lines.push('echo bootplane: booting the local disk', 'sanboot --no-describe --drive 0x80 || exit 1');
  } else {
    // UEFI has no BIOS drive numbers: leaving iPXE lets the firmware boot its next entry.
    lines.push('echo bootplane: nothing to network-boot; continuing with the next boot device', 'exit');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * For unknown or disabled machines: a menu of public profiles that defaults to local boot after a
 * timeout, so an unattended install can never start without a person choosing it.
 */
export function buildFallbackMenu(serverUrl: string, publicProfiles: readonly ProfileIdentity[], timeoutSeconds = 30): string {
  const sorted = [...publicProfiles].sort((a, b) => byCodeUnits(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  const lines = [
    '#!ipxe',
    '# bootplane: this machine has no assignment',
    ':menu',
    'menu bootplane: no assignment for ${net0/mac}',
    'item --key l local Boot from the local disk (default)',
  ];
  sorted.forEach((p, i) => lines.push(`item p${i} ${p.namespace}/${p.name}`));
  lines.push(
    `choose --default local --timeout ${timeoutSeconds * 1000} target || goto local`,
    'goto ${target}',
  );
  sorted.forEach((p, i) => lines.push(`:p${i}`, `chain --autofree ${profileScriptUrl(serverUrl, p)}?platform=\${platform}&arch=\${buildarch} || goto menu`));
  lines.push(':local', 'echo bootplane: continuing with the next boot device', 'exit');
  return `${lines.join('\n')}\n`;
}
