// Leader election on a coordination.k8s.io Lease, as client-go does it: acquire when the lease is
// free or its holder has not renewed within leaseDuration (judged by our own clock from when we
// last saw the record change, never by comparing clocks), renew every retryPeriod, give up
// leadership when a renewal has not succeeded within renewDeadline, and release on shutdown.
import type { Logger } from 'pino';
import { sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { errorMessage, KubeApiError } from './errors.js';
import { collectionPath, objectPath, LEASES } from './resources.js';
import { microTime } from './time.js';
import { leaderMetrics } from '../observability/metrics.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export class LeaderElector {
  private leading = false;
  private observedRecord = '';
  private observedAt = 0;
  private lease: Lease | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    leaderMetrics.master.set({ name: options.name }, 0);
  }

  get isLeader(): boolean { return this.leading; }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops campaigning; a leader releases the lease so a successor need not wait for expiry. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    if (this.leading) {
      await this.release();
      this.setLeading(false);
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      // Campaign until we hold the lease.
      while (!signal.aborted && !this.leading) {
        if (await this.tryAcquireOrRenew()) this.setLeading(true);
        else await sleep(this.retryPeriodMs, signal);
      }
      // Renew until a renewal fails for longer than renewDeadline.
      let lastRenewed = Date.now();
      while (!signal.aborted && this.leading) {
        await sleep(this.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenewed = Date.now();
        } else if (Date.now() - lastRenewed > this.renewDeadlineMs) {
          this.log.error({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew the lease in time: leadership lost');
          this.setLeading(false);
        }
      }
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    leaderMetrics.master.set({ name: this.options.name }, leading ? 1 : 0);
    this.log.info(leading ? 'became leader' : 'stopped leading');
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    try {
      let lease: Lease;
      try {
        lease = await this.client.request<Lease>(objectPath(LEASES, namespace, name), { timeoutMs: this.renewDeadlineMs });
      } catch (err) {
        if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
        this.lease = await this.client.request<Lease>(collectionPath(LEASES, namespace), {
          method: 'POST',
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } },
          timeoutMs: this.renewDeadlineMs,
        });
        this.observe(this.lease);
        return true;
      }
      this.observe(lease);
      const holder = lease.spec.holderIdentity ?? '';
      const held = holder !== '' && holder !== identity;
      const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
      if (held && this.observedAt + durationMs > Date.now()) return false;
      const transitions = lease.spec.leaseTransitions ?? 0;
      const next: Lease = {
        metadata: { name, namespace, resourceVersion: lease.metadata.resourceVersion },
        spec: holder === identity
          ? { ...lease.spec, ...spec }
          : { ...spec, acquireTime: microTime(now), leaseTransitions: transitions + 1 },
      };
      this.lease = await this.client.request<Lease>(objectPath(LEASES, namespace, name), {
        method: 'PUT',
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...next },
        timeoutMs: this.renewDeadlineMs,
      });
      this.observe(this.lease);
      return true;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.isConflict)) this.log.warn({ err: errorMessage(err) }, 'lease update failed');
      return false;
    }
  }

  private observe(lease: Lease): void {
    const record = JSON.stringify(lease.spec);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = Date.now();
    }
  }

  private async release(): Promise<void> {
    if (!this.lease) return;
    try {
      await this.client.request(objectPath(LEASES, this.options.namespace, this.options.name), {
        method: 'PUT',
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: this.lease.metadata,
          spec: { ...this.lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
        },
        timeoutMs: 5_000,
      });
      this.log.info('lease released');
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not release the lease; the next leader waits for it to expire');
    }
  }
}
