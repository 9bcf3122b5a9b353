// `bootplane plan libvirt`: what bootplane would do to a libvirt domain, from the XML that
// `virsh dumpxml` prints. Same planner as Proxmox; prints the resulting domain XML (only the
// CD-ROM drives and boot order changed), the steps and the warnings. Reads a file, changes nothing.
import { parseArgs } from 'node:util';
import { BootPreset, CloudInitPlacement, OsFamily } from '../api/v1alpha1/virtual-machine.js';
import { DomainXml } from '../hypervisors/libvirt/domain-xml.js';
import { seedVolumeName } from '../hypervisors/libvirt/nocloud-seed.js';
import { slotOfTarget } from '../hypervisors/libvirt/slots.js';
import type { DesiredMedia, Slot } from '../planning/model.js';
import { planMedia } from '../planning/plan-media.js';
import { parseIsoFlag, PLAN_EXIT, PlanUsageError, type PlanIo } from './plan.js';

export const PLAN_LIBVIRT_USAGE = `bootplane plan libvirt — print what bootplane would change in a libvirt domain

Usage:
  bootplane plan libvirt --domain-xml FILE [flags]

  --domain-xml FILE        the domain as \`virsh dumpxml NAME\` prints it ('-' reads standard input)
  --os FAMILY              ${OsFamily.options.join(', ')}
                           (default: detected from libosinfo metadata, then the domain's name)
  --iso PATH|POOL/VOLUME[@TARGET|@SLOT|@auto][,primary][,PURPOSE]
                           attach an ISO (repeatable); TARGET is a libvirt target such as hdc,
                           SLOT a planner slot such as ide2, sata1 or scsi0
  --eject TARGET|SLOT      take out the ISO at that drive (repeatable)
  --cloud-init keep|auto|ide|sata|scsi
                           cloud-init drive placement (a seed volume POOL/<name>-cidata.iso)
  --boot PRESET|ORDER      ${BootPreset.options.join(', ')}, or slots such as virtio0;ide2;net0
  --network-first          boot from the network first
  --storage POOL           pool of a new cloud-init seed volume (default: default)

Prints {"xml", "steps", "warnings"} as JSON.
Exit codes: 0 planned (possibly nothing to do), 2 bad flags or unreadable XML,
3 the request is refused (the reason is printed on one line).
`;

/** A libvirt target (hdc, vda; sdX when the domain already has it) or a planner slot, as a slot. */
function toSlot(value: string, domain: DomainXml, flag: string): Slot {
  if (/^(ide|sata|scsi|virtio)\d+$/.test(value)) return value;
  const m = /^(hd|sd|vd)[a-z]+$/.exec(value);
  if (!m) throw new PlanUsageError(`${flag} ${value}: use a libvirt target (hdc, vda, sdb) or a slot (ide2, sata1, scsi0)`);
  if (m[1] !== 'sd') return slotOfTarget(value, undefined)!;
  const existing = domain.slotOfTarget(value);
  if (existing) return existing;
  throw new PlanUsageError(`${flag} ${value}: sd targets are SATA or SCSI; name the slot instead (sata${value.charCodeAt(2) - 97} or scsi${value.charCodeAt(2) - 97})`);
}

function bootFlag(value: string): DesiredMedia['bootOrder'] {
  const preset = BootPreset.safeParse(value);
  if (preset.success) return { preset: preset.data };
  const devices = value.split(/[;,\s]+/).filter((d) => d !== '');
  if (devices.length === 0 || devices.some((d) => !/^(ide|sata|scsi|virtio|net)\d+$/.test(d))) {
    throw new PlanUsageError(`--boot ${value}: use a preset (${BootPreset.options.join(', ')}) or slots such as virtio0;ide2;net0`);
  }
  return { devices };
}

export function planLibvirt(args: string[], io: PlanIo): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      'domain-xml': { type: 'string' },
      os: { type: 'string' },
      iso: { type: 'string', multiple: true },
      eject: { type: 'string', multiple: true },
      'cloud-init': { type: 'string' },
      boot: { type: 'string' },
      'network-first': { type: 'boolean' },
      storage: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(PLAN_LIBVIRT_USAGE);
    return PLAN_EXIT.ok;
  }
  if (values['domain-xml'] === undefined) throw new PlanUsageError('--domain-xml is required');
  let domain: DomainXml;
  try {
    domain = DomainXml.parse(io.readFile(values['domain-xml']));
  } catch (err) {
    throw new PlanUsageError(`--domain-xml ${values['domain-xml']}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const observed = domain.observe();

  const desired: DesiredMedia = {
    isos: (values.iso ?? []).map((flag) => {
      const iso = parseIsoFlag(flag);
      return iso.slot === 'auto' ? iso : { ...iso, slot: toSlot(iso.slot, domain, '--iso') };
    }),
  };
  if (values.os !== undefined) {
    const family = OsFamily.safeParse(values.os);
    if (!family.success) throw new PlanUsageError(`--os ${values.os}: use one of ${OsFamily.options.join(', ')}`);
    desired.osFamily = family.data;
  }
  if (values['cloud-init'] !== undefined) {
    const placement = CloudInitPlacement.safeParse(values['cloud-init']);
    if (!placement.success) throw new PlanUsageError(`--cloud-init ${values['cloud-init']}: use one of ${CloudInitPlacement.options.join(', ')}`);
    desired.cloudInit = { placement: placement.data };
  }
  if (values.boot !== undefined) desired.bootOrder = bootFlag(values.boot);
  if (values['network-first']) desired.networkFirst = true;
  for (const value of values.eject ?? []) {
    const slot = toSlot(value, domain, '--eject');
    const device = observed.devices.find((d) => d.slot === slot);
    if (device?.kind !== 'cdrom' || device.volume === undefined) throw new PlanUsageError(`--eject ${value}: the domain has no ISO at ${slot}`);
    (desired.eject ??= []).push({ slot, volume: device.volume });
  }

  const plan = planMedia(observed, desired);
  // A new cloud-init drive holds the seed volume bootplane uploads for this domain.
  const seed = `${values.storage ?? 'default'}/${seedVolumeName(observed.name)}`;
  const devices = plan.devices.map((d) => (d.kind === 'cloudinit' && d.volume === undefined ? { ...d, volume: seed } : d));
  domain.applyPlan({ devices, bootOrder: plan.bootOrder });
  io.stdout(`${JSON.stringify({ xml: domain.toString(), steps: plan.steps, warnings: plan.warnings }, null, 2)}\n`);
  return PLAN_EXIT.ok;
}
