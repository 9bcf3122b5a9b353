// List + watch of one resource into a Cache, the way client-go's reflector does it: watch from the
// list's resourceVersion with bookmarks; relist on 410 Gone; reconnect with jittered backoff on
// any other error; a watchdog that relists when a watch goes silent; a periodic resync. An
// informer never stays stopped until it is told to stop.
import type { Logger } from 'pino';
import { Backoff, sleep } from './backoff.js';
import { Cache } from './cache.js';
import type { KubeClient, WatchEvent } from './client.js';
import { errorMessage, KubeApiError } from './errors.js';
import { keyOf, slim, type KubeObject } from './object.js';
import { collectionPath, type ResourceType } from './resources.js';
import { cachedStrings } from './string-pool.js';
import { informerMetrics } from '../observability/metrics.js';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler<T> = (event: InformerEvent, obj: T, old?: T) => void;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** For example metadata.name=x: watch one object, which RBAC can grant by resourceName. */
  fieldSelector?: string;
  /** Every object is handed to the handlers again this often (level-based safety net). */
  resyncMs?: number;
  /** A watch with no event and no bookmark for this long is considered dead and restarted. */
  watchdogMs?: number;
  /** The server ends each watch after a random time in [min, 2*min] seconds, as client-go asks. */
  watchTimeoutSeconds?: number;
  logger: Logger;
}

interface ListResponse<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export class Informer<T extends KubeObject> {
  readonly cache = new Cache<T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff(800, 30_000);
  private readonly log: Logger;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions,
  ) {
    this.log = options.logger.child({ informer: type.plural });
  }

  on(handler: InformerHandler<T>): void { this.handlers.push(handler); }

  get hasSynced(): boolean { return this.synced; }

  /** The last list/watch error, for callers that give up waiting on a first sync. */
  lastError: string | undefined;

  /** Resolves once the first list is in the cache; with timeoutMs, rejects after that long. */
  waitForSync(timeoutMs?: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    const synced = new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    if (timeoutMs === undefined) return synced;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.type.plural} not listed within ${timeoutMs} ms${this.lastError ? `: ${this.lastError}` : ''}`)), timeoutMs);
    });
    return Promise.race([synced, timeout]).finally(() => clearTimeout(timer));
  }

  start(): void {
    if (this.running) return;
    this.running = this.run();
    const resyncMs = this.options.resyncMs ?? 10 * 60_000;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.cache.list()) this.emit('resync', obj);
      }, resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.running;
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const handler of this.handlers) {
      try {
        handler(event, obj, old);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'informer handler threw');
      }
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        await this.watchOnce();
        this.backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeApiError && err.isGone) {
          this.log.info('resourceVersion too old (410 Gone): relisting');
          informerMetrics.relists.inc({ resource: this.type.plural, reason: 'gone' });
          this.resourceVersion = undefined;
          continue;
        }
        this.lastError = errorMessage(err);
        const delay = this.backoff.next();
        informerMetrics.errors.inc({ resource: this.type.plural });
        this.log.warn({ err: errorMessage(err), retryInMs: delay }, 'list/watch failed; retrying');
        await sleep(delay, signal);
      }
    }
  }

  private async list(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.client.request<ListResponse<T>>(collectionPath(this.type, this.options.namespace), {
        query: { limit: 500, continue: continueToken, labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector },
        timeoutMs: 60_000,
        signal: this.abort.signal,
      });
      for (const item of page.items) items.push(cachedStrings.internAll(slim(item)));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    this.replace(items);
    this.resourceVersion = resourceVersion;
    informerMetrics.lists.inc({ resource: this.type.plural });
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
      this.log.info({ objects: items.length }, 'cache synced');
    }
  }

  /** Replaces the cache with a fresh list, emitting the differences (deletes missed while away). */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.upsert(obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    for (const key of [...this.cache.keys()]) {
      if (seen.has(key)) continue;
      const old = this.cache.remove(key);
      if (old) this.emit('delete', old);
    }
  }

  private async watchOnce(): Promise<void> {
    const watchdogMs = this.options.watchdogMs ?? 5 * 60_000;
    const min = this.options.watchTimeoutSeconds ?? 300;
    const watchAbort = new AbortController();
    const onStop = () => watchAbort.abort();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    let silentFor: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = () => {
      if (silentFor) clearTimeout(silentFor);
      silentFor = setTimeout(() => {
        timedOut = true;
        watchAbort.abort();
      }, watchdogMs);
    };
    arm();
    try {
      await this.client.watch<T>(
        collectionPath(this.type, this.options.namespace),
        {
          resourceVersion: this.resourceVersion,
          timeoutSeconds: Math.floor(min + Math.random() * min),
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        (event) => {
          arm();
          this.handle(event);
        },
        watchAbort.signal,
      );
    } catch (err) {
      if (!timedOut) throw err;
    } finally {
      if (silentFor) clearTimeout(silentFor);
      this.abort.signal.removeEventListener('abort', onStop);
    }
    if (timedOut) {
      this.log.warn({ watchdogMs }, 'watch silent for too long: relisting');
      informerMetrics.relists.inc({ resource: this.type.plural, reason: 'silent' });
      this.resourceVersion = undefined;
    }
  }

  private handle(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      const status = event.object as unknown as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(status.code ?? 500, status.reason ?? 'WatchError', `watch ${this.type.plural}: ${status.message ?? 'error event'}`);
    }
    const obj = cachedStrings.internAll(slim(event.object));
    if (obj.metadata.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    if (event.type === 'DELETED') {
      const old = this.cache.remove(keyOf(obj));
      this.emit('delete', old ?? obj);
      return;
    }
    const old = this.cache.upsert(obj);
    this.emit(old ? 'update' : 'add', obj, old);
  }
}
