// IsoAttachment reconcile: fetch -> the finalizer older versions added, released
// (legacy-finalizer.ts) -> deletion: nothing to do (no finalizer: the VM records what it
// attached and takes it out when this object is gone) -> VM and hypervisor -> the source (a
// volume that must exist, or a URL downloaded with download-url and its checksum, the task
// polled on later passes) -> where the VM reports it -> status once. Attaching itself is the
// VirtualMachine reconciler's work: one plan per VM covers all of its media.
//
// One status write per attach. A found volume reaches the VM through VerifiedVolumes (shared in
// this process) and a wake-up, not through a status write; the first status is written when
// the VM shows the ISO ("Attached"), or at once when there is anything else to say — the VM or
// the volume is missing, the VM refused the plan, waits (safe mode, power-off) or failed to
// apply it, a download is under way — or once the VM has had its turn (it is neither queued nor
// being reconciled) without attaching it, and in any case after FIRST_WRITE_WAIT_MS. So an empty
// status means exactly "its VM's turn has not come yet": at 10,000 VMs applied at once, the
// last VMs wait minutes in the queue, and a fixed short bound wrote an 'Attaching' status for
// most of their IsoAttachments.
import type { Condition } from '../../api/v1alpha1/common.js';
import { IsoAttachmentSpec, type IsoAttachment, type IsoAttachmentStatus } from '../../api/v1alpha1/iso-attachment.js';
import type { VirtualMachine } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { DriverPool } from '../../hypervisors/pool.js';
import { setCondition, type ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../kube/controller.js';
import { errorMessage, reasonCode } from '../../kube/errors.js';
import { keyOf, type ObjectKey } from '../../kube/object.js';
import { metaTime } from '../../kube/time.js';
import type { ResourceStore } from '../../store/store.js';
import { connectToHypervisor, credentialListeners } from '../hypervisor/connection.js';
import { HYPERVISOR_INDEX } from '../hypervisor/reconciler.js';
import { VM_INDEX } from '../virtualmachine/watches.js';
import { isEjected } from '../virtualmachine/status.js';
import { hasLegacyFinalizer, releaseLegacyFinalizer } from './legacy-finalizer.js';
import { attachedCondition, attachedSlot, awaitsFirstAttach, downloadFilename, readyCondition } from './status.js';
import { VerifiedVolumes } from './verified-sources.js';

const RETRY_MS = 30_000;
const DOWNLOAD_POLL_MS = 2_000;
/** The most a new IsoAttachment's status stays unwritten while its VM waits for its turn. */
export const FIRST_WRITE_WAIT_MS = 600_000;
export class IsoAttachmentReconciler implements Reconciler {
  constructor(
    private readonly store: ResourceStore,
    private readonly drivers: DriverPool,
    private readonly enqueue: (key: string) => void,
    private readonly enqueueVm: (key: string) => void,
    /** Shared with the VirtualMachine reconciler: named volumes found on storage, not yet written. */
    private readonly verified = new VerifiedVolumes(),
    /** Whether the VM is queued or being reconciled (its turn has not come or is under way). */
    private readonly vmPending: (key: string) => boolean = () => false,
  ) {}

  /** For Hypervisor credentials, by Hypervisor: a rotation re-queues the IsoAttachments of its VMs. */
  private readonly credentialListeners = credentialListeners(
    (hypervisor) => this.store.byIndex<VirtualMachine>('VirtualMachine', HYPERVISOR_INDEX, hypervisor)
      .flatMap((vm) => this.store.byIndex<IsoAttachment>('IsoAttachment', VM_INDEX, keyOf(vm)).map(keyOf)),
    (key) => this.enqueue(key),
  );
  /**
   * New IsoAttachments waiting, unwritten, for their VM to attach them: since when, and whether
   * the VM has had its turn since (vmTurnEnded: they write now).
   */
  private readonly waiting = new Map<string, { since: number; turnCame: boolean }>();

  /**
   * A pass of the VM ended and wrote nothing its IsoAttachments read (isoattachment/watches.ts
   * vmAsAttachmentsSeeIt), so no watch event will wake the ones waiting for its turn, and the
   * cache, whether or not it shows that write yet, already says what they need: they look now.
   * Called from inside the VM's reconcile, so the VM still counts as pending then.
   */
  vmTurnEnded(vmKey: string): void {
    if (this.waiting.size === 0) return;
    for (const iso of this.store.byIndex<IsoAttachment>('IsoAttachment', VM_INDEX, vmKey)) {
      const key = keyOf(iso);
      const entry = this.waiting.get(key);
      if (!entry) continue;
      entry.turnCame = true;
      this.enqueue(key);
    }
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const isoKey = `${key.namespace}/${key.name}`;
    const iso = this.store.get<IsoAttachment>('IsoAttachment', isoKey);
    if (!iso) {
      this.verified.forget(isoKey);
      this.waiting.delete(isoKey);
      return;
    }
    const vmKey = `${iso.metadata.namespace}/${iso.spec.vmRef.name}`;
    const vm = this.store.get<VirtualMachine>('VirtualMachine', vmKey);

    let legacyAgainMs: number | undefined;
    if (hasLegacyFinalizer(iso)) {
      legacyAgainMs = await releaseLegacyFinalizer(this.store, iso, vm, () => this.enqueueVm(vmKey));
      // Released: the metadata change brings this object back (or it is gone).
      if (legacyAgainMs === undefined) return;
      if (iso.metadata.deletionTimestamp) return { requeueAfterMs: legacyAgainMs };
    }
    // Being deleted: the VM's watch saw it; the VM takes out what it recorded for this name.
    if (iso.metadata.deletionTimestamp) return;
    const result = await this.converge(iso, isoKey, vm, vmKey, ctx);
    if (legacyAgainMs === undefined) return result;
    return { requeueAfterMs: Math.min(result?.requeueAfterMs ?? legacyAgainMs, legacyAgainMs) };
  }

  private async converge(iso: IsoAttachment, isoKey: string, vm: VirtualMachine | undefined, vmKey: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const spec = IsoAttachmentSpec.safeParse(iso.spec);
    if (!spec.success) {
      const message = spec.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      return this.write(iso, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }], { phase: 'Failed' });
    }
    const desired: IsoAttachment = { ...iso, spec: spec.data };
    if (!vm) {
      await this.write(iso, [{ type: 'VmFound', status: 'False', reason: 'VirtualMachineNotFound', message: `VirtualMachine ${vmKey} does not exist.` }], { phase: 'Pending' });
      return; // the VM watch brings us back
    }
    const updates: ConditionUpdate[] = [{ type: 'VmFound', status: 'True', reason: 'Found', message: `Attaches to VirtualMachine ${vm.metadata.name}.` }];
    const connection = await connectToHypervisor(this.store, this.drivers, vm.spec.hypervisorRef.name, this.credentialListeners.for(vm.spec.hypervisorRef.name));
    if (!connection.ok) return this.write(iso, [...updates, connection.condition], { phase: 'Pending' }, RETRY_MS);
    updates.push({ type: 'HypervisorReady', status: 'True', reason: 'Connected', message: `Hypervisor ${vm.spec.hypervisorRef.name} is configured.` });
    const ref: VmRef = vm.spec.proxmox ? { node: vm.spec.proxmox.node, vmid: vm.spec.proxmox.vmid } : { domainName: vm.spec.libvirt?.domainName };

    const source = spec.data.source.url
      ? await this.download(desired, connection.driver, ref, ctx)
      : await this.findVolume(desired, connection.driver, ref, ctx);
    updates.push(source.condition);
    if (spec.data.source.volume !== undefined) {
      // What the VM may attach without waiting for this object's status (verified-sources.ts).
      if (source.condition.status !== 'True') this.verified.forget(isoKey);
      else if (this.verified.set(iso, spec.data.source.volume)) this.enqueueVm(vmKey);
    }
    const fields: Partial<IsoAttachmentStatus> = { ...source.fields };
    if (source.condition.status !== 'True') {
      if (!fields.phase) fields.phase = 'Pending';
      return this.write(iso, updates, fields, source.requeueAfterMs);
    }

    const volume = fields.volume ?? iso.status?.volume;
    const slot = attachedSlot(vm, volume);
    const ejected = isEjected(desired, vm);
    const attached = attachedCondition({ ...desired, status: { ...desired.status, volume } }, vm, slot, ejected);
    updates.push(attached.condition);
    fields.phase = attached.phase;
    if (slot) fields.slot = slot;
    if (attached.phase === 'Ejected' && !iso.status?.ejectedAt) fields.ejectedAt = metaTime();
    // Nothing written yet and nothing to say but "the VM is about to attach it": the VM's status
    // write (the ISO in a CD-ROM, or why not) brings this object back through its watch, and this
    // pass writes then, once. A VM that had its turn without attaching it gets this written now.
    // No polling for the turn: the VM reconciler says when a pass of its ends without a status
    // change this object reads (vmTurnEnded). (Looking every 60 s was 25,000 of 48,000
    // IsoAttachment reconciles at 10,000 VMs.) The requeue is only the 10-minute bound.
    if (awaitsFirstAttach(iso, vm, attached)) {
      const entry = this.waiting.get(isoKey) ?? { since: Date.now(), turnCame: false };
      this.waiting.set(isoKey, entry);
      const left = entry.since + FIRST_WRITE_WAIT_MS - Date.now();
      if (left > 0 && !entry.turnCame && this.vmPending(vmKey)) return { requeueAfterMs: left };
    }
    this.waiting.delete(isoKey);
    // A downloaded source is news for the VM: the status write below reaches it through its
    // watch (virtualmachine/watches.ts), once the cache holds the source it plans with.
    return this.write(iso, updates, fields);
  }

  private async findVolume(iso: IsoAttachment, driver: HypervisorDriver, ref: VmRef, ctx: ReconcileContext): Promise<SourceResult> {
    const volume = iso.spec.source.volume!;
    if (!driver.findIso) return { condition: { type: 'SourceReady', status: 'True', reason: 'NotChecked', message: `${volume} is used as given (this driver cannot list ISO volumes).` }, fields: { volume } };
    try {
      const found = await driver.findIso(volume, ref, ctx.signal);
      if (!found) return { condition: { type: 'SourceReady', status: 'False', reason: 'VolumeNotFound', message: `${volume} is not on the hypervisor's storage; upload it or use spec.source.url.` }, fields: {}, requeueAfterMs: RETRY_MS };
      return { condition: { type: 'SourceReady', status: 'True', reason: 'VolumeFound', message: `${volume} exists (${found.sizeBytes ?? '?'} bytes).` }, fields: { volume } };
    } catch (err) {
      return { condition: { type: 'SourceReady', status: 'Unknown', reason: reasonCode(err), message: `Could not check ${volume}: ${errorMessage(err)}` }, fields: {}, requeueAfterMs: RETRY_MS };
    }
  }

  /** Starts the download once, then polls its task on later passes; never waits inside a reconcile. */
  private async download(iso: IsoAttachment, driver: HypervisorDriver, ref: VmRef, ctx: ReconcileContext): Promise<SourceResult> {
    const url = iso.spec.source.url!;
    const checksum = iso.spec.source.checksum!;
    const previous = iso.status?.download;
    const generationDone = iso.status?.observedGeneration === iso.metadata.generation;
    if (previous?.verified && iso.status?.volume && generationDone) {
      return { condition: { type: 'SourceReady', status: 'True', reason: 'Downloaded', message: `Downloaded ${url} to ${iso.status.volume}; checksum verified.` }, fields: {} };
    }
    if (!driver.downloadIso) return { condition: { type: 'SourceReady', status: 'False', reason: 'DownloadNotSupported', message: 'This hypervisor driver cannot download ISOs.' }, fields: { phase: 'Failed' } };
    if (previous?.task && generationDone && !previous.verified) {
      try {
        const task = await driver.taskStatus(ref, previous.task, ctx.signal);
        if (!task.done) return { condition: { type: 'SourceReady', status: 'False', reason: 'Downloading', message: `Downloading ${url}.` }, fields: { phase: 'Downloading', download: { ...previous, ...(task.progressPercent !== undefined ? { progressPercent: task.progressPercent } : {}) } }, requeueAfterMs: DOWNLOAD_POLL_MS };
        if (!task.ok) {
          this.store.recordEvent(iso, 'Warning', 'DownloadFailed', 'Download', `${url}: ${task.message}`);
          return { condition: { type: 'SourceReady', status: 'False', reason: 'DownloadFailed', message: `Download of ${url} failed: ${task.message}. Fix spec.source (the URL or checksum) to try again.` }, fields: { phase: 'Failed', download: { ...previous, verified: false, task: undefined } } };
        }
        ctx.log.info({ audit: { action: 'download', url, volume: iso.status?.volume } }, `audit: downloaded ${url}`);
        this.store.recordEvent(iso, 'Normal', 'Downloaded', 'Download', `${url} downloaded to ${iso.status?.volume}; ${checksum.algorithm} verified.`);
        return { condition: { type: 'SourceReady', status: 'True', reason: 'Downloaded', message: `Downloaded ${url} to ${iso.status?.volume}; checksum verified.` }, fields: { download: { ...previous, verified: true, progressPercent: 100 } } };
      } catch (err) {
        return { condition: { type: 'SourceReady', status: 'Unknown', reason: reasonCode(err), message: `Could not poll the download: ${errorMessage(err)}` }, fields: {}, requeueAfterMs: RETRY_MS };
      }
    }
    if (previous?.verified === false && !previous.task && generationDone) {
      const failed = iso.status?.conditions?.find((c) => c.type === 'SourceReady');
      return { condition: { type: 'SourceReady', status: 'False', reason: failed?.reason ?? 'DownloadFailed', message: failed?.message ?? `Download of ${url} failed.` }, fields: { phase: 'Failed' } };
    }
    try {
      const started = await driver.downloadIso({ url, filename: downloadFilename(iso), checksum, ...(ref.node ? { node: ref.node } : {}) }, ctx.signal);
      ctx.log.info({ audit: { action: 'download.start', url, volume: started.volume, task: started.task } }, `audit: downloading ${url}`);
      this.store.recordEvent(iso, 'Normal', 'DownloadStarted', 'Download', `Downloading ${url} to ${started.volume}.`);
      return {
        condition: { type: 'SourceReady', status: 'False', reason: 'Downloading', message: `Downloading ${url}.` },
        fields: { phase: 'Downloading', volume: started.volume, download: { ...(started.task ? { task: started.task } : {}), progressPercent: 0, startedAt: metaTime() } },
        requeueAfterMs: DOWNLOAD_POLL_MS,
      };
    } catch (err) {
      return { condition: { type: 'SourceReady', status: 'False', reason: reasonCode(err), message: `Could not start downloading ${url}: ${errorMessage(err)}` }, fields: {}, requeueAfterMs: RETRY_MS };
    }
  }

  private async write(iso: IsoAttachment, updates: ConditionUpdate[], fields: Partial<IsoAttachmentStatus>, requeueAfterMs?: number): Promise<ReconcileResult | void> {
    const generation = iso.metadata.generation;
    const before = iso.status?.conditions;
    let conditions: Condition[] = [...(before ?? [])];
    for (const update of updates) conditions = setCondition(conditions, update, generation);
    if (!updates.some((u) => u.type === 'Ready')) conditions = setCondition(conditions, readyCondition(conditions), generation);
    const status: Record<string, unknown> = { ...(iso.status ?? {}), ...fields, observedGeneration: generation, conditions };
    for (const [k, v] of Object.entries(status)) if (v === undefined) delete status[k];
    const wrote = await this.store.writeStatus('IsoAttachment', iso, status);
    // The first phase is not news. The attach is reported once, where it happens: the
    // VirtualMachine's IsoAttached Event (and audit line) names the volume and the slot.
    if (wrote && fields.phase && iso.status?.phase && fields.phase !== iso.status.phase && fields.phase !== 'Attached') {
      this.store.recordEvent(iso, fields.phase === 'Failed' ? 'Warning' : 'Normal', fields.phase, 'Phase', `Phase ${fields.phase}.`);
    }
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }
}

interface SourceResult {
  condition: ConditionUpdate;
  fields: Partial<IsoAttachmentStatus>;
  requeueAfterMs?: number;
}
