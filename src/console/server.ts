// The web console's HTTP server: every route is in `route` below. Reads are answered from the
// informer caches (cluster) or the directory store (standalone), after the person's read
// permission is checked; writes go through a ConsoleWriter as the person. Strict CSP, no inline
// script, CSRF header on writes, and never a Secret: Secrets are not among the kinds served.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BootProfile } from '../api/v1alpha1/boot-profile.js';
import type { Hypervisor } from '../api/v1alpha1/hypervisor.js';
import type { IsoAttachment } from '../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../api/v1alpha1/virtual-machine.js';
import type { BootServer, BootStats } from '../boot/server.js';
import { ASSIGNMENT_VM_INDEX } from '../boot/indexes.js';
import { firmwareOf, normalizeMac, normalizeUuid } from '../boot/identity.js';
import { errorMessage } from '../kube/errors.js';
import type { KubeObject } from '../kube/object.js';
import type { ObjectSource } from '../kube/source.js';
import { ActionError, ActionRequest, manifestView, planAction, type PlannedChange } from './actions.js';
import type { Asset } from './assets.js';
import { SESSION_COOKIE, SignInError, type ConsoleAuth, type Session } from './auth.js';
import { LiveFeed } from './live.js';
import { assignmentView, attachmentView, fleetRow, hypervisorView, plannerView, profileView, type PlannerView } from './views.js';
import { WriteRefused, type ConsoleWriter } from './writers.js';

export interface EventView {
  time: string;
  type: string;
  reason: string;
  note: string;
  count: number;
}

export interface ConsoleServerOptions {
  sources: ReadonlyMap<string, ObjectSource>;
  auth: ConsoleAuth;
  writer: ConsoleWriter;
  assets: Map<string, Asset>;
  index: Asset;
  /** The boot server of this process, for rendered scripts and its counters. */
  boot?: BootServer;
  /** Recent Events of an object, read as the person (cluster) or from the site (standalone). */
  events(session: Session, kind: string, obj: KubeObject): Promise<EventView[]>;
  log: Logger;
  /** Cookies get Secure when the console is served over TLS by a proxy in front. */
  secureCookies?: boolean;
}

const PLURAL: Record<string, string> = {
  VirtualMachine: 'virtualmachines', IsoAttachment: 'isoattachments', Hypervisor: 'hypervisors',
  BootProfile: 'bootprofiles', NodeBootAssignment: 'nodebootassignments',
};
const LIVE_KINDS = Object.keys(PLURAL);
const CLUSTER_SCOPED = new Set(['Hypervisor']);
const MAX_BODY = 64 * 1024;
const STATS_SAMPLE_MS = 10_000;
const STATS_SAMPLES = 90;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** A request the client got wrong or may not make: a status and a message naming what to fix. */
export class ConsoleHttpError extends Error {
  readonly code = 'ConsoleHttpError';
  constructor(readonly status: number, message: string, readonly details?: unknown) {
    super(message);
  }
}

interface StatsSample { at: number; requests: number; failures: number; byProfile: Record<string, number> }

export class ConsoleServer {
  readonly live: LiveFeed;
  private readonly samples: StatsSample[] = [];
  private readonly sampler: NodeJS.Timeout;

  constructor(private readonly o: ConsoleServerOptions) {
    this.live = new LiveFeed(o.sources, LIVE_KINDS, (kind, obj) => this.summarize(kind, obj));
    this.sample();
    this.sampler = setInterval(() => this.sample(), STATS_SAMPLE_MS);
    this.sampler.unref();
  }

  listen(port: number, host: string): Promise<Server> {
    const server = createServer({ requestTimeout: 0, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  close(): void {
    clearInterval(this.sampler);
    this.live.close();
  }

  private source(kind: string): ObjectSource {
    const s = this.o.sources.get(kind);
    if (!s) throw new Error(`the console has no ${kind} source`);
    return s;
  }

  private get<T extends KubeObject>(kind: string, key: string): T | undefined {
    return this.source(kind).cache.get(key) as T | undefined;
  }

  private list<T extends KubeObject>(kind: string): T[] {
    return [...this.source(kind).cache.list()] as T[];
  }

  summarize(kind: string, obj: KubeObject): unknown {
    switch (kind) {
      case 'VirtualMachine': return fleetRow(obj as VirtualMachine);
      case 'Hypervisor': return hypervisorView(obj as Hypervisor);
      case 'NodeBootAssignment': return assignmentView(obj as NodeBootAssignment);
      case 'BootProfile': return profileView(obj as BootProfile);
      case 'IsoAttachment': return attachmentView(obj as IsoAttachment);
      default: return undefined;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path.startsWith('/assets/')) {
      const asset = this.o.assets.get(path);
      if (!asset || (method !== 'GET' && method !== 'HEAD')) throw new ConsoleHttpError(404, `no asset ${path}`);
      return this.sendAsset(req, res, asset);
    }
    if (path === '/healthz') return this.sendText(res, 200, 'ok\n');
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'public, max-age=86400' }).end();
      return;
    }

    // Standalone sign-in: the printed URL carries the token once; it becomes a cookie and the
    // address bar loses it, so it does not linger in history or get copied along with a link.
    const queryToken = url.searchParams.get('token');
    if (queryToken !== null && method === 'GET' && !path.startsWith('/api/')) {
      const session = await this.signIn(queryToken);
      url.searchParams.delete('token');
      res.setHeader('set-cookie', this.cookie(session.id));
      res.writeHead(303, { location: `${url.pathname}${url.search}` }).end();
      return;
    }

    if (path === '/api/session' && method === 'POST') {
      this.checkOrigin(req);
      const body = await readJson(req) as { token?: unknown };
      if (typeof body.token !== 'string') throw new ConsoleHttpError(400, 'body.token: expected your bearer token as a string');
      const session = await this.signIn(body.token.trim());
      res.setHeader('set-cookie', this.cookie(session.id));
      return this.sendJson(res, 200, { user: session.user, mode: this.o.auth.mode, csrf: session.csrf });
    }

    const session = this.o.auth.session(req);
    if (path === '/' || path === '/index.html') {
      // Cluster mode serves the page so a person can sign in; standalone needs the token first.
      if (!session && this.o.auth.mode === 'standalone') {
        return this.sendText(res, 401, 'bootplane console: open the URL printed at start (it carries ?token=...), or set BOOTPLANE_CONSOLE_TOKEN and use that token.\n');
      }
      return this.sendAsset(req, res, this.o.index);
    }
    if (!path.startsWith('/api/')) throw new ConsoleHttpError(404, `no page ${path}`);
    if (!session) throw new ConsoleHttpError(401, this.o.auth.mode === 'cluster' ? 'sign in with a Kubernetes bearer token first' : 'open the URL printed at start (it carries ?token=...)');

    if (method === 'POST') {
      this.checkOrigin(req);
      if (req.headers['x-csrf-token'] !== session.csrf) throw new ConsoleHttpError(403, 'missing or wrong X-CSRF-Token header: reload the page');
      if (path === '/api/signout') {
        this.o.auth.signOut(req);
        res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
        return this.sendJson(res, 200, {});
      }
      if (path === '/api/actions/preview' || path === '/api/actions/apply') return this.action(req, res, session, path.endsWith('apply'));
      throw new ConsoleHttpError(404, `no route POST ${path}`);
    }
    if (method !== 'GET' && method !== 'HEAD') throw new ConsoleHttpError(405, `${method} is not served here`);

    if (path === '/api/me') return this.sendJson(res, 200, { user: session.user, groups: session.groups, mode: this.o.auth.mode, csrf: session.csrf });
    if (path === '/api/fleet') return this.sendJson(res, 200, { rows: (await this.readable(session, 'VirtualMachine')).map((vm) => fleetRow(vm as VirtualMachine)) });
    if (path === '/api/hypervisors') return this.sendJson(res, 200, { hypervisors: (await this.readable(session, 'Hypervisor')).map((h) => hypervisorView(h as Hypervisor)) });
    if (path === '/api/boot') {
      return this.sendJson(res, 200, {
        assignments: (await this.readable(session, 'NodeBootAssignment')).map((a) => assignmentView(a as NodeBootAssignment)),
        profiles: (await this.readable(session, 'BootProfile')).map((p) => profileView(p as BootProfile)),
        samples: this.samples,
        stats: this.o.boot ? this.o.boot.statistics() : undefined,
      });
    }
    if (path === '/api/boot/script') return this.script(res, session, url.searchParams);
    if (path === '/api/events') {
      this.live.open(res, (kind, namespace) => this.o.auth.canRead(session, { verb: 'list', resource: PLURAL[kind]!, ...(CLUSTER_SCOPED.has(kind) ? {} : { namespace }) }));
      return;
    }
    const vmPath = /^\/api\/vm\/([a-z0-9][-a-z0-9.]{0,252})\/([a-z0-9][-a-z0-9.]{0,252})$/.exec(path);
    if (vmPath) return this.vmDetail(res, session, vmPath[1]!, vmPath[2]!);
    throw new ConsoleHttpError(404, `no route ${path}`);
  }

  private async signIn(token: string): Promise<Session> {
    try {
      return await this.o.auth.signIn(token);
    } catch (err) {
      if (err instanceof SignInError) throw new ConsoleHttpError(err.status, err.message);
      throw err;
    }
  }

  private cookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${this.o.secureCookies ? '; Secure' : ''}`;
  }

  /** A write from another site's page is refused even before the CSRF header is looked at. */
  private checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new ConsoleHttpError(403, 'the Origin header is not a URL');
    }
    if (host !== req.headers.host) throw new ConsoleHttpError(403, `requests from ${origin} are not accepted: the console only takes writes from its own pages`);
  }

  /** Objects of a kind this person may list: all of them, or those in namespaces they may list. */
  private async readable(session: Session, kind: string): Promise<KubeObject[]> {
    const resource = PLURAL[kind]!;
    if (await this.o.auth.canRead(session, { verb: 'list', resource })) return this.list(kind);
    if (CLUSTER_SCOPED.has(kind)) return [];
    const byNamespace = new Map<string, KubeObject[]>();
    for (const obj of this.source(kind).cache.list()) {
      const ns = obj.metadata.namespace ?? 'default';
      let list = byNamespace.get(ns);
      if (!list) byNamespace.set(ns, (list = []));
      list.push(obj);
    }
    const out: KubeObject[] = [];
    const answers = await Promise.all([...byNamespace.keys()].map(async (ns) => [ns, await this.o.auth.canRead(session, { verb: 'list', resource, namespace: ns })] as const));
    for (const [ns, allowed] of answers) if (allowed) out.push(...byNamespace.get(ns)!);
    return out;
  }

  private async vmDetail(res: ServerResponse, session: Session, namespace: string, name: string): Promise<void> {
    if (!(await this.o.auth.canRead(session, { verb: 'get', resource: 'virtualmachines', namespace, name }))) {
      throw new ConsoleHttpError(403, `${session.user} may not get virtualmachines.bootplane.io in namespace ${namespace} (RBAC: verb "get" on "virtualmachines")`);
    }
    const vm = this.get<VirtualMachine>('VirtualMachine', `${namespace}/${name}`);
    if (!vm) throw new ConsoleHttpError(404, `VirtualMachine ${namespace}/${name} is not in the cache`);
    // What the VM's page shows of other kinds is checked for those kinds too.
    const [mayListAttachments, mayListAssignments] = await Promise.all([
      this.o.auth.canRead(session, { verb: 'list', resource: 'isoattachments', namespace }),
      this.o.auth.canRead(session, { verb: 'list', resource: 'nodebootassignments', namespace }),
    ]);
    const attachments = mayListAttachments ? this.list<IsoAttachment>('IsoAttachment').filter((a) => a.metadata.namespace === namespace && a.spec.vmRef.name === name) : [];
    const assignments = mayListAssignments ? this.source('NodeBootAssignment').cache.byIndex(ASSIGNMENT_VM_INDEX, `${namespace}/${name}`) as NodeBootAssignment[] : [];
    const hidden = [...(mayListAttachments ? [] : ['isoattachments']), ...(mayListAssignments ? [] : ['nodebootassignments'])];
    const hypervisor = await this.o.auth.canRead(session, { verb: 'get', resource: 'hypervisors', name: vm.spec.hypervisorRef.name })
      ? this.get<Hypervisor>('Hypervisor', vm.spec.hypervisorRef.name)
      : undefined;
    let events: EventView[] = [];
    let eventsError: string | undefined;
    try {
      events = await this.o.events(session, 'VirtualMachine', vm);
    } catch (err) {
      eventsError = errorMessage(err);
    }
    return this.sendJson(res, 200, {
      row: fleetRow(vm),
      manifest: manifestView(vm),
      status: { conditions: vm.status?.conditions ?? [], devices: vm.status?.devices ?? [], install: vm.status?.install, bootOrder: vm.status?.bootOrder ?? [], pendingChanges: vm.status?.pendingChanges ?? [] },
      attachments: attachments.map(attachmentView),
      assignments: assignments.map(assignmentView),
      planner: hidden.length === 0 ? plannerView(vm, attachments, assignments) : { steps: [], warnings: [], unknown: `${session.user} may not list ${hidden.join(' and ')} in namespace ${namespace}, which the planner's answer depends on.` },
      ...(hidden.length ? { hidden } : {}),
      hypervisorIsos: hypervisor ? hypervisorView(hypervisor).isos : [],
      events,
      ...(eventsError ? { eventsError } : {}),
    });
  }

  private async action(req: IncomingMessage, res: ServerResponse, session: Session, apply: boolean): Promise<void> {
    const parsed = ActionRequest.safeParse(await readJson(req));
    if (!parsed.success) throw new ConsoleHttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const request = parsed.data;
    if (!(await this.o.auth.canRead(session, { verb: 'get', resource: 'virtualmachines', namespace: request.namespace, name: request.name }))) {
      throw new ConsoleHttpError(403, `${session.user} may not get virtualmachines.bootplane.io in namespace ${request.namespace}`);
    }
    if (request.action === 'detachIso' && !(await this.o.auth.canRead(session, { verb: 'get', resource: 'isoattachments', namespace: request.namespace, name: request.attachment }))) {
      throw new ConsoleHttpError(403, `${session.user} may not get isoattachments.bootplane.io in namespace ${request.namespace}`);
    }
    let change: PlannedChange;
    try {
      change = planAction(request, {
        vm: (ns, n) => this.get<VirtualMachine>('VirtualMachine', `${ns}/${n}`),
        attachment: (ns, n) => this.get<IsoAttachment>('IsoAttachment', `${ns}/${n}`),
        assignments: (ns, n) => this.source('NodeBootAssignment').cache.byIndex(ASSIGNMENT_VM_INDEX, `${ns}/${n}`) as NodeBootAssignment[],
      });
    } catch (err) {
      if (err instanceof ActionError) throw new ConsoleHttpError(err.status, err.message);
      throw err;
    }
    if (!apply) {
      const mayPlan = await this.o.auth.canRead(session, { verb: 'list', resource: 'isoattachments', namespace: request.namespace })
        && await this.o.auth.canRead(session, { verb: 'list', resource: 'nodebootassignments', namespace: request.namespace });
      return this.sendJson(res, 200, { change, ...(mayPlan ? { effect: this.effect(change) } : {}) });
    }
    if (change.gitOps) {
      throw new ConsoleHttpError(409, `${change.kind} ${change.namespace}/${change.name} is managed by ${change.gitOps.tool} (${change.gitOps.owner}); self-heal would revert a write. Commit this change to its repository instead.`, { gitOps: change.gitOps, yaml: change.after });
    }
    try {
      const { target } = await this.o.writer.apply(session, change);
      this.o.log.info({ user: session.user, action: request.action, object: `${change.kind} ${change.namespace}/${change.name}`, target }, 'console change written');
      return this.sendJson(res, 200, { change, target });
    } catch (err) {
      if (err instanceof WriteRefused) throw new ConsoleHttpError(err.status, err.message, err.details);
      throw err;
    }
  }

  /**
   * What the planner would do once the change is made: the VM with its new spec, or with the
   * attachment added (as if its ISO were ready) or going. Shown beside the diff.
   */
  private effect(change: PlannedChange): PlannerView | undefined {
    const vmName = change.kind === 'VirtualMachine' ? change.name
      : change.kind === 'NodeBootAssignment' ? (change.spec as { vmRef?: { name: string } } | undefined)?.vmRef?.name
        : (change.object?.spec as { vmRef?: { name: string } } | undefined)?.vmRef?.name ?? this.get<IsoAttachment>('IsoAttachment', `${change.namespace}/${change.name}`)?.spec.vmRef.name;
    const vm = vmName ? this.get<VirtualMachine>('VirtualMachine', `${change.namespace}/${vmName}`) : undefined;
    if (!vm) return undefined;
    let attachments = this.list<IsoAttachment>('IsoAttachment').filter((a) => a.metadata.namespace === change.namespace && a.spec.vmRef.name === vm.metadata.name);
    let after = vm;
    if (change.kind === 'VirtualMachine' && change.operation === 'patch' && change.spec) {
      after = { ...vm, spec: change.spec as VirtualMachine['spec'] };
    } else if (change.operation === 'create' && change.object) {
      const spec = change.object.spec as IsoAttachment['spec'];
      const ready: IsoAttachment = {
        ...(change.object as IsoAttachment),
        spec: { ...spec, primaryBoot: spec.primaryBoot ?? false },
        status: { volume: (spec.source as { volume?: string }).volume, conditions: [{ type: 'SourceReady', status: 'True', reason: 'Preview', message: '', lastTransitionTime: new Date().toISOString() }] } as IsoAttachment['status'],
      };
      attachments = [...attachments, ready];
    } else if (change.operation === 'delete') {
      attachments = attachments.map((a) => (a.metadata.name === change.name ? { ...a, metadata: { ...a.metadata, deletionTimestamp: new Date().toISOString() } } : a));
    }
    let assignments = this.source('NodeBootAssignment').cache.byIndex(ASSIGNMENT_VM_INDEX, `${change.namespace}/${vm.metadata.name}`) as NodeBootAssignment[];
    if (change.kind === 'NodeBootAssignment' && change.spec) {
      assignments = assignments.map((a) => (a.metadata.name === change.name ? { ...a, spec: change.spec as NodeBootAssignment['spec'] } : a));
    }
    return plannerView(after, attachments, assignments);
  }

  private async script(res: ServerResponse, session: Session, query: URLSearchParams): Promise<void> {
    if (!this.o.boot) throw new ConsoleHttpError(404, 'this process runs no boot server');
    if (!(await this.o.auth.canRead(session, { verb: 'list', resource: 'nodebootassignments' }))) {
      throw new ConsoleHttpError(403, `${session.user} may not list nodebootassignments.bootplane.io in every namespace, which a lookup by MAC or UUID needs`);
    }
    const rawMac = query.get('mac') ?? '';
    const rawUuid = query.get('uuid') ?? '';
    const mac = rawMac ? normalizeMac(rawMac) : undefined;
    const uuid = rawUuid ? normalizeUuid(rawUuid) : undefined;
    if (rawMac && !mac) throw new ConsoleHttpError(400, 'mac: expected a MAC address such as 52:54:00:12:34:56');
    if (rawUuid && !uuid) throw new ConsoleHttpError(400, 'uuid: expected an SMBIOS UUID');
    if (!mac && !uuid) throw new ConsoleHttpError(400, 'give mac or uuid');
    const platform = query.get('firmware') === 'uefi' ? 'efi' : 'pcbios';
    const serverUrl = query.get('serverUrl') || 'http://boot.invalid';
    if (!/^https?:\/\/[A-Za-z0-9.:[\]-]+$/.test(serverUrl)) throw new ConsoleHttpError(400, 'serverUrl: expected http://host[:port]');
    const preview = this.o.boot.previewScript(mac, uuid, firmwareOf(platform), serverUrl);
    res.setHeader('x-bootplane-answer', preview.answer);
    if (preview.assignment) res.setHeader('x-bootplane-assignment', preview.assignment);
    if (preview.reason) res.setHeader('x-bootplane-reason', preview.reason);
    if (preview.script === undefined) return this.sendText(res, 404, `${preview.reason ?? 'no script'}\n`);
    return this.sendText(res, 200, preview.script);
  }

  private sample(): void {
    if (!this.o.boot) return;
    const s: BootStats = this.o.boot.statistics();
    this.samples.push({ at: Date.now(), requests: s.requests, failures: s.renderFailures + s.serverErrors + s.clientErrors, byProfile: { ...s.bootsByProfile } });
    if (this.samples.length > STATS_SAMPLES) this.samples.shift();
  }

  private sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
    const headers: Record<string, string> = {
      'content-type': asset.type,
      etag: asset.etag,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(asset.body.length) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ConsoleHttpError) {
      this.sendJson(res, err.status, { error: err.message, ...(err.details !== undefined ? { details: err.details } : {}) });
      return;
    }
    this.o.log.error({ err: errorMessage(err) }, 'console request failed');
    this.sendJson(res, 500, { error: 'the console failed to answer; see its log' });
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return Promise.reject(new ConsoleHttpError(415, 'send the body as application/json'));
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ConsoleHttpError(413, `the body is larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch {
        reject(new ConsoleHttpError(400, 'the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}
