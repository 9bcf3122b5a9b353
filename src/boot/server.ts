// The boot HTTP server: iPXE scripts, assets, per-machine configuration and statistics. Every
// route is in `route` below. Answers come from the informer caches (through the store) and
// memory; nothing on the request path calls the API server. Observed boots go to BootRecorder,
// which writes status later, off the request path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BootProfile } from '../api/v1alpha1/boot-profile.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import { errorMessage } from '../kube/errors.js';
import { keyOf } from '../kube/object.js';
import { deltaCell, type DeltaCell, type HistogramCell } from '../observability/metric-cells.js';
import { InfoLineWriter, jsonString } from '../observability/json-line.js';
import { bootMetrics } from '../observability/metrics.js';
import type { ResourceStore } from '../store/store.js';
import { AssetError, localAsset, parseRange, type AssetCache, type AssetFile } from './assets.js';
import type { BootRecorder, ObservedBoot } from './boot-recorder.js';
import { decideBoot, renderFor, scriptHash, type BootAnswer, type MachineFacts } from './decide.js';
import type { CidrAllowlist, ClientRateLimiter, ConcurrencyCap } from './guard.js';
import { firmwareOf, normalizeMac, normalizeUuid, type Firmware } from './identity.js';
import { ASSIGNMENT_MAC_INDEX, ASSIGNMENT_UUID_INDEX, PROFILE_NAME_INDEX, PUBLIC_PROFILE_INDEX, SESSION_ACTIVE_MAC_INDEX } from './indexes.js';
import type { DisklessSession } from '../api/v1alpha1/diskless-session.js';
import { buildSessionScript } from './session-script.js';
import { chapSecretName, parseChapCredentials } from '../targets/chap.js';
import { sessionHosts } from './dhcp/sessions.js';
import { sendFileRange } from './send-file.js';
import { assetFileName, buildChainScript, buildFallbackMenu, buildLocalBootScript } from './scripts.js';
import type { SignedPurpose, UrlSigner } from './signed-url.js';
import { byCodeUnits } from '../order.js';

export type FallbackMode = 'menu' | 'localBoot';
export type NetworkConfigRenderer = (vendor: string, assignments: readonly NodeBootAssignment[], serverUrl: string) => { contentType: string; body: string } | undefined;

export interface BootServerOptions {
  store: ResourceStore;
  /** Audit log: one line per request. */
  log: Logger;
  recorder: BootRecorder;
  signer: UrlSigner;
  assets: AssetCache;
  /** Directory for assets given by path; without it such assets answer 404. */
  assetDirectory?: string;
  /** How machines reach this server (http://192.0.2.1:8082); without it, the request's Host. */
  advertiseUrl?: string;
  fallback: FallbackMode;
  allowlist: CidrAllowlist;
  rateLimiter: ClientRateLimiter;
  concurrency: ConcurrencyCap;
  networkConfig?: NetworkConfigRenderer;
}

const MAX_URL_LENGTH = 2048;
const MAX_QUERY_VALUE = 128;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HOST = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?$/;
const ARCH = /^[a-z0-9_]{0,16}$/;
const PLATFORM = /^(pcbios|efi|)$/;
/** Variants (firmware, server URL, MAC, signing minute) kept per assignment. */
const ANSWERS_PER_ASSIGNMENT = 16;

/** A request the client got wrong: answered with `status` and a message naming what to fix. */
class BadRequest extends Error {
  readonly code = 'BadRequest';
  constructor(readonly status: number, message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

/** Facts for a request's audit line; unset fields are left out of the line. */
class AuditLine {
  route = 'unknown';
  code = 0;
  clientIP = '';
  ms = 0;
  mac: string | undefined = undefined;
  assignment: string | undefined = undefined;
  session: string | undefined = undefined;
  answer: string | undefined = undefined;
  fallback: string | undefined = undefined;
  parameter: string | undefined = undefined;
  profile: string | undefined = undefined;
  asset: string | undefined = undefined;
  error: string | undefined = undefined;

  /** The fields as pino writes them (`,"key":value`, in declaration order, unset ones left out). */
  json(): string {
    let out = `,"route":${jsonString(this.route)},"code":${this.code},"clientIP":${jsonString(this.clientIP)},"ms":${Number.isFinite(this.ms) ? this.ms : null}`;
    if (this.mac !== undefined) out += `,"mac":${jsonString(this.mac)}`;
    if (this.assignment !== undefined) out += `,"assignment":${jsonString(this.assignment)}`;
    if (this.session !== undefined) out += `,"session":${jsonString(this.session)}`;
    if (this.answer !== undefined) out += `,"answer":${jsonString(this.answer)}`;
    if (this.fallback !== undefined) out += `,"fallback":${jsonString(this.fallback)}`;
    if (this.parameter !== undefined) out += `,"parameter":${jsonString(this.parameter)}`;
    if (this.profile !== undefined) out += `,"profile":${jsonString(this.profile)}`;
    if (this.asset !== undefined) out += `,"asset":${jsonString(this.asset)}`;
    if (this.error !== undefined) out += `,"error":${jsonString(this.error)}`;
    return out;
  }
}

const AUDIT_KEYS = Object.keys(new AuditLine());

/** One request on its way through the server (one shape for all, so the hot path stays monomorphic). */
class Exchange {
  route = 'unknown';
  /** Holds a concurrency slot (released when the answer is complete). */
  acquired = false;
  readonly audit = new AuditLine();

  constructor(readonly req: IncomingMessage, readonly res: ServerResponse, readonly clientIP: string, readonly started: number) {}
}

/** Per route: its latency histogram child and its request counters by status code. */
interface RouteCells {
  duration: HistogramCell;
  byCode: Map<number, DeltaCell>;
}

/** What the script cache keeps per cached assignment object. */
interface AssignmentEntry {
  profile: BootProfile;
  /** namespace/name of the assignment and of its profile, made once per object version. */
  key: string;
  profileKey: string;
  answers: Map<string, CachedAnswer>;
  /** The last answer and what it was for: a machine asking again skips building the map key. */
  last?: { firmware: Firmware; serverUrl: string; mac: string | undefined; usedHere: boolean; bucket: number; answer: CachedAnswer };
}

type Query = Record<string, string>;

/** A decision with its body already encoded: the hot path writes bytes, not strings. */
type CachedAnswer = BootAnswer & { bytes?: Buffer };

export interface BootStats {
  requests: number;
  scripts: Record<string, number>;
  bootsByProfile: Record<string, number>;
  fallbacks: Record<string, number>;
  renderFailures: number;
  clientErrors: number;
  serverErrors: number;
  rejected: Record<string, number>;
}

export class BootServer {
  /**
   * Decisions per cached assignment object. The informer replaces an object on every change, so
   * keying on the object itself drops stale entries without bookkeeping; the inner key holds the
   * rest of what the answer depends on.
   */
  private readonly scriptCache = new WeakMap<NodeBootAssignment, AssignmentEntry>();
  private readonly profileKeys = new WeakMap<NodeBootAssignment, string>();
  private readonly chainScripts = new Map<string, Buffer>();
  private readonly stats: BootStats = { requests: 0, scripts: {}, bootsByProfile: {}, fallbacks: {}, renderFailures: 0, clientErrors: 0, serverErrors: 0, rejected: {} };
  private readonly routeCells = new Map<string, RouteCells>();
  private readonly scriptCells = new Map<string, DeltaCell>();
  private readonly inFlight = deltaCell(bootMetrics.inFlight);
  private readonly assetBytes = deltaCell(bootMetrics.assetBytes);
  /** Reused for every boot handed to the recorder (it copies the fields). */
  private readonly observed: ObservedBoot = { timeMs: 0, clientIP: '', scriptHash: '' };
  private lastHost: { host: string; url: string } | undefined;
  /** Response headers of a whole answer: [name, value, …] with the type and length filled in per answer. */
  private readonly headers: (string | number)[] = ['Content-Type', '', 'Content-Length', 0, 'Cache-Control', 'no-store'];
  /**
   * The audit line's logger. Its fields are this file's own (route, code, client address, MAC,
   * object keys, our messages), never a Secret's value or a field the redaction paths name, so
   * it skips the redaction pass, which costs several times the rest of the line.
   */
  private readonly audit: InfoLineWriter;

  constructor(private readonly o: BootServerOptions) {
    this.audit = new InfoLineWriter(o.log.child({}, { redact: [] }), AUDIT_KEYS);
  }

  listen(port: number, host: string): Promise<Server> {
    const server = createServer({ maxHeaderSize: 8192, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => this.handle(req, res));
    server.maxHeadersCount = 64;
    // Requests Node's HTTP parser refuses (a non-ASCII request line, oversized headers) never reach
    // the handler: answer them with a reason too, and count them, instead of a bare 400.
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.stats.clientErrors++;
      if (!socket.writable) return socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const body = tooLarge ? 'request headers too large\n' : 'malformed HTTP request (the request line must be ASCII; percent-encode other characters)\n';
      socket.end(`HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** The request handler, exposed for tests and benchmarks that bring their own server. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const clientIP = req.socket.remoteAddress ?? 'unknown';
    const ex = new Exchange(req, res, clientIP, performance.now());
    this.stats.requests++;
    try {
      if (!this.o.allowlist.allows(clientIP)) throw this.reject('allowlist', new BadRequest(403, 'this client address is not in the boot server\'s allowlist'));
      const wait = this.o.rateLimiter.take(clientIP);
      if (wait > 0) throw this.reject('rateLimit', new BadRequest(429, 'too many requests from this address; slow down', wait));
      if (!this.o.concurrency.tryAcquire()) throw this.reject('concurrency', new BadRequest(503, 'the boot server is at its concurrency limit; retry shortly', 1));
      ex.acquired = true;
      this.inFlight.delta++;
      const done = this.route(ex);
      if (done) {
        // Streamed answers (assets, Secrets) are done when the socket is done with them.
        res.once('close', () => this.complete(ex));
        done.catch((err: unknown) => this.fail(ex, err));
        return;
      }
    } catch (err) {
      this.fail(ex, err);
    }
    // Scripts are answered synchronously: the whole response is written by now.
    this.complete(ex);
  }

  private complete(ex: Exchange): void {
    if (ex.acquired) {
      this.o.concurrency.release();
      this.inFlight.delta--;
    }
    this.finish(ex);
  }

  /** Every route, in one place. Synchronous routes return undefined; streaming ones a promise. */
  private route(ex: Exchange): Promise<void> | undefined {
    const { req } = ex;
    const url = req.url ?? '/';
    if (url.length > MAX_URL_LENGTH) throw new BadRequest(414, `the URL is longer than ${MAX_URL_LENGTH} characters`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new BadRequest(405, 'the boot server answers GET and HEAD only');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);

    if (path === '/boot.ipxe') {
      ex.route = 'chain';
      parseQuery(rawQuery, []);
      const serverUrl = this.serverUrl(ex);
      let chain = this.chainScripts.get(serverUrl);
      if (!chain) {
        if (this.chainScripts.size > 1024) this.chainScripts.clear();
        this.chainScripts.set(serverUrl, (chain = Buffer.from(buildChainScript(serverUrl))));
      }
      return this.send(ex, 200, chain);
    }
    if (path === '/ipxe' || path === '/boot/menu.ipxe') {
      ex.route = 'machine';
      return this.machineScript(ex, parseQuery(rawQuery, ['mac', 'uuid', 'arch', 'platform']));
    }
    if (path === '/ignition' || path === '/cloud-config') {
      ex.route = path.slice(1);
      return this.machineConfig(ex, path === '/ignition' ? 'ignition' : 'cloud-config', parseQuery(rawQuery, ['mac', 'exp', 'sig']));
    }
    if (path === '/api/v1/boot/stats') {
      ex.route = 'stats';
      parseQuery(rawQuery, []);
      return this.send(ex, 200, `${JSON.stringify(this.statistics())}\n`, 'application/json');
    }
    if (path === '/api/v1/boot/network-config') {
      ex.route = 'network-config';
      return this.networkConfig(ex, parseQuery(rawQuery, ['vendor']));
    }
    const parts = path.split('/');
    // /boot/assets/{namespace}/{profile}/{file} or /boot/assets/{profile}/{file}
    if (parts[1] === 'boot' && parts[2] === 'assets' && (parts.length === 5 || parts.length === 6)) {
      ex.route = 'asset';
      parseQuery(rawQuery, []);
      const [namespace, name, file] = parts.length === 6 ? [parts[3], parts[4], parts[5]] : [undefined, parts[3], parts[4]];
      return this.asset(ex, namespace, name!, file!);
    }
    // /boot/{namespace}/{profile}.ipxe or /boot/{profile}.ipxe: public profiles with their defaults
    if (parts[1] === 'boot' && (parts.length === 3 || parts.length === 4) && path.endsWith('.ipxe')) {
      ex.route = 'profile';
      const query = parseQuery(rawQuery, ['arch', 'platform']);
      const [namespace, file] = parts.length === 4 ? [parts[2], parts[3]!] : [undefined, parts[2]!];
      return this.publicProfile(ex, namespace, file.slice(0, -'.ipxe'.length), query);
    }
    throw new BadRequest(404, `no route ${path.length > 64 ? `${path.slice(0, 64)}…` : path}`);
  }

  private machineScript(ex: Exchange, query: Query): Promise<undefined> | undefined {
    const mac = optional(query, 'mac', normalizeMac, 'a MAC address such as 52:54:00:12:34:56');
    const uuid = optional(query, 'uuid', uuidOrNil, 'an SMBIOS UUID');
    const firmware = this.firmware(query);
    const serverUrl = this.serverUrl(ex);
    ex.audit.mac = mac;
    if (!mac && !uuid) {
      if (ex.req.url?.startsWith('/boot/menu.ipxe')) return this.answerFallback(ex, 'UnknownMachine', firmware, serverUrl);
      throw new BadRequest(400, 'query parameter mac or uuid is required (iPXE: mac=${net0/mac}&uuid=${uuid})');
    }
    // A machine in an Active diskless session boots its session disk, whatever its assignment says.
    const session = mac ? this.activeSession(mac) : undefined;
    if (session?.spec.chap) return this.chapSessionScript(ex, session);
    if (session) {
      const script = buildSessionScript(session);
      if (script) {
        ex.audit.session = keyOf(session);
        ex.audit.answer = 'session';
        this.countScript('session');
        return this.send(ex, 200, script);
      }
    }
    const assignment = this.findAssignment(mac, uuid || undefined);
    const profile = assignment ? this.store.get<BootProfile>('BootProfile', this.profileKeyOf(assignment)) : undefined;
    const entry = assignment && profile ? this.entryFor(assignment, profile) : undefined;
    if (assignment) ex.audit.assignment = entry?.key ?? keyOf(assignment);
    const facts: MachineFacts = { mac: mac ?? assignment?.spec.mac?.toLowerCase(), firmware, serverUrl };
    const answer: CachedAnswer = entry ? this.cachedAnswer(assignment!, entry, facts) : decideBoot(assignment, profile, facts);
    ex.audit.answer = answer.kind;
    this.countScript(answer.kind);
    switch (answer.kind) {
      case 'profile': {
        this.stats.bootsByProfile[entry!.profileKey] = (this.stats.bootsByProfile[entry!.profileKey] ?? 0) + 1;
        const boot = this.observed;
        boot.timeMs = Date.now();
        boot.clientIP = ex.clientIP;
        boot.scriptHash = answer.scriptHash;
        boot.firmware = query.platform || undefined;
        boot.arch = query.arch || undefined;
        boot.consumedEpoch = answer.consumesBootOnce ? (assignment!.spec.bootOnceEpoch ?? 0) : undefined;
        this.o.recorder.record(assignment!, boot, entry!.key);
        return this.send(ex, 200, answer.bytes ?? answer.script);
      }
      case 'localBoot':
        // Recorded too: a machine sent to its disk after its one boot is how a network install
        // is seen to have handed over to the installed system.
        this.o.recorder.record(assignment!, {
          timeMs: Date.now(), clientIP: ex.clientIP, scriptHash: answer.script === undefined ? '' : scriptHash(answer.script),
          firmware: query.platform || undefined, arch: query.arch || undefined, answer: 'localBoot',
        });
        if (answer.script === undefined) throw new BadRequest(404, 'this machine has used its one network boot; boot it from its disk');
        return this.send(ex, 200, answer.bytes ?? answer.script);
      case 'fallback':
        return this.answerFallback(ex, answer.reason, firmware, serverUrl);
      case 'renderError':
        this.stats.renderFailures++;
        bootMetrics.renderFailures.inc();
        ex.audit.parameter = answer.parameter;
        // The machine cannot boot what was asked; it is told why (no values, only the name).
        throw new BadRequest(500, `the script for this machine cannot be rendered: parameter ${answer.parameter} is refused or missing (see the NodeBootAssignment's conditions)`);
    }
  }

  /**
   * namespace/name of the profile an assignment boots, made once per assignment object: a string
   * the cache has hashed before is cheaper to look up than a new one.
   */
  private profileKeyOf(assignment: NodeBootAssignment): string {
    let key = this.profileKeys.get(assignment);
    if (key === undefined) this.profileKeys.set(assignment, (key = `${assignment.metadata.namespace}/${assignment.spec.profileRef.name}`));
    return key;
  }

  /** The script cache's entry for this version of the assignment and its profile. */
  private entryFor(assignment: NodeBootAssignment, profile: BootProfile): AssignmentEntry {
    let entry = this.scriptCache.get(assignment);
    if (!entry || entry.profile !== profile) {
      entry = { profile, key: keyOf(assignment), profileKey: keyOf(profile), answers: new Map() };
      this.scriptCache.set(assignment, entry);
    }
    return entry;
  }

  private cachedAnswer(assignment: NodeBootAssignment, entry: AssignmentEntry, facts: MachineFacts): CachedAnswer {
    const signed = Boolean(assignment.spec.ignitionSecretRef || assignment.spec.cloudConfigSecretRef);
    const usedHere = this.o.recorder.usedBootOnce(assignment, Date.now(), entry.key);
    const bucket = signed ? this.o.signer.bucket() : -1;
    const last = entry.last;
    if (last && last.firmware === facts.firmware && last.serverUrl === facts.serverUrl && last.mac === facts.mac && last.usedHere === usedHere && last.bucket === bucket) return last.answer;
    const key = `${facts.firmware}\0${facts.serverUrl}\0${facts.mac}\0${usedHere}\0${signed ? bucket : ''}`;
    let answer = entry.answers.get(key);
    if (!answer) answer = this.render(assignment, entry, facts, usedHere, signed, key);
    entry.last = { firmware: facts.firmware, serverUrl: facts.serverUrl, mac: facts.mac, usedHere, bucket, answer };
    return answer;
  }

  private render(assignment: NodeBootAssignment, entry: AssignmentEntry, facts: MachineFacts, usedHere: boolean, signed: boolean, key: string): CachedAnswer {
    const profile = entry.profile;
    if (signed && facts.mac) {
      if (assignment.spec.ignitionSecretRef) facts.ignitionUrl = `${facts.serverUrl}/ignition?${this.o.signer.sign('ignition', facts.mac)}`;
      if (assignment.spec.cloudConfigSecretRef) facts.cloudConfigUrl = `${facts.serverUrl}/cloud-config?${this.o.signer.sign('cloud-config', facts.mac)}`;
    }
    const answer: CachedAnswer = decideBoot(assignment, profile, { ...facts, bootOnceUsedHere: usedHere });
    if ((answer.kind === 'profile' || answer.kind === 'localBoot') && answer.script !== undefined) answer.bytes = Buffer.from(answer.script);
    if (entry.answers.size >= ANSWERS_PER_ASSIGNMENT) entry.answers.clear();
    entry.answers.set(key, answer);
    return answer;
  }

  private answerFallback(ex: Exchange, reason: string, firmware: Firmware, serverUrl: string): undefined {
    this.count('fallbacks', reason);
    ex.audit.fallback = reason;
    if (this.o.fallback === 'localBoot') return this.send(ex, 200, buildLocalBootScript('exit', firmware, `bootplane: no network boot for this machine (${reason})`)!);
    const profiles = this.store.byIndex<BootProfile>('BootProfile', PUBLIC_PROFILE_INDEX, 'true')
      .filter((p) => !p.spec.unattended)
      .map((p) => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name }));
    return this.send(ex, 200, buildFallbackMenu(serverUrl, profiles));
  }

  private publicProfile(ex: Exchange, namespace: string | undefined, name: string, query: Query): undefined {
    const profile = this.findProfile(namespace, name);
    if (!profile || !profile.spec.public || profile.spec.unattended) throw new BadRequest(404, `no public boot profile ${namespace ? `${namespace}/` : ''}${name}`);
    ex.audit.profile = keyOf(profile);
    const answer = renderFor(profile, undefined, { firmware: this.firmware(query), serverUrl: this.serverUrl(ex) });
    if (answer.kind !== 'profile') {
      this.stats.renderFailures++;
      bootMetrics.renderFailures.inc();
      throw new BadRequest(500, `profile ${keyOf(profile)} cannot be rendered with its defaults: parameter ${answer.kind === 'renderError' ? answer.parameter : '?'} is refused or missing`);
    }
    return this.send(ex, 200, answer.script);
  }

  private async asset(ex: Exchange, namespace: string | undefined, name: string, file: string): Promise<void> {
    if ((namespace !== undefined && !NAME.test(namespace)) || !NAME.test(name)) throw new BadRequest(400, 'the profile in an asset path must be a Kubernetes object name');
    if (!FILE.test(file)) throw new BadRequest(400, 'the asset file name may hold only letters, digits, ".", "_" and "-"');
    const profile = this.findProfile(namespace, name);
    if (!profile) throw new BadRequest(404, `no boot profile ${namespace ? `${namespace}/` : ''}${name}`);
    const spec = profile.spec;
    const assets = [spec.kernel?.kernel, ...(spec.kernel?.initrds ?? []), spec.httpIso?.image].filter((a) => a !== undefined);
    const asset = assets.find((a) => assetFileName(a) === file);
    if (!asset) throw new BadRequest(404, `profile ${keyOf(profile)} has no asset ${file}`);
    ex.audit.asset = `${keyOf(profile)}/${file}`;
    let found: AssetFile;
    try {
      if (asset.url) found = await this.o.assets.get(asset.url, asset.sha256);
      else if (this.o.assetDirectory) found = await localAsset(this.o.assetDirectory, asset.path!);
      else throw new AssetError('AssetNotFound', 'this boot server has no asset directory configured for assets given by path');
    } catch (err) {
      if (err instanceof AssetError) {
        const status = err.code === 'AssetNotFound' || err.code === 'OutsideAssetDirectory' ? 404 : 502;
        throw new BadRequest(status, `asset ${file} of ${keyOf(profile)} is not available: ${err.code}`);
      }
      throw err;
    }
    bootMetrics.assetCacheBytes.set(this.o.assets.bytes);
    this.streamFile(ex, found);
  }

  private streamFile(ex: Exchange, file: AssetFile): void {
    const { req, res } = ex;
    const range = parseRange(req.headers.range, file.size);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    if (range === 'invalid') {
      res.setHeader('Content-Range', `bytes */${file.size}`);
      throw new BadRequest(416, 'the requested range is not satisfiable for this file');
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? file.size - 1;
    res.statusCode = range ? 206 : 200;
    if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`);
    res.setHeader('Content-Length', String(file.size === 0 ? 0 : end - start + 1));
    if (req.method === 'HEAD' || file.size === 0) {
      res.end();
      return;
    }
    sendFileRange(res, file.path, start, end).then(
      (sent) => this.assetBytes.delta += sent,
      (err: unknown) => {
        this.o.log.warn({ err: errorMessage(err) }, 'reading an asset failed');
        res.destroy(err instanceof Error ? err : new Error(errorMessage(err)));
      },
    );
  }

  private async machineConfig(ex: Exchange, purpose: SignedPurpose, query: Query): Promise<void> {
    const mac = normalizeMac(query.mac ?? '');
    if (!mac) throw new BadRequest(400, 'query parameter mac must be a MAC address');
    ex.audit.mac = mac;
    const verdict = this.o.signer.verify(purpose, mac, query.exp ?? '', query.sig ?? '');
    if (verdict === 'expired') throw new BadRequest(403, `this ${purpose} URL has expired; reboot the machine to get a fresh one`);
    if (verdict !== 'valid') throw new BadRequest(403, `this ${purpose} URL is not signed by this boot server`);
    const assignment = this.findAssignment(mac, undefined);
    const ref = purpose === 'ignition' ? assignment?.spec.ignitionSecretRef : assignment?.spec.cloudConfigSecretRef;
    if (!assignment || !ref || assignment.spec.state === 'Disabled') throw new BadRequest(404, `no ${purpose} for this machine`);
    ex.audit.assignment = keyOf(assignment);
    const secret = await this.store.getSecret(assignment.metadata.namespace ?? 'default', ref.name);
    const value = secret?.data[ref.key];
    if (value === undefined) throw new BadRequest(404, `no ${purpose} for this machine: the referenced Secret or key does not exist`);
    this.send(ex, 200, value, purpose === 'ignition' ? 'application/vnd.coreos.ignition+json' : 'text/cloud-config; charset=utf-8');
  }

  /**
   * A CHAP session's script carries its per-session credentials, read from the session's
   * Secret. Without them there is no script that could log in: the machine gets an error to
   * retry rather than a script that would fail at the target.
   */
  private async chapSessionScript(ex: Exchange, session: DisklessSession): Promise<undefined> {
    const secret = await this.store.getSecret(session.metadata.namespace ?? 'default', chapSecretName(session.metadata.name));
    const chap = parseChapCredentials(secret?.data);
    const script = chap ? buildSessionScript(session, chap) : undefined;
    ex.audit.session = keyOf(session);
    if (!script) throw new BadRequest(503, 'the diskless session of this machine is not ready to boot yet; retry');
    ex.audit.answer = 'session';
    this.countScript('session');
    this.send(ex, 200, script);
  }

  private networkConfig(ex: Exchange, query: Query): undefined {
    const vendor = query.vendor ?? '';
    if (!this.o.networkConfig) throw new BadRequest(404, 'network configuration rendering is not available');
    const enabled = [...this.store.list<NodeBootAssignment>('NodeBootAssignment')].filter((a) => a.spec.state !== 'Disabled');
    // Machines of Active diskless sessions are in the DHCP configuration while their session lasts.
    const assignments = [...enabled, ...sessionHosts(this.store.list<DisklessSession>('DisklessSession'), enabled)];
    let rendered: ReturnType<NetworkConfigRenderer>;
    try {
      rendered = this.o.networkConfig(vendor, assignments, this.serverUrl(ex));
    } catch (err) {
      if ((err as { code?: string }).code !== 'DhcpConfigError') throw err;
      throw new BadRequest(409, `the DHCP configuration cannot be rendered: ${errorMessage(err)} (set --boot-advertise-url to http://<IPv4>:<port>, or use bootplane render dhcp)`);
    }
    if (!rendered) throw new BadRequest(400, 'query parameter vendor must be one of mikrotik, dnsmasq, isc, kea');
    return this.send(ex, 200, rendered.body, rendered.contentType);
  }

  // ---- lookups (caches only)

  private get store(): ResourceStore { return this.o.store; }

  /**
   * The script a machine with this MAC or UUID would get now, rendered by the same code the
   * request path uses, without recording a boot or using up a boot-once. Signed Ignition and
   * cloud-config URLs are credentials: the preview shows where the signature goes, never one.
   */
  previewScript(mac: string | undefined, uuid: string | undefined, firmware: Firmware, serverUrl: string): { answer: BootAnswer['kind']; assignment?: string; profile?: string; script?: string; reason?: string } {
    const assignment = this.findAssignment(mac, uuid);
    const profile = assignment ? this.store.get<BootProfile>('BootProfile', `${assignment.metadata.namespace}/${assignment.spec.profileRef.name}`) : undefined;
    const facts: MachineFacts = { mac: mac ?? assignment?.spec.mac?.toLowerCase(), firmware, serverUrl, bootOnceUsedHere: assignment ? this.o.recorder.usedBootOnce(assignment) : false };
    if (assignment?.spec.ignitionSecretRef) facts.ignitionUrl = `${serverUrl}/ignition?<signed-when-served>`;
    if (assignment?.spec.cloudConfigSecretRef) facts.cloudConfigUrl = `${serverUrl}/cloud-config?<signed-when-served>`;
    const answer = decideBoot(assignment, profile, facts);
    const base = { answer: answer.kind, ...(assignment ? { assignment: keyOf(assignment) } : {}), ...(profile ? { profile: keyOf(profile) } : {}) };
    switch (answer.kind) {
      case 'profile': return { ...base, script: answer.script };
      case 'localBoot': return { ...base, ...(answer.script !== undefined ? { script: answer.script } : { reason: 'boot once used: the server answers 404' }) };
      case 'fallback': {
        if (this.o.fallback === 'localBoot') return { ...base, reason: answer.reason, script: buildLocalBootScript('exit', firmware, `bootplane: no network boot for this machine (${answer.reason})`)! };
        const profiles = this.store.byIndex<BootProfile>('BootProfile', PUBLIC_PROFILE_INDEX, 'true').filter((p) => !p.spec.unattended).map((p) => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name }));
        return { ...base, reason: answer.reason, script: buildFallbackMenu(serverUrl, profiles) };
      }
      case 'renderError': return { ...base, reason: `parameter ${answer.parameter} is refused or missing` };
    }
  }

  private findAssignment(mac: string | undefined, uuid: string | undefined): NodeBootAssignment | undefined {
    let found = mac ? this.store.byIndex<NodeBootAssignment>('NodeBootAssignment', ASSIGNMENT_MAC_INDEX, mac) : [];
    if (found.length === 0 && uuid) found = this.store.byIndex<NodeBootAssignment>('NodeBootAssignment', ASSIGNMENT_UUID_INDEX, uuid);
    if (found.length <= 1) return found[0];
    // Several assignments claim this machine: enabled first, then the oldest, so the answer is stable.
    return [...found].sort((a, b) =>
      Number(a.spec.state === 'Disabled') - Number(b.spec.state === 'Disabled')
      || byCodeUnits(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '')
      || byCodeUnits(keyOf(a), keyOf(b)))[0];
  }

  private activeSession(mac: string): DisklessSession | undefined {
    const found = this.store.byIndex<DisklessSession>('DisklessSession', SESSION_ACTIVE_MAC_INDEX, mac);
    if (found.length <= 1) return found[0];
    // The controller lets one session hold a machine; should two look Active for a moment, the older wins.
    return [...found].sort((a, b) => byCodeUnits(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') || byCodeUnits(keyOf(a), keyOf(b)))[0];
  }

  private findProfile(namespace: string | undefined, name: string): BootProfile | undefined {
    if (!NAME.test(name) || (namespace !== undefined && !NAME.test(namespace))) return undefined;
    if (namespace !== undefined) return this.store.get<BootProfile>('BootProfile', `${namespace}/${name}`);
    const matches = this.store.byIndex<BootProfile>('BootProfile', PROFILE_NAME_INDEX, name);
    if (matches.length > 1) throw new BadRequest(409, `profile name ${name} exists in several namespaces; use /boot/{namespace}/${name}`);
    return matches[0];
  }

  private firmware(query: Query): Firmware {
    if (query.platform !== undefined && !PLATFORM.test(query.platform)) throw new BadRequest(400, 'query parameter platform must be pcbios or efi');
    if (query.arch !== undefined && !ARCH.test(query.arch)) throw new BadRequest(400, 'query parameter arch must be an iPXE ${buildarch} such as x86_64 or i386');
    return firmwareOf(query.platform);
  }

  private serverUrl(ex: Exchange): string {
    if (this.o.advertiseUrl) return this.o.advertiseUrl;
    const host = ex.req.headers.host;
    if (host !== undefined && this.lastHost?.host === host) return this.lastHost.url;
    if (!host || !HOST.test(host)) throw new BadRequest(400, 'the Host header must be host[:port]');
    this.lastHost = { host, url: `http://${host}` };
    return this.lastHost.url;
  }

  // ---- answers, audit and metrics

  private send(ex: Exchange, status: number, body: string | Buffer, contentType = 'text/plain; charset=utf-8'): undefined {
    const { res } = ex;
    // One flat header array, reused: writeHead copies it into the response head at once, and an
    // array skips the object walk (headers set earlier with setHeader are merged by Node).
    const headers = this.headers;
    headers[1] = contentType;
    headers[3] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    res.writeHead(status, headers);
    res.end(ex.req.method === 'HEAD' ? undefined : body);
    return undefined;
  }

  private reject(reason: string, err: BadRequest): BadRequest {
    bootMetrics.rejected.inc({ reason });
    this.count('rejected', reason);
    return err;
  }

  private fail(ex: Exchange, err: unknown): void {
    const { res } = ex;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof BadRequest) {
      if (err.retryAfterSeconds) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      if (err.status === 429 || err.status === 503) res.setHeader('Connection', 'close');
      ex.audit.error = err.message;
      this.send(ex, err.status, `${err.message}\n`);
      return;
    }
    ex.audit.error = errorMessage(err);
    this.o.log.error({ err: errorMessage(err), route: ex.route }, 'boot request failed');
    this.send(ex, 500, 'internal error; see the boot server log\n');
  }

  private finish(ex: Exchange): void {
    const code = ex.res.statusCode;
    if (code >= 500) this.stats.serverErrors++;
    else if (code >= 400) this.stats.clientErrors++;
    const seconds = (performance.now() - ex.started) / 1000;
    let cells = this.routeCells.get(ex.route);
    if (!cells) this.routeCells.set(ex.route, (cells = { duration: bootMetrics.duration.cell({ route: ex.route }), byCode: new Map() }));
    let counter = cells.byCode.get(code);
    if (!counter) cells.byCode.set(code, (counter = deltaCell(bootMetrics.requests, { route: ex.route, code: String(code) })));
    counter.delta++;
    cells.duration.observe(seconds);
    const line = ex.audit;
    line.route = ex.route;
    line.code = code;
    line.clientIP = ex.clientIP;
    line.ms = Math.round(seconds * 10_000) / 10;
    if (this.audit.enabled) this.audit.write(line.json(), () => line, 'boot request');
  }

  private count(what: 'fallbacks' | 'rejected', key: string): void {
    this.stats[what][key] = (this.stats[what][key] ?? 0) + 1;
  }

  private countScript(answer: string): void {
    this.stats.scripts[answer] = (this.stats.scripts[answer] ?? 0) + 1;
    let cell = this.scriptCells.get(answer);
    if (!cell) this.scriptCells.set(answer, (cell = deltaCell(bootMetrics.scripts, { answer })));
    cell.delta++;
  }

  statistics(): BootStats & { assignments: { total: number; enabled: number; bootOnce: number }; diskless: DisklessStats; inFlight: number; pendingStatusWrites: number } {
    let total = 0;
    let enabled = 0;
    let bootOnce = 0;
    for (const a of this.store.list<NodeBootAssignment>('NodeBootAssignment')) {
      total++;
      if (a.spec.state !== 'Disabled') enabled++;
      if (a.spec.bootMode === 'Once') bootOnce++;
    }
    return { ...this.stats, assignments: { total, enabled, bootOnce }, diskless: disklessStats(this.store.list<DisklessSession>('DisklessSession')), inFlight: this.o.concurrency.current, pendingStatusWrites: this.o.recorder.pendingCount };
  }
}

export interface DisklessStats {
  /** Sessions by phase now. */
  phases: Record<string, number>;
  active: number;
  /** Sessions that have been Active (startedAt set). */
  started: number;
  stopped: number;
  failed: number;
  /** Bytes copied into the session disks that exist now. */
  bytesCopied: number;
}

/** From the cache, so every replica answers the same. */
export function disklessStats(sessions: Iterable<DisklessSession>): DisklessStats {
  const out: DisklessStats = { phases: {}, active: 0, started: 0, stopped: 0, failed: 0, bytesCopied: 0 };
  for (const s of sessions) {
    const phase = s.status?.phase ?? 'Pending';
    out.phases[phase] = (out.phases[phase] ?? 0) + 1;
    if (phase === 'Active') out.active++;
    if (phase === 'Stopped') out.stopped++;
    if (phase === 'Failed') out.failed++;
    if (s.status?.startedAt) out.started++;
    out.bytesCopied += s.status?.copy?.bytesCopied ?? 0;
  }
  return out;
}

/** Strict query parsing: known keys only, each once, short values, valid percent-encoding. */
function parseQuery(raw: string, allowed: readonly string[]): Query {
  const out: Query = {};
  // One pass over the string: pairs and keys are found in place, only values are cut out.
  for (let start = 0; start < raw.length;) {
    let end = raw.indexOf('&', start);
    if (end < 0) end = raw.length;
    if (end > start) {
      let eq = raw.indexOf('=', start);
      if (eq < 0 || eq > end) eq = end;
      const key = knownKey(raw, start, eq, allowed);
      if (key === undefined) {
        const given = raw.slice(start, eq);
        throw new BadRequest(400, allowed.length === 0 ? 'this route takes no query parameters' : `unknown query parameter ${given.length > 32 ? `${given.slice(0, 32)}…` : given}; expected ${allowed.join(', ')}`);
      }
      if (out[key] !== undefined) throw new BadRequest(400, `query parameter ${key} is given more than once`);
      let value = eq < end ? raw.slice(eq + 1, end) : '';
      if (value.includes('%') || value.includes('+')) {
        try {
          value = decodeURIComponent(value.replaceAll('+', ' '));
        } catch {
          throw new BadRequest(400, `query parameter ${key} is not valid percent-encoding`);
        }
      }
      if (value.length > MAX_QUERY_VALUE) throw new BadRequest(400, `query parameter ${key} is longer than ${MAX_QUERY_VALUE} characters`);
      out[key] = value;
    }
    start = end + 1;
  }
  return out;
}

/**
 * The allowed key spelled at raw[start, end), as the allowed list's own string: V8 looks literal
 * property names up directly, a new string through its string table first.
 */
function knownKey(raw: string, start: number, end: number, allowed: readonly string[]): string | undefined {
  const length = end - start;
  for (const key of allowed) if (key.length === length && raw.startsWith(key, start)) return key;
  return undefined;
}

/** A UUID, '' for iPXE's nil UUID (firmware without one), undefined when invalid. */
function uuidOrNil(v: string): string | undefined {
  return normalizeUuid(v) ?? (v === '00000000-0000-0000-0000-000000000000' ? '' : undefined);
}

function optional(query: Query, key: string, normalize: (v: string) => string | undefined, what: string): string | undefined {
  const value = query[key];
  if (value === undefined || value === '') return undefined;
  const normalized = normalize(value);
  if (normalized === undefined) throw new BadRequest(400, `query parameter ${key} must be ${what}`);
  return normalized;
}
