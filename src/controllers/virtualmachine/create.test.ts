// The create phase against a fake driver: what it asks the driver, what it records in status,
// and which conditions it sets, pass by pass.
import { describe, expect, it } from 'vitest';
import { VirtualMachineSpec, type VirtualMachine, type VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, TaskStatus, VmCreateRequest } from '../../hypervisors/driver.js';
import { DriverError } from '../../hypervisors/driver.js';
import { silentLogger } from '../../observability/logger.js';
import type { ObservedVm } from '../../planning/model.js';
import { MemoryStore } from '../../store/memory-store.js';
import { ensureVmCreated, type CreatePass } from './create.js';
import { planDisks, reconcileDisks } from './disks.js';

const UID = '6f1c0a52-0000-4000-8000-000000000001';
const observedVm = (extra: Partial<ObservedVm> = {}): ObservedVm => ({ name: 'web', osHints: {}, machine: { machine: 'pc', arch: 'x86_64', firmware: 'bios' }, devices: [], nics: [], bootOrder: [], power: 'Stopped', ...extra });

class FakeDriver {
  creates: VmCreateRequest[] = [];
  task: TaskStatus = { done: false };
  vm: ObservedVm | undefined;
  createResult: { task?: string } | Error = { task: 'UPID:pve1:00001000:00100000:6630F00D:qmcreate:120:root@pam:' };
  createVm(_ref: unknown, request: VmCreateRequest): Promise<{ task?: string }> {
    this.creates.push(request);
    return this.createResult instanceof Error ? Promise.reject(this.createResult) : Promise.resolve(this.createResult);
  }
  taskStatus(): Promise<TaskStatus> { return Promise.resolve(this.task); }
  readVm(): Promise<ObservedVm | undefined> { return Promise.resolve(this.vm); }
}

function setup(status?: VirtualMachineStatus, source: 'create' | 'clone' | 'adopt' = 'create') {
  const spec = VirtualMachineSpec.parse({ hypervisorRef: { name: 'pve' }, proxmox: { node: 'pve1', vmid: 120 }, source, hardware: { disks: [{ slot: 'scsi0', sizeGiB: 8 }] }, ...(source === 'clone' ? { cloneFrom: { template: '9000' } } : {}) });
  const vm: VirtualMachine = { apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'web', namespace: 'lab', uid: UID, generation: 1 }, spec, ...(status ? { status } : {}) };
  const pass: CreatePass = { vm, updates: [], fields: {} };
  const driver = new FakeDriver();
  const recorded: VirtualMachineStatus['operation'][] = [];
  const inputs = { store: new MemoryStore(), driver: driver as unknown as HypervisorDriver, spec, ref: { node: 'pve1', vmid: 120 }, where: 'VM 120 on node pve1', safeMode: false, recordOperation: (op: VirtualMachineStatus['operation']) => { recorded.push(op); return Promise.resolve(); } };
  const ctx = { log: silentLogger(), reconcileId: 'r', signal: AbortSignal.timeout(5000) };
  return { pass, driver, inputs, ctx, recorded };
}

describe('ensureVmCreated', () => {
  it('records the create before asking, then records its task and comes back to poll it', async () => {
    const { pass, driver, inputs, ctx, recorded } = setup();
    const outcome = await ensureVmCreated(pass, inputs, undefined, ctx);
    expect(outcome).toEqual({ requeueAfterMs: 2000 });
    expect(recorded[0]).toMatchObject({ kind: 'create' });
    expect(recorded[0]!.task).toBeUndefined(); // written before the driver was called
    expect(recorded[1]!.task).toMatch(/qmcreate/);
    expect(driver.creates).toHaveLength(1);
    expect(driver.creates[0]).toMatchObject({ source: 'create', name: 'web', resume: false });
    expect(driver.creates[0]!.owner).toContain(`bootplane-owner=${UID}`);
    expect(pass.updates.at(-1)).toMatchObject({ type: 'VmFound', status: 'False', reason: 'Creating' });
  });

  it('polls a running task without asking again, and goes on with the VM once it ended OK', async () => {
    const op = { id: 'a', kind: 'create', task: 'UPID:pve1:00001000:00100000:6630F00D:qmcreate:120:root@pam:', startedAt: '2026-01-01T00:00:00Z', steps: [] };
    const running = setup({ operation: op });
    expect(await ensureVmCreated(running.pass, running.inputs, observedVm({ lock: 'create' }), running.ctx)).toEqual({ requeueAfterMs: 2000 });
    expect(running.driver.creates).toHaveLength(0);

    const done = setup({ operation: op });
    done.driver.task = { done: true, ok: true, message: 'OK' };
    done.driver.vm = observedVm({ createdBy: UID });
    const outcome = await ensureVmCreated(done.pass, done.inputs, observedVm({ lock: 'create' }), done.ctx);
    expect(outcome).toEqual({ observed: done.driver.vm });
    expect(done.pass.fields).toHaveProperty('operation', undefined);
    expect(done.driver.creates).toHaveLength(0);
  });

  it('reports a failed task and forgets it, so a later pass starts again', async () => {
    const { pass, driver, inputs, ctx } = setup({ operation: { id: 'a', kind: 'create', task: 'UPID:x', startedAt: '2026-01-01T00:00:00Z', steps: [] } });
    driver.task = { done: true, ok: false, message: "storage 'local-lvm' is full" };
    expect(await ensureVmCreated(pass, inputs, undefined, ctx)).toEqual({ requeueAfterMs: 30_000 });
    expect(pass.updates.at(-1)).toMatchObject({ reason: 'CreateFailed', message: expect.stringContaining('is full') as string });
    expect(pass.fields).toHaveProperty('operation', undefined);
  });

  it('refuses a VM without its marker, and one made for another VirtualMachine, without asking the driver', async () => {
    for (const vm of [observedVm(), observedVm({ createdBy: 'someone-else' })]) {
      const { pass, driver, inputs, ctx } = setup();
      expect(await ensureVmCreated(pass, inputs, vm, ctx)).toEqual({ requeueAfterMs: 300_000 });
      expect(pass.updates.at(-1)).toMatchObject({ type: 'VmFound', status: 'False', reason: 'NameCollision' });
      expect(driver.creates).toHaveLength(0);
    }
  });

  it('waits on a VM still locked for create by someone, and takes its own VM as it is', async () => {
    const locked = setup();
    expect(await ensureVmCreated(locked.pass, locked.inputs, observedVm({ lock: 'clone' }), locked.ctx)).toEqual({ requeueAfterMs: 2000 });
    expect(locked.pass.updates.at(-1)).toMatchObject({ reason: 'Locked' });
    const own = setup();
    const vm = observedVm({ createdBy: UID });
    expect(await ensureVmCreated(own.pass, own.inputs, vm, own.ctx)).toEqual({ observed: vm });
  });

  it('resumes an interrupted create (a record without a task): the driver may reuse what it made', async () => {
    const { pass, driver, inputs, ctx } = setup({ operation: { id: 'a', kind: 'create', startedAt: '2026-01-01T00:00:00Z', steps: [] } });
    driver.createResult = {};
    driver.vm = observedVm({ createdBy: UID });
    expect(await ensureVmCreated(pass, inputs, undefined, ctx)).toEqual({ observed: driver.vm });
    expect(driver.creates[0]!.resume).toBe(true);
  });

  it('keeps the record of a create that failed (a retry resumes it), not of a collision', async () => {
    const failed = setup();
    failed.driver.createResult = new DriverError('LibvirtError', 'define failed');
    await ensureVmCreated(failed.pass, failed.inputs, undefined, failed.ctx);
    expect(failed.pass.updates.at(-1)).toMatchObject({ reason: 'CreateFailed' });
    expect(failed.pass.fields).not.toHaveProperty('operation');
    const clash = setup();
    clash.driver.createResult = new DriverError('VolumeExists', 'volume default/web-virtio0.qcow2 already exists');
    await ensureVmCreated(clash.pass, clash.inputs, undefined, clash.ctx);
    expect(clash.pass.updates.at(-1)).toMatchObject({ reason: 'NameCollision' });
    expect(clash.pass.fields).toHaveProperty('operation', undefined);
  });

  it('adopts only: a missing VM is NotFound and nothing is created', async () => {
    const { pass, driver, inputs, ctx } = setup(undefined, 'adopt');
    await ensureVmCreated(pass, inputs, undefined, ctx);
    expect(pass.updates.at(-1)).toMatchObject({ reason: 'NotFound' });
    expect(driver.creates).toHaveLength(0);
  });

  it('plans but does not create in safe mode', async () => {
    const { pass, driver, inputs, ctx } = setup(undefined, 'clone');
    await ensureVmCreated(pass, { ...inputs, safeMode: true }, undefined, ctx);
    expect(pass.updates.at(-1)).toMatchObject({ reason: 'SafeMode' });
    expect(pass.fields.plan).toEqual(['clone VM 120 on node pve1 from template 9000 (full)']);
    expect(driver.creates).toHaveLength(0);
  });
});

describe('planDisks', () => {
  const GiB = 2 ** 30;
  it('grows, refuses shrinking, reports a missing slot, and leaves an equal size alone', () => {
    const wanted = [{ slot: 'scsi0', sizeGiB: 40, format: 'qcow2' as const }, { slot: 'scsi1', sizeGiB: 8, format: 'qcow2' as const }, { slot: 'scsi2', sizeGiB: 1, format: 'raw' as const }, { slot: 'virtio0', sizeGiB: 4, format: 'raw' as const }];
    const observed = [{ slot: 'scsi0', capacityBytes: 32 * GiB, allocationBytes: 1 }, { slot: 'scsi1', capacityBytes: 10 * GiB, allocationBytes: 1 }, { slot: 'scsi2', capacityBytes: GiB, allocationBytes: 1 }];
    expect(planDisks(wanted, observed)).toEqual([
      { kind: 'grow', index: 0, slot: 'scsi0', fromBytes: 32 * GiB, toBytes: 40 * GiB },
      { kind: 'shrinkRefused', index: 1, slot: 'scsi1', fromBytes: 10 * GiB, toBytes: 8 * GiB },
      { kind: 'missing', index: 3, slot: 'virtio0' },
    ]);
  });
});

describe('reconcileDisks', () => {
  const failing = { diskInfo: () => Promise.reject(new DriverError('NO_STORAGE_VOL', 'no volume with matching path')) } as unknown as HypervisorDriver;
  it('does not hold Ready back when sizes cannot be read and the spec names no disks', async () => {
    const { pass, inputs, ctx } = setup(undefined, 'adopt');
    const spec = { ...inputs.spec, hardware: undefined };
    expect(await reconcileDisks(pass, inputs.store, failing, inputs.ref, spec, false, ctx)).toBe(false);
    expect(pass.updates).toEqual([]);
  });
  it('reports it when the spec names disks', async () => {
    const { pass, inputs, ctx } = setup();
    expect(await reconcileDisks(pass, inputs.store, failing, inputs.ref, inputs.spec, false, ctx)).toBe(true);
    expect(pass.updates).toEqual([expect.objectContaining({ type: 'DisksConfigured', status: 'Unknown', reason: 'DiskInfoFailed' })]);
  });
});
