// DisklessSession reconcile, top to bottom: fetch → stop (deleted, spec.state Stopped, or
// expired) → finalizer first → validate → identify the machine → is the machine free → is the
// target host up → image ready (download job) → session disk ready (copy job) → target
// published and admitting only this machine → observe connections → status written once.
// Long work runs in jobs (targets/jobs.ts) polled with requeueAfter, never awaited here.
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Condition } from '../../api/v1alpha1/common.js';
import { DisklessSessionSpec, type DisklessSession } from '../../api/v1alpha1/diskless-session.js';
import type { NodeBootAssignment } from '../../api/v1alpha1/node-boot-assignment.js';
import { SESSION_CLAIM_MAC_INDEX } from '../../boot/indexes.js';
import { changedConditions, setCondition, type ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileResult, Reconciler } from '../../kube/controller.js';
import { errorMessage } from '../../kube/errors.js';
import type { ObjectKey } from '../../kube/object.js';
import { metaTime } from '../../kube/time.js';
import { disklessMetrics } from '../../observability/metrics.js';
import type { ResourceStore } from '../../store/store.js';
import { TargetError, type TargetConnection } from '../../targets/driver.js';
import type { TargetHost } from '../../targets/host.js';
import { copyImage } from '../../targets/images/copy.js';
import { ImageError } from '../../targets/images/errors.js';
import { copyPath, identifyMachine, imageLabel, initiatorIqn, machineHolder, readyCondition, SESSION_LUN, targetIqn, type Phase } from './status.js';

const KIND = 'DisklessSession';
type Status = NonNullable<DisklessSession['status']>;

const POLL_JOB_MS = 1000;
const POLL_ACTIVE_MS = 10_000;
const POLL_WAITING_MS = 5000;

export class DisklessSessionReconciler implements Reconciler {
  constructor(
    private readonly store: ResourceStore,
    private readonly host: TargetHost | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const session = this.store.get<DisklessSession>(KIND, `${key.namespace}/${key.name}`);
    if (!session) return;

    const expired = session.status?.expiresAt !== undefined && Date.parse(session.status.expiresAt) <= this.now();
    if (session.metadata.deletionTimestamp) return this.stop(session, 'Deleted', 'The session was deleted.');
    if (session.spec.state === 'Stopped') return this.stop(session, 'StoppedBySpec', 'spec.state is Stopped.');
    if (expired) return this.stop(session, 'Expired', `The session reached spec.maxDurationSeconds (${session.spec.maxDurationSeconds} s).`);

    // A session ends once, like a deleted one: setting spec.state back to Active does not revive
    // it (a new session does; a persistent copy is found again).
    if (session.status?.phase === 'Stopped') return;
    await this.store.addFinalizer(KIND, session);
    // A failed session stays failed until its spec changes.
    if (session.status?.phase === 'Failed' && session.status.observedGeneration === session.metadata.generation) return;

    const parsed = DisklessSessionSpec.safeParse(session.spec);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ');
      return this.fail(session, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }], {});
    }
    const valid: DisklessSession = { ...session, spec: parsed.data };
    // Refused rather than ignored: a session that asked for CHAP must not run without it.
    if (valid.spec.chap) {
      return this.fail(valid, [{ type: 'Ready', status: 'False', reason: 'ChapNotSupported', message: 'spec.chap is not implemented yet by this controller; the session would run without CHAP, so it is refused. Set spec.chap: false (the target still admits only the machine\'s initiator IQN).' }], {});
    }

    const assignmentName = valid.spec.machine.assignmentRef?.name;
    const assignment = assignmentName ? this.store.get<NodeBootAssignment>('NodeBootAssignment', `${key.namespace}/${assignmentName}`) : undefined;
    const machine = identifyMachine(valid, assignment);
    const steps: ConditionUpdate[] = [machine.condition];
    const base: Partial<Status> = { mac: machine.mac, image: imageLabel(valid), portal: valid.spec.target.portal };
    if (!machine.mac) return this.pending(valid, steps, base, POLL_WAITING_MS * 6);

    const holder = machineHolder(valid, this.store.byIndex<DisklessSession>(KIND, SESSION_CLAIM_MAC_INDEX, machine.mac));
    if (holder) {
      const who = `${holder.metadata.namespace}/${holder.metadata.name}`;
      steps.push({ type: 'MachineFree', status: 'False', reason: 'MachineInUse', message: `Session ${who} already holds the machine with MAC ${machine.mac}; this session waits until ${who} stops.` });
      return this.pending(valid, steps, base);
    }
    steps.push({ type: 'MachineFree', status: 'True', reason: 'Free', message: `No other session holds MAC ${machine.mac}.` });

    const host = this.host;
    if (!host) {
      steps.push({ type: 'TargetHostReady', status: 'False', reason: 'NoTargetHost', message: 'This controller is not an iSCSI target host; run it with --diskless-target supervise (or external) on the storage node.' });
      return this.pending(valid, steps, base);
    }
    const health = host.health();
    if (health.state === 'failed') {
      steps.push({ type: 'TargetHostReady', status: 'False', reason: health.code, message: health.message });
      return this.provisioning(valid, steps, base, POLL_WAITING_MS);
    }
    if (health.state !== 'running') {
      steps.push({ type: 'TargetHostReady', status: 'False', reason: 'TargetDaemonStarting', message: 'tgtd is starting.' });
      return this.provisioning(valid, steps, base, POLL_JOB_MS);
    }
    steps.push({ type: 'TargetHostReady', status: 'True', reason: 'Running', message: 'The target daemon answers.' });

    // The session's own disk. Once it exists (a finished copy is renamed into place) the image
    // is not looked at again: an Active session stays Active however its golden image changes.
    const disk = copyPath(valid, machine.mac, host.copyDirectory);
    const withDisk: Partial<Status> = { ...base, copyPath: disk };
    const existing = await stat(disk).catch(() => undefined);
    const finished = host.copyJobs.get(disk);
    if (existing && finished?.state === 'done') {
      withDisk.copy = { method: finished.result.method, bytesCopied: finished.result.bytesCopied, totalBytes: finished.result.totalBytes };
      steps.push({ type: 'DiskReady', status: 'True', reason: finished.result.method === 'reflink' ? 'Reflinked' : 'Copied', message: `${disk} holds the session's disk (${finished.result.method} copy).` });
    } else if (existing) {
      withDisk.copy = valid.status?.copy ?? { method: 'sparse', bytesCopied: existing.size, totalBytes: existing.size };
      steps.push({ type: 'DiskReady', status: 'True', reason: 'CopyReused', message: `${disk} already holds this machine's disk; it is used as it is.` });
    } else {
      // The golden image, until its copy has started: verified (and downloaded once) in a job
      // shared by sessions on the same image.
      let copy = host.copyJobs.get(disk);
      if (!copy) {
        const imageKey = valid.spec.image.url ? `url:${valid.spec.image.sha256}` : `path:${valid.spec.image.path}:${valid.spec.image.sha256 ?? ''}`;
        const image = host.imageJobs.ensure(imageKey, () => host.images.prepare(valid.spec.image));
        if (image.state === 'running') {
          steps.push({ type: 'ImageReady', status: 'Unknown', reason: valid.spec.image.url ? 'Downloading' : 'Verifying', message: `Preparing ${imageLabel(valid)}.` });
          return this.provisioning(valid, steps, base, POLL_JOB_MS);
        }
        // Forgotten either way: a corrected image is tried again, a changed one verified again.
        host.imageJobs.forget(imageKey);
        if (image.state === 'failed') {
          steps.push(imageFailure('ImageReady', image.error));
          return this.fail(valid, steps, base);
        }
        const source = image.result.path;
        copy = host.copyJobs.ensure(disk, async (report, signal) => {
          await mkdir(dirname(disk), { recursive: true });
          const done = await copyImage(source, disk, report, signal);
          disklessMetrics.bytesCopied.inc(done.bytesCopied);
          return done;
        });
      }
      steps.push({ type: 'ImageReady', status: 'True', reason: 'Verified', message: `${imageLabel(valid)} is ready.` });
      if (copy.state === 'running') {
        if (copy.progress) withDisk.copy = { method: copy.progress.method, bytesCopied: copy.progress.bytesCopied, totalBytes: copy.progress.totalBytes };
        steps.push({ type: 'DiskReady', status: 'Unknown', reason: 'Copying', message: `Copying the image to ${disk}.` });
        return this.provisioning(valid, steps, withDisk, POLL_JOB_MS);
      }
      if (copy.state === 'failed') {
        host.copyJobs.forget(disk);
        steps.push(imageFailure('DiskReady', copy.error));
        return this.fail(valid, steps, withDisk);
      }
      withDisk.copy = { method: copy.result.method, bytesCopied: copy.result.bytesCopied, totalBytes: copy.result.totalBytes };
      steps.push({ type: 'DiskReady', status: 'True', reason: copy.result.method === 'reflink' ? 'Reflinked' : 'Copied', message: `${disk} holds the session's disk (${copy.result.method} copy).` });
    }

    // The target: created, its LUN added, then opened to this machine's initiator only.
    const iqn = targetIqn(valid);
    const initiator = initiatorIqn(machine.mac);
    let connections: TargetConnection[];
    try {
      await host.driver.createTarget(iqn);
      await host.driver.addLun(iqn, SESSION_LUN, disk);
      await host.driver.admit(iqn, { iqn: initiator, address: machine.address });
      connections = await host.driver.connections(iqn);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      steps.push({ type: 'TargetReady', status: 'False', reason: err.code, message: err.message });
      if (err.code === 'TargetRefused') return this.fail(valid, steps, withDisk);
      return this.provisioning(valid, steps, withDisk, POLL_WAITING_MS);
    }
    steps.push({ type: 'TargetReady', status: 'True', reason: 'Published', message: `Target ${iqn} LUN ${SESSION_LUN} admits ${initiator} only.` });

    const startedAt = valid.status?.startedAt ?? metaTime(this.now());
    const expiresAt = valid.spec.maxDurationSeconds ? metaTime(Date.parse(startedAt) + valid.spec.maxDurationSeconds * 1000) : undefined;
    const wrote = await this.write(valid, 'Active', steps, {
      ...withDisk,
      targetIQN: iqn,
      lun: SESSION_LUN,
      initiatorIQN: initiator,
      connections: observeConnections(valid.status?.connections, connections, this.now()),
      connectionCount: connections.length,
      startedAt,
      expiresAt,
      stoppingSince: undefined,
    });
    if (wrote && valid.status?.phase !== 'Active') disklessMetrics.started.inc();
    const untilExpiry = expiresAt ? Math.max(0, Date.parse(expiresAt) - this.now()) + 50 : POLL_ACTIVE_MS;
    return { requeueAfterMs: Math.min(POLL_ACTIVE_MS, untilExpiry) };
  }

  /** Ends the session: waits (bounded) for the machine to disconnect, removes the target and the ephemeral copy. */
  private async stop(session: DisklessSession, reason: string, why: string): Promise<ReconcileResult | void> {
    const phase = session.status?.phase;
    const host = this.host;
    const holdsResources = phase !== undefined && phase !== 'Stopped' && phase !== 'Pending';
    if (holdsResources && host) {
      const iqn = targetIqn(session);
      const stoppingSince = session.status?.stoppingSince ?? metaTime(this.now());
      let connections: TargetConnection[] = [];
      try {
        connections = await host.driver.connections(iqn);
      } catch (err) {
        if (!(err instanceof TargetError)) throw err;
        if (err.code === 'TargetDaemonUnavailable' && host.health().state !== 'failed') {
          await this.write(session, 'Stopping', [{ type: 'Ready', status: 'False', reason: err.code, message: `Cannot remove the target yet: ${err.message}` }], { stoppingSince });
          return { requeueAfterMs: POLL_WAITING_MS };
        }
      }
      const waited = this.now() - Date.parse(stoppingSince);
      if (connections.length > 0 && waited < host.stopGraceMs) {
        const who = connections.map((c) => `${c.initiator} from ${c.address}`).join(', ');
        await this.write(session, 'Stopping', [{ type: 'Ready', status: 'False', reason: 'WaitingForDisconnect', message: `${why} Waiting up to ${Math.round(host.stopGraceMs / 1000)} s for ${who} to disconnect before removing the target.` }], {
          stoppingSince, connections: observeConnections(session.status?.connections, connections, this.now()), connectionCount: connections.length,
        });
        return { requeueAfterMs: Math.min(POLL_WAITING_MS, host.stopGraceMs - waited + 50) };
      }
      try {
        await host.driver.remove(iqn);
      } catch (err) {
        if (!(err instanceof TargetError) || err.code !== 'TargetDaemonUnavailable') throw err;
        // A supervised tgtd that is down comes back empty: there is nothing left to remove.
        if (host.health().state !== 'failed') {
          await this.write(session, 'Stopping', [{ type: 'Ready', status: 'False', reason: err.code, message: `Cannot remove the target yet: ${err.message}` }], { stoppingSince });
          return { requeueAfterMs: POLL_WAITING_MS };
        }
      }
      const disk = session.status?.copyPath;
      if (disk) {
        host.copyJobs.forget(disk);
        if (session.spec.mode === 'ephemeral' || session.spec.deletePersistentCopy) {
          await rm(disk, { force: true });
          await rm(`${disk}.partial`, { force: true });
        }
      }
    }
    if (phase !== 'Stopped') {
      const kept = session.spec.mode === 'persistent' && !session.spec.deletePersistentCopy && session.status?.copyPath ? ` The persistent copy ${session.status.copyPath} is kept.` : '';
      const wrote = await this.write(session, 'Stopped', [{ type: 'Ready', status: 'False', reason, message: `${why} The target was removed.${kept}` }], { connections: undefined, connectionCount: 0, stoppingSince: undefined });
      if (wrote && holdsResources) disklessMetrics.stopped.inc();
    }
    if (session.metadata.deletionTimestamp) await this.store.removeFinalizer(KIND, session);
  }

  private async pending(session: DisklessSession, steps: ConditionUpdate[], fields: Partial<Status>, requeueAfterMs?: number): Promise<ReconcileResult | void> {
    await this.write(session, 'Pending', steps, fields);
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  }

  private async provisioning(session: DisklessSession, steps: ConditionUpdate[], fields: Partial<Status>, requeueAfterMs: number): Promise<ReconcileResult> {
    await this.write(session, 'Provisioning', steps, fields);
    return { requeueAfterMs };
  }

  /** Failed: nothing of the session is left published; the copy of an ephemeral session goes. */
  private async fail(session: DisklessSession, steps: ConditionUpdate[], fields: Partial<Status>): Promise<void> {
    if (this.host && session.status?.phase !== undefined && session.status.phase !== 'Pending') {
      await this.host.driver.remove(targetIqn(session)).catch(() => undefined);
    }
    if (this.host && fields.copyPath && session.spec.mode === 'ephemeral') await rm(fields.copyPath, { force: true });
    const wrote = await this.write(session, 'Failed', steps, fields);
    if (wrote && session.status?.phase !== 'Failed') disklessMetrics.failed.inc();
  }

  private async write(session: DisklessSession, phase: Phase, steps: ConditionUpdate[], fields: Partial<Status>): Promise<boolean> {
    const generation = session.metadata.generation;
    const before = session.status?.conditions;
    let conditions: Condition[] = [...(before ?? [])];
    for (const update of steps) conditions = setCondition(conditions, update, generation, new Date(this.now()));
    if (!steps.some((s) => s.type === 'Ready')) conditions = setCondition(conditions, readyCondition(phase, steps), generation, new Date(this.now()));
    const status: Status = { ...(session.status ?? {}), ...fields, phase, observedGeneration: generation, conditions };
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete (status as Record<string, unknown>)[k];
    const wrote = await this.store.writeStatus(KIND, session, status as Record<string, unknown>);
    if (!wrote) return false;
    for (const c of changedConditions(before, conditions)) {
      if (c.status === 'Unknown') continue;
      this.store.recordEvent(session, c.status === 'False' ? 'Warning' : 'Normal', c.reason, c.type, c.message);
    }
    return true;
  }
}

function imageFailure(type: 'ImageReady' | 'DiskReady', err: Error): ConditionUpdate {
  if (err instanceof ImageError) return { type, status: 'False', reason: err.code, message: err.message };
  return { type, status: 'False', reason: type === 'ImageReady' ? 'ImageDownloadFailed' : 'ImageCopyFailed', message: errorMessage(err) };
}

/** Connected initiators, each with the time it was first seen (kept across passes). */
function observeConnections(previous: Status['connections'], now: TargetConnection[], nowMs: number): Status['connections'] {
  const seen = new Map((previous ?? []).map((c) => [`${c.initiator}\0${c.address}`, c.since]));
  const list = now.slice(0, 16).map((c) => ({ initiator: c.initiator, address: c.address, since: seen.get(`${c.initiator}\0${c.address}`) ?? metaTime(nowMs) }));
  return list.length > 0 ? list : undefined;
}
