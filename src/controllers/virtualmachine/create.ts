// Making the VM a VirtualMachine with spec.source create or clone names, before anything else
// is reconciled on it. The create is recorded in status.operation before it starts (so a pass
// that dies midway is finished, not repeated), a hypervisor task (Proxmox UPID) is polled on
// later passes and never awaited, and a VM of that name or vmid that bootplane did not make for
// this object is refused, never adopted or overwritten.
import { randomUUID } from 'node:crypto';
import type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmCreateRequest, VmRef } from '../../hypervisors/driver.js';
import { ownerDescription } from '../../hypervisors/owner.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileContext } from '../../kube/controller.js';
import { errorMessage } from '../../kube/errors.js';
import { metaTime } from '../../kube/time.js';
import type { ObservedVm } from '../../planning/model.js';
import type { ResourceStore } from '../../store/store.js';

const TASK_POLL_MS = 2_000;
const RETRY_MS = 30_000;
const RESYNC_MS = 5 * 60_000;
/** Locks a hypervisor holds while it makes a VM: the VM is not complete yet, and not someone else's either. */
const CREATING_LOCKS = new Set(['create', 'clone']);

export interface CreatePass {
  vm: VirtualMachine;
  updates: ConditionUpdate[];
  fields: Partial<VirtualMachineStatus>;
}

export interface CreateInputs {
  store: ResourceStore;
  driver: HypervisorDriver;
  spec: VirtualMachineSpec;
  ref: VmRef;
  /** How people name the VM in messages: "VM 120 on node pve1", "domain web". */
  where: string;
  safeMode: boolean;
  /** Writes status.operation at once (before the hypervisor is touched) and returns the status written. */
  recordOperation: (operation: VirtualMachineStatus['operation']) => Promise<void>;
}

/** The VM to go on with, or stop this pass (the pass's conditions say why) and come back later. */
export type CreateOutcome = { observed: ObservedVm } | { requeueAfterMs: number };

/**
 * Brings a VM with spec.source create/clone into existence, or confirms that the VM found is the
 * one bootplane made for this object. `observed` is the VM as read this pass (undefined: none).
 */
export async function ensureVmCreated(pass: CreatePass, inputs: CreateInputs, observed: ObservedVm | undefined, ctx: ReconcileContext): Promise<CreateOutcome> {
  const { driver, spec, ref, where } = inputs;
  const vm = pass.vm;
  const uid = vm.metadata.uid ?? '';
  const operation = vm.status?.operation?.kind === 'create' ? vm.status.operation : undefined;

  // A create task started by an earlier pass: poll it, never wait for it here.
  if (operation?.task) {
    let status;
    try {
      status = await driver.taskStatus(ref, operation.task, ctx.signal);
    } catch (err) {
      pass.updates.push({ type: 'VmFound', status: 'Unknown', reason: 'Creating', message: `Could not read the state of create task ${operation.task}: ${errorMessage(err)}` });
      return { requeueAfterMs: RETRY_MS };
    }
    if (!status.done) {
      pass.updates.push({ type: 'VmFound', status: 'False', reason: 'Creating', message: `Creating ${where} (spec.source: ${spec.source}); task ${operation.task} is running.` });
      return { requeueAfterMs: TASK_POLL_MS };
    }
    pass.fields.operation = undefined;
    if (!status.ok) {
      // PVE removes a VM whose create failed; the next pass starts again from nothing.
      pass.updates.push({ type: 'VmFound', status: 'False', reason: 'CreateFailed', message: `Creating ${where} failed: ${status.message ?? 'the task ended with an error'}.` });
      inputs.store.recordEvent(vm, 'Warning', 'CreateFailed', 'Create', `Creating ${where} failed: ${status.message ?? 'task error'}`);
      return { requeueAfterMs: RETRY_MS };
    }
    inputs.store.recordEvent(vm, 'Normal', 'Created', 'Create', `Created ${where} (spec.source: ${spec.source}).`);
    ctx.log.info({ audit: { action: 'vm.create', task: operation.task } }, `audit: created ${where}`);
    observed = await driver.readVm(ref, ctx.signal);
    if (!observed) {
      pass.updates.push({ type: 'VmFound', status: 'False', reason: 'CreateFailed', message: `The create task of ${where} ended OK but the VM is not there.` });
      return { requeueAfterMs: RETRY_MS };
    }
  }

  if (observed) {
    if (observed.createdBy === uid) {
      if (operation && !operation.task) pass.fields.operation = undefined; // an interrupted create that did finish
      return { observed };
    }
    if (observed.lock && CREATING_LOCKS.has(observed.lock) && !observed.createdBy) {
      pass.updates.push({ type: 'VmFound', status: 'False', reason: 'Locked', message: `${where} is being created (lock: ${observed.lock}); waiting to see whose it is.` });
      return { requeueAfterMs: TASK_POLL_MS };
    }
    const whose = observed.createdBy ? 'was created by bootplane for another VirtualMachine' : 'was not created by bootplane';
    pass.updates.push({
      type: 'VmFound', status: 'False', reason: 'NameCollision',
      message: `${where} already exists and ${whose}; spec.source is ${spec.source}, so bootplane refuses to adopt or overwrite it. Choose another ${ref.domainName ? 'spec.libvirt.domainName' : 'spec.proxmox.vmid'}, or set spec.source: adopt to manage the existing VM.`,
    });
    return { requeueAfterMs: RESYNC_MS };
  }

  if (spec.source === 'adopt') {
    pass.updates.push({ type: 'VmFound', status: 'False', reason: 'NotFound', message: `${where} does not exist on Hypervisor ${spec.hypervisorRef.name}; with spec.source: adopt bootplane manages existing VMs only (set spec.source: create or clone to make it).` });
    return { requeueAfterMs: RETRY_MS };
  }
  if (!driver.createVm) {
    pass.updates.push({ type: 'VmFound', status: 'False', reason: 'CreateNotSupported', message: `This hypervisor driver cannot create VMs; ${where} does not exist.` });
    return { requeueAfterMs: RESYNC_MS };
  }
  const what = spec.source === 'clone' ? `clone ${where} from template ${spec.cloneFrom?.template} (${spec.cloneFrom?.full === false ? 'linked' : 'full'})` : `create ${where} from spec.hardware`;
  if (inputs.safeMode) {
    pass.fields.plan = [what];
    pass.updates.push({ type: 'VmFound', status: 'False', reason: 'SafeMode', message: `Safe mode is on: bootplane would ${what}; nothing was changed.` });
    return { requeueAfterMs: RESYNC_MS };
  }

  const request: VmCreateRequest = {
    source: spec.source, name: ref.domainName ?? vm.metadata.name, owner: ownerDescription(vm.metadata.namespace ?? '', vm.metadata.name, uid),
    ...(spec.hardware ? { hardware: spec.hardware } : {}), ...(spec.cloneFrom ? { cloneFrom: spec.cloneFrom } : {}), ...(spec.osFamily ? { osFamily: spec.osFamily } : {}),
    resume: operation !== undefined,
  };
  const record = {
    id: operation?.id ?? randomUUID().slice(0, 8), kind: 'create', startedAt: operation?.startedAt ?? metaTime(),
    steps: [{ description: what.slice(0, 1024), done: false }],
  };
  // Recorded before the hypervisor is touched: a pass that dies after making volumes but before
  // defining the VM leaves this record, and the next pass reuses those volumes instead of
  // refusing them as someone else's or making them twice.
  await inputs.recordOperation(record);
  let task: string | undefined;
  try {
    ({ task } = await driver.createVm(ref, request, ctx.signal));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === 'VmExists' || code === 'VolumeExists' ? 'NameCollision' : 'CreateFailed';
    // A failed create keeps its record: volumes an earlier interrupted pass made are reused by
    // the retry. A collision is not bootplane's to finish: the record goes.
    if (reason === 'NameCollision') pass.fields.operation = undefined;
    pass.updates.push({ type: 'VmFound', status: 'False', reason, message: `Could not ${what}: ${errorMessage(err)}` });
    inputs.store.recordEvent(vm, 'Warning', reason, 'Create', `Could not ${what}: ${errorMessage(err)}`);
    return { requeueAfterMs: reason === 'NameCollision' ? RESYNC_MS : RETRY_MS };
  }
  if (task) {
    await inputs.recordOperation({ ...record, task });
    pass.fields.operation = { ...record, task };
    pass.updates.push({ type: 'VmFound', status: 'False', reason: 'Creating', message: `Creating ${where} (spec.source: ${spec.source}); task ${task} is running.` });
    ctx.log.info({ audit: { action: 'vm.create.start', task } }, `audit: started to ${what}`);
    return { requeueAfterMs: TASK_POLL_MS };
  }
  pass.fields.operation = undefined;
  inputs.store.recordEvent(vm, 'Normal', 'Created', 'Create', `Created ${where} (spec.source: ${spec.source}).`);
  ctx.log.info({ audit: { action: 'vm.create' } }, `audit: ${what}`);
  observed = await driver.readVm(ref, ctx.signal);
  if (!observed) {
    pass.updates.push({ type: 'VmFound', status: 'False', reason: 'CreateFailed', message: `${where} was defined but cannot be read back.` });
    return { requeueAfterMs: RETRY_MS };
  }
  return { observed };
}
