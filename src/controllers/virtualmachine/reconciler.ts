// VirtualMachine reconcile, hypervisor-neutral (it sees only the driver interface and the
// planner): fetch -> finalizer (on deletion the same flow runs with every ISO leaving, and the
// finalizer goes once the plan is empty; the VM itself stays on the hypervisor) -> hypervisor
// connection -> read the VM -> finish an interrupted change -> plan the media (ISOs, cloud-init,
// boot order) -> safe mode or apply (recorded in status.operation first; digest conflict
// re-plans; failure rolls back what took effect; cloud-init content due on the drive goes with
// the change when the driver takes it) -> cloud-init content (written only when its hash
// changes) -> pending changes -> power -> in-guest steps through the guest agent
// (guest-phase.ts) -> status once.
import { randomUUID } from 'node:crypto';
import type { Condition } from '../../api/v1alpha1/common.js';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import { VirtualMachineSpec, type CloudInit, type VirtualMachine, type VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import { redact, type ApplyOutcome, type CloudInitWriteOutcome, type HypervisorDriver, type VmRef } from '../../hypervisors/driver.js';
import type { DriverPool } from '../../hypervisors/pool.js';
import { changedConditions, setCondition, type ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../kube/controller.js';
import { errorMessage, reasonCode } from '../../kube/errors.js';
import { hasFinalizer } from '../../kube/finalizers.js';
import { keyOf, type ObjectKey } from '../../kube/object.js';
import { metaTime } from '../../kube/time.js';
import { cloudInitContent, cloudInitHash, type CloudInitContent, type CloudInitSecretValues } from '../../planning/cloud-init.js';
import { PlanRefused, type ObservedVm, type Plan, type Step } from '../../planning/model.js';
import { planMedia } from '../../planning/plan-media.js';
import { changesOf } from '../../planning/changes.js';
import { describeStep, rollbackSteps } from '../../planning/steps.js';
import type { ResourceStore } from '../../store/store.js';
import { connectToHypervisor, credentialListeners, SecretListeners } from '../hypervisor/connection.js';
import { HYPERVISOR_INDEX } from '../hypervisor/reconciler.js';
import { FORCE_DELETE_ANNOTATION } from '../hypervisor/status.js';
import { vmAsAttachmentsSeeIt } from '../isoattachment/watches.js';
import { AfterInstall } from './after-install.js';
import { decideInstall, installSignals, localBootAfterInstall } from './install.js';
import { Teardown } from './teardown.js';
import { isoRecord, plannedEntries, recordAfter, recordAhead, type AttachedIso } from './iso-record.js';
import { desiredMedia, networkBootActive, observedStatus, readyCondition, relocationNeedingPowerOff, restartRequiredCondition, stepsInEffect, type VerifiedSources } from './status.js';
import { ASSIGNMENT_VM_INDEX } from '../../boot/indexes.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { VM_INDEX } from './watches.js';
import { ensureVmCreated } from './create.js';
import { applyDeferral } from './apply-deferral.js';
import { reconcileDisks } from './disks.js';
import { bootMediaCondition } from './boot-media.js';
import { guestPhaseWanted, runGuestPhase } from './guest-phase.js';
import { isPowerOperation, pollPowerOperation, powerActionOf, POWER_POLL_MS, powerIntent, withTask, type PowerAction } from './power-operation.js';

const RETRY_MS = 30_000;

/** spec.cloudInit resolved: the content due on the drive, or nothing to write (its condition said). */
type ResolvedCloudInit = { content: CloudInitContent; hash: string } | { done: { retry: boolean } };

interface Pass {
  vm: VirtualMachine;
  updates: ConditionUpdate[];
  fields: Partial<VirtualMachineStatus>;
}

export class VirtualMachineReconciler implements Reconciler {
  constructor(
    private readonly store: ResourceStore,
    private readonly drivers: DriverPool,
    private readonly enqueue: (key: string) => void,
    /** Named ISO volumes the IsoAttachment reconciler verified and has not written yet (isoattachment/verified-sources.ts). */
    private readonly verified?: VerifiedSources,
    /** Told when a pass ends without a status change the VM's IsoAttachments read (IsoAttachmentReconciler.vmTurnEnded). */
    private readonly turnEnded?: (vmKey: string) => void,
  ) {
    this.afterInstall = new AfterInstall(store);
    this.teardown = new Teardown(store);
  }

  /** For the VM's own Secrets and ConfigMaps (cloud-init, guest files), by VM. */
  private readonly secretListeners = new SecretListeners((key) => this.enqueue(key));
  /** For Hypervisor credentials, by Hypervisor. */
  private readonly credentialListeners = credentialListeners(
    (hypervisor) => this.store.byIndex<VirtualMachine>('VirtualMachine', HYPERVISOR_INDEX, hypervisor).map(keyOf),
    (key) => this.enqueue(key),
  );
  private readonly afterInstall: AfterInstall;
  private readonly teardown: Teardown;

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const vm = this.store.get<VirtualMachine>('VirtualMachine', `${key.namespace}/${key.name}`);
    if (!vm) return;
    const attachments = this.store.byIndex<IsoAttachment>('IsoAttachment', VM_INDEX, keyOf(vm));

    // What bootplane attached to this VM, by IsoAttachment (iso-record.ts): what it hands back
    // when an IsoAttachment goes (those have no finalizer) or the VM itself does.
    const record = isoRecord(vm, attachments);

    const deleting = vm.metadata.deletionTimestamp !== undefined;
    if (deleting && !hasFinalizer(vm)) return;
    // Nothing bootplane attached, or the escape hatch: nothing to hand back, let it go.
    if (deleting && (record.length === 0 || vm.metadata.annotations?.[FORCE_DELETE_ANNOTATION] === 'true')) {
      await this.store.removeFinalizer('VirtualMachine', vm);
      return;
    }
    if (!deleting && !hasFinalizer(vm)) {
      await this.store.addFinalizer('VirtualMachine', vm);
      return;
    }
    const pass: Pass = { vm, updates: [], fields: {} };
    const spec = VirtualMachineSpec.safeParse(vm.spec);
    if (!spec.success) {
      const message = spec.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      pass.updates.push({ type: 'Ready', status: 'False', reason: 'InvalidSpec', message });
      return this.finish(pass);
    }
    const desiredVm: VirtualMachine = { ...vm, spec: spec.data };

    const connection = await connectToHypervisor(this.store, this.drivers, spec.data.hypervisorRef.name, this.credentialListeners.for(spec.data.hypervisorRef.name));
    if (!connection.ok) {
      if (deleting && ['HypervisorNotFound', 'DriverNotAvailable', 'HypervisorInvalid'].includes(connection.condition.reason)) {
        await this.store.removeFinalizer('VirtualMachine', vm); // nothing left to hand back
        return;
      }
      pass.updates.push(connection.condition);
      return this.finish(pass, RETRY_MS);
    }
    pass.updates.push({ type: 'HypervisorReady', status: 'True', reason: 'Connected', message: `Hypervisor ${spec.data.hypervisorRef.name} is configured.` });
    pass.fields.hypervisor = spec.data.hypervisorRef.name;
    const driver = connection.driver;
    const ref: VmRef = spec.data.proxmox ? { node: spec.data.proxmox.node, vmid: spec.data.proxmox.vmid } : { domainName: spec.data.libvirt?.domainName };
    const where = spec.data.proxmox ? `VM ${spec.data.proxmox.vmid} on node ${spec.data.proxmox.node}` : `domain ${spec.data.libvirt?.domainName}`;
    const safeMode = connection.hypervisor.spec.safeMode || spec.data.safeMode;

    let observed: ObservedVm | undefined;
    try {
      observed = await driver.readVm(ref, ctx.signal);
    } catch (err) {
      pass.updates.push({ type: 'VmFound', status: 'Unknown', reason: reasonCode(err, 'Unreachable'), message: `Could not read ${where}: ${errorMessage(err)}` });
      return this.finish(pass, RETRY_MS);
    }
    if (!observed && deleting) {
      await this.store.removeFinalizer('VirtualMachine', vm);
      return;
    }
    const retiring = deleting ? undefined : await this.teardown.run(pass.vm, spec.data, driver, ref, observed, ctx.signal);
    if (retiring) pass.updates.push(...retiring.updates);
    if (retiring?.retire) return this.finish(pass, retiring.requeueAfterMs);
    if (!observed || spec.data.source !== 'adopt') {
      const recordOperation = async (operation: VirtualMachineStatus['operation']) => { pass.vm = { ...pass.vm, status: await this.writeStatus(pass.vm, [], { operation }) }; };
      const created = await ensureVmCreated(pass, { store: this.store, driver, spec: spec.data, ref, where, safeMode, recordOperation }, observed, ctx);
      if (!('observed' in created)) return this.finish(pass, created.requeueAfterMs);
      observed = created.observed;
    }
    pass.updates.push({ type: 'VmFound', status: 'True', reason: spec.data.source === 'adopt' ? 'Adopted' : 'Created', message: `Managing ${where} (${observed.name || 'unnamed'}).` });

    // A change a previous pass (or another replica) started and did not finish: the plan below
    // is made from the VM as it is now, so it completes whatever is left; the record goes.
    // A power task ending this pass: the power read above may predate it, so no power action is
    // asked for until the next pass reads the VM again.
    let powerSettling = false;
    if (vm.status?.operation && isPowerOperation(vm.status.operation)) {
      const operation = vm.status.operation;
      const action = `${powerActionOf(operation)}${operation.task ? ` (task ${operation.task})` : ''}`;
      const outcome = await pollPowerOperation(operation, driver, ref, observed, ctx.signal);
      if (outcome.running) {
        pass.updates.push({ type: 'PowerConfigured', status: 'Unknown', reason: 'PowerTaskRunning', message: `${action} is running; no other power action is asked for meanwhile.` });
        Object.assign(pass.fields, observedStatus(observed));
        return this.finish(pass, POWER_POLL_MS);
      }
      if (outcome.failure) {
        this.store.recordEvent(vm, 'Warning', 'PowerFailed', 'Power', `${operation.kind} failed: ${outcome.failure}`);
        pass.updates.push({ type: 'PowerConfigured', status: 'False', reason: 'PowerTaskFailed', message: `${action} failed: ${outcome.failure}` });
      } else {
        pass.updates.push({ type: 'PowerConfigured', status: 'True', reason: 'PowerTaskSucceeded', message: `${action} finished.` });
      }
      pass.fields.operation = undefined;
      powerSettling = true;
    } else if (vm.status?.operation && vm.status.operation.kind !== 'create') {
      ctx.log.info({ operation: vm.status.operation.id }, 'resuming an interrupted change from the VM as it is now');
      this.store.recordEvent(vm, 'Normal', 'OperationResumed', 'Plan', `Change ${vm.status.operation.id} was interrupted; planning again from the VM as it is now.`);
      pass.fields.operation = undefined;
    }

    const assignments = this.store.byIndex<NodeBootAssignment>('NodeBootAssignment', ASSIGNMENT_VM_INDEX, keyOf(vm));
    const installing = decideInstall(spec.data.install, vm.status?.install, installSignals(desiredVm, observed, attachments, assignments, new Date()));
    const install = installing?.install;
    pass.fields.install = install;
    if (installing) pass.updates.push(installing.condition);
    const desired = desiredMedia({ ...desiredVm, status: { ...desiredVm.status, install } }, attachments, networkBootActive(assignments) && !localBootAfterInstall(spec.data, install), this.verified);
    let plan: Plan;
    try {
      plan = planMedia(observed, desired);
    } catch (err) {
      if (!(err instanceof PlanRefused)) throw err;
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'PlanRefused', message: err.message });
      Object.assign(pass.fields, observedStatus(observed));
      pass.fields.attachedIsos = recordAfter(record, [], observed);
      pass.updates.push(restartRequiredCondition(observed));
      return this.finish(pass);
    }
    pass.fields.osFamily = plan.osFamily;
    pass.fields.osFamilySource = plan.osFamilySource;
    pass.updates.push(bootMediaCondition(desired, plan));

    const planned = plannedEntries(desired, plan);

    // Drift on a converged VM is found by the informers' resync (--resync-seconds): a timer of
    // our own as well would read every VM twice per interval.
    let requeueAfterMs: number | undefined;
    let mediaInPlace = false;
    // Cloud-init content is written where the plan places a drive, never in safe mode or while
    // deleting; resolved once a pass, before the change when there is one.
    const cloudInitSpec = spec.data.cloudInit && plan.cloudInitSlot && !safeMode && !deleting ? spec.data.cloudInit : undefined;
    let cloudInit: ResolvedCloudInit | undefined;
    if (deleting && plan.steps.length === 0) {
      // Every ISO bootplane attached is out and the boot order restored: let the object go.
      await this.store.removeFinalizer('VirtualMachine', vm);
      return;
    }
    if (plan.steps.length === 0) {
      pass.fields.plan = undefined;
      pass.updates.push({ type: 'MediaConfigured', status: 'True', reason: 'Converged', message: mediaSummary(plan) });
      pass.updates.push({ type: 'SafeMode', status: 'False', reason: safeMode ? 'NothingToDo' : 'Off', message: safeMode ? 'Safe mode: nothing to change.' : 'Changes are applied.' });
      mediaInPlace = true;
    } else if (safeMode) {
      pass.fields.plan = plan.steps.map(describeStep).slice(0, 64);
      pass.updates.push({ type: 'SafeMode', status: 'True', reason: 'PlanNotApplied', message: `Safe mode is on (${connection.hypervisor.spec.safeMode ? 'Hypervisor' : 'VirtualMachine'}): ${plan.steps.length} step(s) planned, none applied; see status.plan.` });
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'SafeMode', message: `Not applied in safe mode: ${plan.steps.map(describeStep).join('; ')}.` });
    } else if (relocationNeedingPowerOff(observed, plan.steps)) {
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'WaitingForPowerOff', message: relocationNeedingPowerOff(observed, plan.steps)! });
      requeueAfterMs = RETRY_MS;
    } else if (spec.data.disruptiveChanges === 'WaitForPowerOff' && observed.power !== 'Stopped') {
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'WaitingForPowerOff', message: `${plan.steps.length} step(s) wait for the VM to be powered off (spec.disruptiveChanges: WaitForPowerOff).` });
      requeueAfterMs = RETRY_MS;
    } else {
      pass.updates.push({ type: 'SafeMode', status: 'False', reason: 'Off', message: 'Changes are applied.' });
      // Content due on the drive the change places goes with it when the driver can take it
      // (Proxmox: one regeneration, not two); what it did not take is written below.
      if (cloudInitSpec && driver.writeCloudInit) cloudInit = await this.resolveCloudInit(pass, cloudInitSpec);
      const due = cloudInit && 'content' in cloudInit ? cloudInit : undefined;
      const applied = await this.apply(pass, driver, ref, observed, plan, attachments, recordAhead(record, planned), ctx, due?.content);
      if (applied === 'replan') return { requeueAfterMs: 0 };
      observed = applied.observed;
      if (applied.cloudInit && due) cloudInit = { done: this.cloudInitWritten(pass, due.hash, applied.cloudInit, ctx) };
      if (applied.failed) requeueAfterMs = applied.retryAfterMs ?? RETRY_MS;
      mediaInPlace = !applied.failed;
      // Handed back: the next pass reads the VM again and, finding nothing left to do, lets the
      // object go. Nothing else would wake it (its own status write does not).
      if (deleting && mediaInPlace) requeueAfterMs = 0;
    }

    // The drive is where the plan wants it: now what it says. Not in safe mode, not while
    // deleting, and not on a failed or waiting pass (the next pass writes it).
    if (cloudInitSpec && mediaInPlace) {
      const retry = await this.writeCloudInit(pass, driver, ref, observed, cloudInitSpec, cloudInit, ctx);
      if (retry) requeueAfterMs = Math.min(requeueAfterMs ?? RETRY_MS, RETRY_MS);
    }

    if (install?.state === 'Installed' && mediaInPlace && !safeMode && !deleting) {
      const after = await this.afterInstall.run(pass.vm, spec.data, assignments, driver, ref, ctx.signal);
      pass.updates.push(...after.updates);
      if (after.snapshots) pass.fields.snapshots = after.snapshots;
      requeueAfterMs = soonest(requeueAfterMs, after.requeueAfterMs);
    }
    requeueAfterMs = soonest(requeueAfterMs, installing?.requeueAfterMs);

    Object.assign(pass.fields, observedStatus(observed));
    // Written with this status (no write of its own): what the VM as read last holds of it.
    pass.fields.attachedIsos = recordAfter(pass.vm.status?.attachedIsos ?? record, planned, observed);
    if (await reconcileDisks(pass, this.store, driver, ref, spec.data, safeMode, ctx)) requeueAfterMs = soonest(requeueAfterMs, RETRY_MS);
    pass.updates.push(restartRequiredCondition(observed));
    let powering = false;
    if (spec.data.disruptiveChanges === 'Restart' && (observed.pending?.length ?? 0) > 0 && observed.power === 'Running' && !safeMode && !powerSettling) {
      powering = await this.power(pass, driver, ref, 'reboot', `apply pending ${observed.pending!.join(', ')}`, ctx);
    }
    if (spec.data.powerState && !safeMode && !powering && !powerSettling) {
      if (spec.data.powerState === 'Running' && observed.power === 'Stopped') powering = await this.power(pass, driver, ref, 'start', 'spec.powerState is Running', ctx);
      if (spec.data.powerState === 'Stopped' && observed.power === 'Running') powering = await this.power(pass, driver, ref, 'shutdown', 'spec.powerState is Stopped', ctx);
    }
    if (powering || powerSettling) requeueAfterMs = soonest(requeueAfterMs, POWER_POLL_MS);
    if (!safeMode && !deleting && guestPhaseWanted(spec.data, vm.status)) {
      const guest = await runGuestPhase({ store: this.store, vm: pass.vm, spec: spec.data, driver, ref, observed, hypervisorType: connection.hypervisor.spec.type, where, onSourceChange: this.secretListeners.for(keyOf(vm)), ctx });
      pass.updates.push(...guest.updates);
      pass.fields.guest = guest.guest;
      requeueAfterMs = soonest(requeueAfterMs, guest.requeueAfterMs);
    }
    return this.finish(pass, requeueAfterMs);
  }

  /**
   * Resolves the Secrets spec.cloudInit names (a rotated one re-queues this VM) into the content
   * the drive should hold: `content` when it differs from status.cloudInitHash, else `done` with
   * the condition said (retry: the pass should be retried soon). Messages name Secrets and keys,
   * never their values.
   */
  private async resolveCloudInit(pass: Pass, spec: CloudInit): Promise<ResolvedCloudInit> {
    const vm = pass.vm;
    const secrets: CloudInitSecretValues = {};
    const wanted = [['password', spec.passwordSecretRef], ['userData', spec.userDataSecretRef], ['networkConfig', spec.networkConfigSecretRef]] as const;
    for (const [field, secretRef] of wanted) {
      if (!secretRef) continue;
      const where = `Secret ${vm.metadata.namespace}/${secretRef.name} key ${secretRef.key}`;
      let value: string | undefined;
      try {
        value = (await this.store.getSecret(vm.metadata.namespace!, secretRef.name, this.secretListeners.for(keyOf(vm))))?.data[secretRef.key];
      } catch (err) {
        pass.updates.push({ type: 'CloudInitConfigured', status: 'False', reason: 'SecretUnreadable', message: `${where} could not be read: ${errorMessage(err)}` });
        return { done: { retry: true } };
      }
      if (value === undefined) {
        // The Secret watch brings the VM back when it appears.
        pass.updates.push({ type: 'CloudInitConfigured', status: 'False', reason: 'SecretMissing', message: `${where} does not exist.` });
        return { done: { retry: false } };
      }
      secrets[field] = value;
    }
    const content = cloudInitContent(spec, secrets);
    const hash = cloudInitHash(content);
    if (hash === vm.status?.cloudInitHash) {
      pass.updates.push({ type: 'CloudInitConfigured', status: 'True', reason: 'UpToDate', message: 'The cloud-init drive holds the current spec.cloudInit content.' });
      return { done: { retry: false } };
    }
    return { content, hash };
  }

  /**
   * Writes the content due on the drive (now in place), unless the change already did
   * (`resolved` done); true when the pass should be retried soon.
   */
  private async writeCloudInit(pass: Pass, driver: HypervisorDriver, ref: VmRef, observed: ObservedVm, spec: CloudInit, resolved: ResolvedCloudInit | undefined, ctx: ReconcileContext): Promise<boolean> {
    if (!driver.writeCloudInit) {
      pass.updates.push({ type: 'CloudInitConfigured', status: 'False', reason: 'NotSupported', message: 'This hypervisor driver cannot write cloud-init content; spec.cloudInit only places the drive.' });
      return false;
    }
    resolved ??= await this.resolveCloudInit(pass, spec);
    if ('done' in resolved) return resolved.done.retry;
    const { content, hash } = resolved;
    try {
      const outcome = await driver.writeCloudInit(ref, observed, content, ctx.signal);
      return this.cloudInitWritten(pass, hash, outcome, ctx).retry;
    } catch (err) {
      pass.updates.push({ type: 'CloudInitConfigured', status: 'False', reason: reasonCode(err, 'WriteFailed'), message: `Writing the cloud-init drive failed: ${redact(errorMessage(err), content.password)}` });
      return true;
    }
  }

  /** What the driver wrote, by itself or with the change: an audit line, status and Events. */
  private cloudInitWritten(pass: Pass, hash: string, outcome: CloudInitWriteOutcome, ctx: ReconcileContext): { retry: boolean } {
    const vm = pass.vm;
    ctx.log.info({ audit: { action: 'cloudInit.write', hash } }, 'audit: cloud-init content written');
    if (outcome.incomplete.length > 0) {
      // Not recorded as written: later passes try again until the missing part is there.
      pass.updates.push({ type: 'CloudInitConfigured', status: 'False', reason: 'Incomplete', message: `Written except: ${outcome.incomplete.join('; ')}.` });
      return { retry: true };
    }
    pass.fields.cloudInitHash = hash;
    // New content is news; the first content of a new drive is part of the VM coming under
    // bootplane's care (its audit line records it), like a condition first seen good.
    if (vm.status?.cloudInitHash) this.store.recordEvent(vm, 'Normal', 'CloudInitWritten', 'CloudInit', 'The cloud-init drive was rewritten from a changed spec.cloudInit or Secret.');
    // The same reason as a pass that finds it current: a reason saying "this pass wrote" flipped
    // on the next pass (a status write and an Event per VM). CloudInitWritten is the change's Event.
    pass.updates.push({ type: 'CloudInitConfigured', status: 'True', reason: 'UpToDate', message: 'The cloud-init drive holds the current spec.cloudInit content.' });
    return { retry: false };
  }

  /** Records the change in status, applies it, and on failure rolls back the steps that took effect. */
  private async apply(pass: Pass, driver: HypervisorDriver, ref: VmRef, observed: ObservedVm, plan: Plan, attachments: IsoAttachment[], attachedIsos: AttachedIso[], ctx: ReconcileContext, cloudInit?: CloudInitContent): Promise<'replan' | { observed: ObservedVm; failed: boolean; retryAfterMs?: number; cloudInit?: CloudInitWriteOutcome }> {
    const operation = {
      id: randomUUID().slice(0, 8), kind: 'media', digest: observed.digest, startedAt: metaTime(),
      steps: plan.steps.map((s) => ({ description: describeStep(s).slice(0, 1024), done: false })),
      undo: rollbackSteps(plan.steps).map((s) => JSON.stringify(s)),
    };
    // Written before the first change, so a crash leaves a record another replica can act on;
    // the ISO record already names what the plan attaches (iso-record.ts: write-ahead).
    // The cache may not show this write yet: later diffs are made against what was written.
    const vm: VirtualMachine = { ...pass.vm, status: await this.writeStatus(pass.vm, [], { operation, attachedIsos }) };
    pass.vm = vm;
    let outcome: ApplyOutcome;
    try {
      outcome = await driver.applyPlan(ref, observed, plan, ctx.signal, cloudInit ? { cloudInit } : undefined);
    } catch (err) {
      if (reasonCode(err) === 'DigestMismatch') {
        ctx.log.info({ err: errorMessage(err) }, 'VM changed since it was read: planning again');
        this.store.recordEvent(vm, 'Normal', 'Replanned', 'Plan', `The VM changed while bootplane was changing it (config digest); planning again. ${errorMessage(err)}`);
        await this.writeStatus(vm, [], { operation: undefined });
        return 'replan';
      }
      const deferred = applyDeferral(err, vm.status?.conditions);
      if (deferred) {
        ctx.log.warn({ err: errorMessage(err), retryAfterMs: deferred.requeueAfterMs }, 'change deferred: VM locked or no answer');
        pass.fields.operation = undefined;
        pass.updates.push(deferred.condition);
        return { observed, failed: true, retryAfterMs: deferred.requeueAfterMs };
      }
      return { observed: await this.rollback(pass, driver, ref, observed, plan, attachments, err, ctx), failed: true };
    }
    this.audit(vm, plan.steps, ctx);
    pass.fields.operation = undefined;
    // The same reason as a pass that finds the VM converged: a reason that said "this pass
    // applied" flipped on the next pass (a status write and an Event per VM at the next resync).
    pass.updates.push({ type: 'MediaConfigured', status: 'True', reason: 'Converged', message: mediaSummary(plan) });
    pass.updates.push({ type: 'Degraded', status: 'False', reason: 'Applied', message: 'The last change was applied.' });
    const after = outcome.observed ?? await driver.readVm(ref, ctx.signal);
    return { observed: after ?? observed, failed: false, ...(outcome.cloudInit ? { cloudInit: outcome.cloudInit } : {}) };
  }

  private async rollback(pass: Pass, driver: HypervisorDriver, ref: VmRef, before: ObservedVm, plan: Plan, attachments: IsoAttachment[], cause: unknown, ctx: ReconcileContext): Promise<ObservedVm> {
    const vm = pass.vm;
    const now = await driver.readVm(ref, ctx.signal).catch(() => undefined) ?? before;
    const tookEffect = stepsInEffect(now, plan.steps);
    const cleanup = attachments.every((a) => a.spec.cleanupOnFailure !== false);
    ctx.log.warn({ err: errorMessage(cause), applied: tookEffect.length, steps: plan.steps.length }, 'change failed midway');
    if (tookEffect.length === 0 || !cleanup) {
      const left = tookEffect.map(describeStep);
      pass.fields.operation = undefined;
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'ApplyFailed', message: errorMessage(cause) });
      pass.updates.push(left.length
        ? { type: 'Degraded', status: 'True', reason: 'PartiallyApplied', message: `Applied before the failure and left in place (cleanupOnFailure is false): ${left.join('; ')}.` }
        : { type: 'Degraded', status: 'False', reason: 'NothingApplied', message: 'The failed change left the VM as it was.' });
      this.store.recordEvent(vm, 'Warning', 'ApplyFailed', 'Apply', errorMessage(cause));
      return now;
    }
    const undo: Step[] = rollbackSteps(tookEffect);
    const inverse: Plan = { ...plan, steps: undo };
    try {
      await driver.applyPlan(ref, now, inverse, ctx.signal);
      this.audit(vm, undo, ctx, 'rollback');
      pass.fields.operation = undefined;
      // The condition's transition is the Event (Warning RolledBack); each undone step has its own.
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'RolledBack', message: `${errorMessage(cause)} Rolled back: ${undo.map(describeStep).join('; ')}.` });
      pass.updates.push({ type: 'Degraded', status: 'False', reason: 'RolledBack', message: 'The failed change was rolled back; the VM is as it was.' });
    } catch (err) {
      // What cannot be undone is reported with the manual steps; the record stays in status.
      pass.updates.push({ type: 'MediaConfigured', status: 'False', reason: 'ApplyFailed', message: errorMessage(cause) });
      pass.updates.push({ type: 'Degraded', status: 'True', reason: 'RollbackFailed', message: `Rollback failed (${errorMessage(err)}). To restore the VM by hand: ${undo.map(describeStep).join('; ')}.` });
      this.store.recordEvent(vm, 'Warning', 'RollbackFailed', 'Apply', `Rollback failed: ${errorMessage(err)}`);
    }
    return await driver.readVm(ref, ctx.signal).catch(() => undefined) ?? now;
  }

  /** Sends a power action, recorded in status.operation around the call; true while its task runs. */
  private async power(pass: Pass, driver: HypervisorDriver, ref: VmRef, action: PowerAction, why: string, ctx: ReconcileContext): Promise<boolean> {
    const intent = powerIntent(action, why);
    // Only on the current object: from a cache that has not caught up with this controller's own
    // last write (a power task already recorded), the API server refuses it and nothing is sent.
    pass.vm = { ...pass.vm, status: await this.writeStatus(pass.vm, [], { operation: intent }, { requireCurrent: true }) };
    try {
      const { task } = await driver.power(ref, action, ctx.signal);
      pass.fields.operation = task ? withTask(intent, task) : undefined;
      ctx.log.info({ audit: { action: `power.${action}`, task } }, `power ${action}: ${why}`);
      this.store.recordEvent(pass.vm, 'Normal', `Power${action[0]!.toUpperCase()}${action.slice(1)}`, 'Power', `${action}: ${why}.`);
      return task !== undefined;
    } catch (err) {
      pass.fields.operation = undefined;
      this.store.recordEvent(pass.vm, 'Warning', 'PowerFailed', 'Power', `${action} failed: ${errorMessage(err)}`);
      pass.updates.push({ type: 'PowerConfigured', status: 'False', reason: 'PowerFailed', message: `${action} (${why}) failed: ${errorMessage(err)}` });
      return false;
    }
  }

  /**
   * One audit line per step and one Event per change to the VM's media or boot order (a
   * cloud-init relocation is three steps and one change: see planning/changes.ts).
   */
  private audit(vm: VirtualMachine, steps: readonly Step[], ctx: ReconcileContext, phase: 'apply' | 'rollback' = 'apply'): void {
    for (const step of steps) ctx.log.info({ audit: { phase, ...step } }, `audit: ${describeStep(step)}`);
    for (const change of changesOf(steps)) {
      this.store.recordEvent(vm, 'Normal', phase === 'rollback' ? `RolledBack${change.reason}` : change.reason, phase === 'rollback' ? 'Rollback' : 'Apply', change.note);
    }
  }

  private async finish(pass: Pass, requeueAfterMs?: number): Promise<ReconcileResult | void> {
    const status = await this.writeStatus(pass.vm, pass.updates, pass.fields);
    // The VM has had its turn. IsoAttachments waiting for it learn what came of it from the
    // write, through their watch; when it changed nothing they read, from here.
    if (this.turnEnded && vmAsAttachmentsSeeIt(pass.vm) === vmAsAttachmentsSeeIt({ ...pass.vm, status })) this.turnEnded(keyOf(pass.vm));
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  private async writeStatus(vm: VirtualMachine, updates: ConditionUpdate[], fields: Partial<VirtualMachineStatus>, options?: { requireCurrent?: boolean }): Promise<VirtualMachineStatus> {
    const generation = vm.metadata.generation;
    const before = vm.status?.conditions;
    let conditions: Condition[] = [...(before ?? [])];
    for (const update of updates) conditions = setCondition(conditions, update, generation);
    if (updates.length > 0 && !updates.some((u) => u.type === 'Ready')) conditions = setCondition(conditions, readyCondition(conditions), generation);
    const status: Record<string, unknown> = { ...(vm.status ?? {}), ...fields, observedGeneration: generation, conditions };
    for (const [k, v] of Object.entries(status)) if (v === undefined) delete status[k];
    const wrote = await this.store.writeStatus('VirtualMachine', vm, status, options);
    if (!wrote) return status as VirtualMachineStatus;
    for (const c of changedConditions(before, conditions)) {
      if (c.status === 'Unknown' || c.type === 'Ready' || c.type === 'Degraded' && c.status === 'False') continue;
      const warning = c.type === 'RestartRequired' || c.type === 'SafeMode' ? c.status === 'True' : c.status === 'False';
      // A condition first observed in a good state is not news (and at 10,000 VMs, one Event
      // per condition would be most of the writes the API server sees); changes are.
      if (!warning && !before?.some((b) => b.type === c.type)) continue;
      // Good before and good now (only the reason or message moved): the change itself has its
      // own Event (IsoAttached, BootOrderChanged, ...); this would report it a second time.
      if (!warning && before?.some((b) => b.type === c.type && b.status === c.status)) continue;
      this.store.recordEvent(vm, warning ? 'Warning' : 'Normal', c.reason, c.type, c.message);
    }
    return status as VirtualMachineStatus;
  }
}

function mediaSummary(plan: Plan): string {
  const isos = Object.entries(plan.isoSlots).map(([id, slot]) => `${id} at ${slot}`);
  return [
    isos.length ? `ISOs: ${isos.join(', ')}` : 'No ISOs attached',
    plan.cloudInitSlot ? `cloud-init at ${plan.cloudInitSlot}` : 'no cloud-init drive',
    `boot order ${plan.bootOrder.join(', ') || '(none)'}`,
  ].join('; ') + '.';
}

/** The earlier of two requeue delays; undefined means no timer (the informers' resync finds drift). */
function soonest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
