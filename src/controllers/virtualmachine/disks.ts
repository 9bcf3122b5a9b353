// Disks from spec.hardware.disks against what the hypervisor reports: sizes (virtual and
// allocated) into status.devices, a disk whose sizeGiB grew is grown, and a smaller sizeGiB is
// refused by name (shrinking would destroy data). Disks are never added to, detached from or
// deleted on an adopted VM here.
import type { VirtualMachineSpec, VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { DiskInfo, HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileContext } from '../../kube/controller.js';
import { errorMessage } from '../../kube/errors.js';
import type { ResourceStore } from '../../store/store.js';
import type { CreatePass } from './create.js';

const GiB = 2 ** 30;

export type DiskAction =
  | { kind: 'grow'; index: number; slot: string; fromBytes: number; toBytes: number }
  | { kind: 'shrinkRefused'; index: number; slot: string; fromBytes: number; toBytes: number }
  | { kind: 'missing'; index: number; slot: string };

/** Pure: what spec.hardware.disks asks of the disks the hypervisor reports. */
export function planDisks(wanted: NonNullable<NonNullable<VirtualMachineSpec['hardware']>['disks']>, observed: DiskInfo[]): DiskAction[] {
  const actions: DiskAction[] = [];
  for (const [index, disk] of wanted.entries()) {
    const found = observed.find((d) => d.slot === disk.slot);
    if (!found) {
      actions.push({ kind: 'missing', index, slot: disk.slot });
      continue;
    }
    const toBytes = disk.sizeGiB * GiB;
    if (toBytes > found.capacityBytes) actions.push({ kind: 'grow', index, slot: disk.slot, fromBytes: found.capacityBytes, toBytes });
    else if (toBytes < found.capacityBytes) actions.push({ kind: 'shrinkRefused', index, slot: disk.slot, fromBytes: found.capacityBytes, toBytes });
  }
  return actions;
}

/** status.devices with the sizes of the disks filled in. */
export function devicesWithSizes(devices: VirtualMachineStatus['devices'], info: DiskInfo[]): VirtualMachineStatus['devices'] {
  return devices?.map((d) => {
    const disk = d.kind === 'disk' ? info.find((i) => i.slot === d.slot) : undefined;
    return disk ? { ...d, sizeBytes: disk.capacityBytes, allocationBytes: disk.allocationBytes } : d;
  });
}

const size = (bytes: number) => (bytes % GiB === 0 ? `${bytes / GiB} GiB` : `${bytes} bytes`);

/**
 * Reads the disks, grows what spec asks to grow, and reports. Returns true when the pass should
 * come back soon (a read or a grow failed). Runs after observedStatus filled pass.fields.devices.
 */
export async function reconcileDisks(pass: CreatePass, store: ResourceStore, driver: HypervisorDriver, ref: VmRef, spec: VirtualMachineSpec, safeMode: boolean, ctx: ReconcileContext): Promise<boolean> {
  const wanted = spec.hardware?.disks ?? [];
  if (!driver.diskInfo) {
    if (wanted.length) pass.updates.push({ type: 'DisksConfigured', status: 'Unknown', reason: 'NotSupported', message: 'This hypervisor driver cannot read disk sizes.' });
    return false;
  }
  let info: DiskInfo[];
  try {
    info = await driver.diskInfo(ref, ctx.signal);
  } catch (err) {
    // Sizes are only informational when the spec names no disks (an adopted VM whose disk file is
    // gone, say): not a condition that holds Ready back, and no retry.
    if (wanted.length === 0) {
      ctx.log.debug({ err: errorMessage(err) }, 'disk sizes unavailable');
      return false;
    }
    pass.updates.push({ type: 'DisksConfigured', status: 'Unknown', reason: 'DiskInfoFailed', message: `Reading the disks failed: ${errorMessage(err)}` });
    return true;
  }
  const actions = planDisks(wanted, info);
  const problems: ConditionUpdate[] = [];
  let retry = false;
  for (const action of actions) {
    const field = `spec.hardware.disks[${action.index}]`;
    if (action.kind === 'missing') {
      problems.push({ type: 'DisksConfigured', status: 'False', reason: 'DiskMissing', message: `${field} names slot ${action.slot}, which holds no disk on the VM; bootplane creates disks only with the VM and never adds one to an existing VM.` });
    } else if (action.kind === 'shrinkRefused') {
      problems.push({ type: 'DisksConfigured', status: 'False', reason: 'ShrinkRefused', message: `${field}.sizeGiB asks for ${size(action.toBytes)} but disk ${action.slot} is ${size(action.fromBytes)}; shrinking would destroy data and is refused. Set ${field}.sizeGiB back to ${Math.ceil(action.fromBytes / GiB)} or more.` });
    } else if (safeMode) {
      pass.fields.plan = [...(pass.fields.plan ?? []), `grow disk ${action.slot} from ${size(action.fromBytes)} to ${size(action.toBytes)}`].slice(0, 64);
      problems.push({ type: 'DisksConfigured', status: 'False', reason: 'SafeMode', message: `Safe mode: disk ${action.slot} would grow from ${size(action.fromBytes)} to ${size(action.toBytes)}; nothing was changed.` });
    } else if (!driver.growDisk) {
      problems.push({ type: 'DisksConfigured', status: 'False', reason: 'GrowNotSupported', message: `${field}.sizeGiB asks to grow disk ${action.slot} to ${size(action.toBytes)}, but this hypervisor driver cannot resize disks.` });
    } else {
      try {
        await driver.growDisk(ref, action.slot, action.toBytes, ctx.signal);
        ctx.log.info({ audit: { action: 'disk.grow', slot: action.slot, fromBytes: action.fromBytes, toBytes: action.toBytes } }, `audit: grew disk ${action.slot}`);
        store.recordEvent(pass.vm, 'Normal', 'DiskGrown', 'Disks', `Disk ${action.slot} grew from ${size(action.fromBytes)} to ${size(action.toBytes)} (${field}.sizeGiB).`);
      } catch (err) {
        const code = (err as { code?: string }).code;
        problems.push({ type: 'DisksConfigured', status: 'False', reason: code === 'ShrinkRefused' ? 'ShrinkRefused' : 'GrowFailed', message: `Growing disk ${action.slot} (${field}.sizeGiB) failed: ${errorMessage(err)}` });
        retry = true;
      }
    }
  }
  if (actions.some((a) => a.kind === 'grow')) info = await driver.diskInfo(ref, ctx.signal).catch(() => info);
  pass.fields.devices = devicesWithSizes(pass.fields.devices, info);
  if (problems.length) pass.updates.push({ ...problems[0]!, message: problems.map((p) => p.message).join(' ') });
  else if (wanted.length) pass.updates.push({ type: 'DisksConfigured', status: 'True', reason: 'Converged', message: `Disks as spec.hardware.disks asks: ${wanted.map((d) => `${d.slot} ${d.sizeGiB} GiB`).join(', ')}.` });
  return retry;
}
