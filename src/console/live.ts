// Server-Sent Events fed by the caches' change notifications: each change is turned into its
// message once and written to every open stream whose person may read it. Nothing here polls;
// a quiet page costs one comment line every 25 s to keep proxies from closing it.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/object.js';
import { keyOf } from '../kube/object.js';
import type { ObjectSource } from '../kube/source.js';

export type Permission = (kind: string, namespace: string | undefined) => boolean | Promise<boolean>;
export type Summarize = (kind: string, obj: KubeObject) => unknown;

interface Stream {
  res: ServerResponse;
  allowed: Permission;
  known: Map<string, boolean>;
  /** Messages waiting for a permission answer, in order. */
  queue: Promise<void>;
}

const HEARTBEAT_MS = 25_000;
/** A stream this far behind is closed: the browser reconnects and its page reloads its data. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class LiveFeed {
  private readonly streams = new Set<Stream>();
  private readonly heartbeat: NodeJS.Timeout;
  private sequence = 0;

  constructor(sources: ReadonlyMap<string, ObjectSource>, kinds: readonly string[], private readonly summarize: Summarize) {
    for (const kind of kinds) {
      const source = sources.get(kind);
      source?.on((event, obj) => {
        if (event === 'resync') return;
        this.publish(kind, event === 'delete' ? 'delete' : 'upsert', obj);
      });
    }
    this.heartbeat = setInterval(() => {
      for (const s of this.streams) s.res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number { return this.streams.size; }

  open(res: ServerResponse, allowed: Permission): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n: connected\n\n`);
    const stream: Stream = { res, allowed, known: new Map(), queue: Promise.resolve() };
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
  }

  publish(kind: string, type: 'upsert' | 'delete', obj: KubeObject): void {
    if (this.streams.size === 0) return;
    const namespace = obj.metadata.namespace;
    const payload = JSON.stringify({ kind, type, key: keyOf(obj), namespace, sentAt: Date.now(), item: type === 'upsert' ? this.summarize(kind, obj) : undefined });
    const message = `id: ${++this.sequence}\nevent: change\ndata: ${payload}\n\n`;
    const permissionKey = `${kind}/${namespace ?? ''}`;
    for (const s of this.streams) {
      if (s.res.writableLength > MAX_BUFFERED_BYTES) {
        this.streams.delete(s);
        s.res.destroy();
        continue;
      }
      const known = s.known.get(permissionKey);
      if (known === true) {
        s.res.write(message);
        continue;
      }
      if (known === false) continue;
      // First message of this kind and namespace for this person: ask, then keep the answer.
      s.queue = s.queue.then(async () => {
        let allowed = s.known.get(permissionKey);
        if (allowed === undefined) {
          allowed = await Promise.resolve(s.allowed(kind, namespace)).catch(() => false);
          s.known.set(permissionKey, allowed);
          setTimeout(() => s.known.delete(permissionKey), 10_000).unref();
        }
        if (allowed) s.res.write(message);
      });
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }
}
