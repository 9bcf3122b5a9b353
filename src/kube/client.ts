// A thin Kubernetes REST client over undici: one keep-alive pool, JSON in and out, streaming
// watches. kubeconfig.ts finds the server, TLS and credentials; the requests themselves go
// through undici so that watches, timeouts and connection reuse are ours to control.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { KubeApiError } from './errors.js';
import { loadClusterConnection, type ClusterConnection } from './kubeconfig.js';

export interface KubeClientOptions {
  kubeconfigPath?: string;
  context?: string;
  /** Impersonate this user (the chart's ServiceAccount in RBAC tests). */
  impersonate?: string;
  connections?: number;
  /**
   * Sent as User-Agent. The API server names this client's field manager after it (the part
   * before the first '/'): `bootplane` in managedFields and in server-side apply conflicts,
   * where a client without one shows as `unknown`.
   */
  userAgent?: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const CREDENTIAL_REFRESH_MS = 60_000;

export class KubeClient {
  private headers: Record<string, string> = {};
  private headersLoadedAt = 0;
  private readonly server: URL;
  private personDispatcher: Dispatcher | undefined;

  private constructor(
    private readonly connection: ClusterConnection,
    private readonly dispatcher: Dispatcher,
    private readonly watchDispatcher: Dispatcher,
    private readonly impersonate: string | undefined,
    private readonly tls: Record<string, unknown>,
    private readonly userAgent: string,
  ) {
    this.server = connection.server;
  }

  static async create(options: KubeClientOptions = {}): Promise<KubeClient> {
    const connection = await loadClusterConnection({ kubeconfigPath: options.kubeconfigPath, context: options.context });
    // HTTP/1.1 on a pool of keep-alive connections, not HTTP/2 (undici's default when the
    // server offers it): undici's HTTP/2 client let a stream reset by kube-apiserver escape as an
    // uncaught exception (ERR_HTTP2_STREAM_ERROR, NGHTTP2_INTERNAL_ERROR) and end the process, in
    // a benchmark here; its HTTP/1.1 client is the mature one, and scale-10k measured no CPU
    // difference beyond this machine's noise (docs/performance.md). Watches get connections of their own, so a long-lived watch never
    // holds one of the pool's.
    const dispatcher = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 30_000,
      pipelining: 1,
      allowH2: false,
      connect: { ...connection.tls },
    });
    const watches = new Agent({ keepAliveTimeout: 30_000, pipelining: 1, allowH2: false, connect: { ...connection.tls } });
    const client = new KubeClient(connection, dispatcher, watches, options.impersonate, { ...connection.tls }, options.userAgent ?? 'bootplane');
    await client.refreshCredentials();
    return client;
  }

  get serverUrl(): string { return this.server.toString(); }

  /** Service-account tokens rotate and exec plugins expire: re-read credentials now and then. */
  private async refreshCredentials(): Promise<void> {
    this.headers = { ...(await this.connection.headers()), 'user-agent': this.userAgent };
    if (this.impersonate) this.headers['Impersonate-User'] = this.impersonate;
    this.headersLoadedAt = Date.now();
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (Date.now() - this.headersLoadedAt > CREDENTIAL_REFRESH_MS) await this.refreshCredentials();
    return this.headers;
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  async request<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.send<T>(this.dispatcher, await this.authHeaders(), path, options);
  }

  /**
   * One JSON request on a connection pool, with the given credentials; 4xx/5xx become ApiErrors.
   * A 429 is asked again after the Retry-After the server gives (as client-go does): kube-apiserver
   * answers 429 before it has done anything, when its priority-and-fairness queues are full or a
   * resource's storage is still initialising after a start, so repeating even a POST is safe.
   */
  private async send<T>(dispatcher: Dispatcher, auth: Record<string, string>, path: string, options: RequestOptions): Promise<T> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { ...auth, accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      const res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: options.method ?? 'GET',
        headers,
        body,
        // undici's own timers rather than an AbortSignal.timeout per request: at thousands of
        // writes a second those signals and their 30 s timers were most of the objects on the heap.
        ...(options.signal ? { signal: options.signal } : { headersTimeout: options.timeoutMs ?? 30_000, bodyTimeout: options.timeoutMs ?? 30_000 }),
      });
      const text = await res.body.text();
      if (res.statusCode === 429 && attempt < TOO_MANY_REQUESTS_RETRIES) {
        await sleep(retryAfterMs(res.headers['retry-after']), undefined, { signal: options.signal });
        continue;
      }
      if (res.statusCode >= 400) throw apiError(res.statusCode, text, `${options.method ?? 'GET'} ${url.pathname}`);
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  /**
   * Opens a watch and calls onEvent for each event until the server ends the stream, the signal
   * aborts, or onEvent throws. Resolves when the stream ends; rejects on HTTP errors.
   */
  async watch<T>(path: string, query: RequestOptions['query'], onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const url = this.url(path, { ...query, watch: true, allowWatchBookmarks: true });
    const res = await this.watchDispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers: { ...(await this.authHeaders()), accept: 'application/json' },
      signal,
      bodyTimeout: 0,
    });
    if (res.statusCode >= 400) throw apiError(res.statusCode, await res.body.text(), `WATCH ${url.pathname}`);
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) onEvent(JSON.parse(line) as WatchEvent<T>);
      }
    }
  }

  /**
   * A request made as a person, with their bearer token, over a connection that trusts the same
   * server but presents no client certificate of ours: the API server authenticates the person
   * alone, and their RBAC decides (the web console's reads and writes).
   */
  async requestAs<T = unknown>(token: string, path: string, options: RequestOptions = {}): Promise<T> {
    this.personDispatcher ??= new Agent({
      connections: 8,
      keepAliveTimeout: 30_000,
      allowH2: false,
      connect: {
        ca: this.tls.ca as string | undefined,
        rejectUnauthorized: this.tls.rejectUnauthorized as boolean | undefined,
        servername: this.tls.servername as string | undefined,
      },
    });
    return this.send<T>(this.personDispatcher, { authorization: `Bearer ${token}`, 'user-agent': `${this.userAgent}-console` }, path, options);
  }

  async close(): Promise<void> {
    await this.personDispatcher?.close();
    await this.dispatcher.close();
    await this.watchDispatcher.close();
  }
}

function apiError(status: number, text: string, what: string): KubeApiError {
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new KubeApiError(status, parsed.reason ?? String(status), `${what}: ${parsed.message ?? text}`, parsed.details);
  } catch {
    return new KubeApiError(status, String(status), `${what}: HTTP ${status} ${text.slice(0, 200)}`);
  }
}

const TOO_MANY_REQUESTS_RETRIES = 5;

/** Retry-After in seconds (what kube-apiserver sends), within 0.1–10 s; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isFinite(seconds) || header === undefined || header === '') return 1_000;
  return Math.min(10_000, Math.max(100, seconds * 1000));
}
