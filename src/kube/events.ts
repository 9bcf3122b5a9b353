// Kubernetes Events (events.k8s.io/v1), aggregated the way client-go's recorder does it: the same
// (object, type, reason, note) within the series window becomes one Event whose series count
// grows, and its updates are themselves rate limited, so a failing loop never floods the API
// server with Events.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.js';
import { errorMessage } from './errors.js';
import type { KubeObject } from './object.js';
import { collectionPath, objectPath, EVENTS } from './resources.js';
import { microTime } from './time.js';
import { eventMetrics } from '../observability/metrics.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  firstSeen: number;
  lastPatched: number;
}

const SERIES_WINDOW_MS = 10 * 60_000;
const SERIES_PATCH_INTERVAL_MS = 30_000;
const MAX_TRACKED = 4096;

export class EventRecorder implements EventSink {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly client: KubeClient,
    private readonly controller: string,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    void this.emit(regarding, type, reason, action, note.slice(0, 1024)).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err), reason }, 'could not record Event');
    });
  }

  private async emit(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): Promise<void> {
    const key = `${regarding.metadata.uid ?? regarding.metadata.name}\u0000${type}\u0000${reason}\u0000${note}`;
    const now = this.now();
    const existing = this.series.get(key);
    if (existing && now - existing.firstSeen < SERIES_WINDOW_MS) {
      existing.count++;
      if (now - existing.lastPatched < SERIES_PATCH_INTERVAL_MS) {
        eventMetrics.suppressed.inc();
        return;
      }
      existing.lastPatched = now;
      await this.client.request(objectPath(EVENTS, existing.namespace, existing.name), {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { series: { count: existing.count, lastObservedTime: microTime(now) } },
      });
      eventMetrics.emitted.inc({ type, action: 'series' });
      return;
    }
    if (this.series.size >= MAX_TRACKED) this.evictOld(now);
    const namespace = regarding.metadata.namespace ?? 'default';
    const name = `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`.slice(0, 253);
    const entry: Series = { name, namespace, count: 1, firstSeen: now, lastPatched: now };
    this.series.set(key, entry);
    await this.client.request(collectionPath(EVENTS, namespace), {
      method: 'POST',
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.controller,
        reportingInstance: this.instance,
        action,
        reason,
        type,
        note,
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: regarding.metadata.name,
          namespace: regarding.metadata.namespace,
          uid: regarding.metadata.uid,
          resourceVersion: regarding.metadata.resourceVersion,
        },
      },
    });
    eventMetrics.emitted.inc({ type, action: 'create' });
  }

  private evictOld(now: number): void {
    for (const [key, entry] of this.series) if (now - entry.firstSeen >= SERIES_WINDOW_MS) this.series.delete(key);
    if (this.series.size >= MAX_TRACKED) this.series.clear();
  }
}
