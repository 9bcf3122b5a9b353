// `bootplane plan proxmox`: what bootplane would do to a Proxmox VM, from the JSON that
// `pvesh get /nodes/{node}/qemu/{vmid}/config --output-format json` (or the API) returns.
// Reads a file, prints JSON, changes nothing.
import { parseArgs } from 'node:util';
import { BootPreset, CloudInitPlacement, OsFamily } from '../api/v1alpha1/virtual-machine.js';
import { observedVmFromPveConfig, PveConfigError, readMachineFacts, type PveVmConfig } from '../hypervisors/proxmox/config.js';
import { planToPveWrites, PveWritesError } from '../hypervisors/proxmox/plan-writes.js';
import { DomainXmlError } from '../hypervisors/libvirt/domain-xml.js';
import { SlotError } from '../hypervisors/libvirt/slots.js';
import { PropertyStringError } from '../hypervisors/proxmox/codecs/property-string.js';
import type { DesiredIso, DesiredMedia, IsoPurpose, MachineFacts, ObservedVm } from '../planning/model.js';
import { PlanRefused } from '../planning/model.js';
import { planMedia } from '../planning/plan-media.js';
import { planLibvirt } from './plan-libvirt.js';

export const PLAN_EXIT = { ok: 0, usage: 2, refused: 3 } as const;

export const PLAN_USAGE = `bootplane plan proxmox — print what bootplane would change on a Proxmox VM

Usage:
  bootplane plan proxmox --config FILE [flags]

  --config FILE            JSON of GET /nodes/{node}/qemu/{vmid}/config: the data object or the
                           whole {"data": ...} response ('-' reads standard input)
  --os FAMILY              debian, ubuntu, rhel, fedora, fcos, windows, talos, linux
                           (default: detected from ostype, tags, then the VM's name)
  --machine TYPE           pc, q35 or virt (or a PVE machine type such as pc-q35-8.1)
  --bios seabios|ovmf      firmware (default: the config's)
  --iso VOLUME[@SLOT|@auto][,primary][,PURPOSE]
                           attach an ISO (repeatable); PURPOSE is installer (default),
                           drivers, answer or rescue; primary boots it first
  --eject SLOT             take out the ISO bootplane attached at SLOT (repeatable)
  --cloud-init keep|auto|ide|sata|scsi
                           cloud-init drive placement (creates the drive if there is none)
  --boot PRESET|ORDER      cdrom_hd, hd, cdrom, hd_cdrom, network_hd, or slots such as
                           scsi0;ide2;net0
  --network-first          boot from the network first
  --node NAME --vmid ID    for the request paths (default: {node}, the vmid the disks name)
  --storage NAME           storage for a new cloud-init volume

Prints {"after", "delete", "steps", "warnings"} as JSON.
Exit codes: 0 planned (possibly nothing to do), 2 bad flags or an unreadable config,
3 the request is refused (the reason is printed on one line).
`;

export interface PlanIo {
  readFile(path: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A flag or input the user can fix: one line on stderr, exit code 2. */
export class PlanUsageError extends Error {}
const UsageError = PlanUsageError;

const PURPOSES: readonly IsoPurpose[] = ['installer', 'drivers', 'answer', 'rescue'];

/** `local:iso/x.iso@ide2,primary,drivers` → a DesiredIso. */
export function parseIsoFlag(flag: string): DesiredIso {
  const [target = '', ...modifiers] = flag.split(',');
  const at = target.lastIndexOf('@');
  const volume = at === -1 ? target : target.slice(0, at);
  const slot = at === -1 ? 'auto' : target.slice(at + 1);
  if (volume === '') throw new UsageError(`--iso ${flag}: no volume`);
  if (slot === '') throw new UsageError(`--iso ${flag}: no slot after @`);
  let purpose: IsoPurpose = 'installer';
  let primaryBoot = false;
  for (const m of modifiers) {
    if (m === 'primary') primaryBoot = true;
    else if ((PURPOSES as readonly string[]).includes(m)) purpose = m as IsoPurpose;
    else throw new UsageError(`--iso ${flag}: unknown modifier ${JSON.stringify(m)} (primary, ${PURPOSES.join(', ')})`);
  }
  return { id: volume, volume, slot, purpose, primaryBoot };
}

function readConfig(path: string, io: PlanIo): PveVmConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(io.readFile(path));
  } catch (err) {
    throw new UsageError(`--config ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const object = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const data = object(parsed) && object(parsed.data) ? parsed.data : parsed;
  if (!object(data)) throw new UsageError(`--config ${path}: expected the JSON object of GET /nodes/{node}/qemu/{vmid}/config`);
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string' && typeof value !== 'number' && value !== null) {
      throw new UsageError(`--config ${path}: key ${key} is not a string or number, so this is not a PVE VM config`);
    }
  }
  return data as PveVmConfig;
}

function machineOverride(observed: ObservedVm, machine: string | undefined, bios: string | undefined): MachineFacts {
  const facts = { ...observed.machine };
  if (machine !== undefined) {
    const read = readMachineFacts({ machine, ...(machine.startsWith('virt') ? { arch: 'aarch64' } : {}) });
    facts.machine = read.machine;
    facts.arch = read.arch;
  }
  if (bios !== undefined) {
    if (bios !== 'seabios' && bios !== 'ovmf') throw new UsageError(`--bios ${bios}: use seabios or ovmf`);
    facts.firmware = bios === 'ovmf' ? 'uefi' : 'bios';
  }
  return facts;
}

function bootFlag(value: string): DesiredMedia['bootOrder'] {
  const preset = BootPreset.safeParse(value);
  if (preset.success) return { preset: preset.data };
  const devices = value.replace(/^order=/, '').split(/[;,\s]+/).filter((d) => d !== '');
  if (devices.length === 0 || devices.some((d) => !/^(ide|sata|scsi|virtio|net)\d+$/.test(d))) {
    throw new UsageError(`--boot ${value}: use a preset (${BootPreset.options.join(', ')}) or slots such as scsi0;ide2;net0`);
  }
  return { devices };
}

function plan(args: string[], io: PlanIo): number {
  const [target, ...rest] = args;
  if (target === '--help' || target === '-h' || target === undefined) {
    io.stdout(PLAN_USAGE);
    return target === undefined ? PLAN_EXIT.usage : PLAN_EXIT.ok;
  }
  if (target === 'libvirt') return planLibvirt(rest, io);
  if (target !== 'proxmox') throw new UsageError(`unknown hypervisor ${JSON.stringify(target)}: plan proxmox (from a config) or libvirt (from domain XML)`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      config: { type: 'string' },
      os: { type: 'string' },
      machine: { type: 'string' },
      bios: { type: 'string' },
      iso: { type: 'string', multiple: true },
      eject: { type: 'string', multiple: true },
      'cloud-init': { type: 'string' },
      boot: { type: 'string' },
      'network-first': { type: 'boolean' },
      node: { type: 'string' },
      vmid: { type: 'string' },
      storage: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(PLAN_USAGE);
    return PLAN_EXIT.ok;
  }
  if (values.config === undefined) throw new UsageError('--config is required');
  const config = readConfig(values.config, io);
  const observed = observedVmFromPveConfig(config);
  observed.machine = machineOverride(observed, values.machine, values.bios);

  const desired: DesiredMedia = { isos: (values.iso ?? []).map(parseIsoFlag) };
  if (values.os !== undefined) {
    const family = OsFamily.safeParse(values.os);
    if (!family.success) throw new UsageError(`--os ${values.os}: use one of ${OsFamily.options.join(', ')}`);
    desired.osFamily = family.data;
  }
  if (values['cloud-init'] !== undefined) {
    const placement = CloudInitPlacement.safeParse(values['cloud-init']);
    if (!placement.success) throw new UsageError(`--cloud-init ${values['cloud-init']}: use one of ${CloudInitPlacement.options.join(', ')}`);
    desired.cloudInit = { placement: placement.data };
  }
  if (values.boot !== undefined) desired.bootOrder = bootFlag(values.boot);
  if (values['network-first']) desired.networkFirst = true;
  for (const slot of values.eject ?? []) {
    const device = observed.devices.find((d) => d.slot === slot);
    if (device?.kind !== 'cdrom' || device.volume === undefined) throw new UsageError(`--eject ${slot}: the VM has no ISO at ${slot}`);
    (desired.eject ??= []).push({ slot, volume: device.volume });
  }

  const result = planToPveWrites(planMedia(observed, desired), config, {
    ...(values.node === undefined ? {} : { node: values.node }),
    ...(values.vmid === undefined ? {} : { vmid: values.vmid }),
    ...(values.storage === undefined ? {} : { cloudInitStorage: values.storage }),
  });
  io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  return PLAN_EXIT.ok;
}

/** Runs `bootplane plan ...`; returns the exit code. Errors the user can fix are one line on stderr. */
export function runPlan(args: string[], io: PlanIo): number {
  try {
    return plan(args, io);
  } catch (err) {
    if (err instanceof PlanRefused) {
      io.stderr(`bootplane plan: refused: ${err.message}\n`);
      return PLAN_EXIT.refused;
    }
    if (err instanceof UsageError || err instanceof SlotError || err instanceof DomainXmlError || err instanceof PveConfigError || err instanceof PveWritesError || err instanceof PropertyStringError
      || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`bootplane plan: ${err.message}\n`);
      return PLAN_EXIT.usage;
    }
    throw err;
  }
}
