// SIMULATOR ONLY - not a Proxmox VE server. An HTTPS server on loopback that answers the PVE API
// calls bootplane makes, with PVE's behaviours (see ../shared/pve-api/behaviours.md): the
// /api2/json envelope and error shapes, token and ticket auth, UPID tasks with logs, digests,
// pending changes on running VMs, locks, cloud-init volumes, download-url. Every request is
// validated against the official schema (endpoints.json) and so is every reply; a reply that
// breaks the schema is a simulator bug, recorded in schemaViolations and answered with a 500.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SimAuth } from './auth.js';
import { selfSignedCertificate, type SelfSignedCertificate } from './certificate.js';
import { paramError, SimCluster, SimError, type SimVm } from './cluster.js';
import { Faults } from './faults.js';
import { SimExecNotFound, type SimGuest } from './guest.js';
import { PveSchema, validateParams, validateReturn, type Route } from './schema.js';
import { applyConfigUpdate, applyPending, precheckConfigUpdate, type ConfigRequest } from './vm-config.js';
import { simCloneVm, simCreateVm } from './create.js';

export interface SimulatorOptions {
  nodes?: string[];
  certificate?: SelfSignedCertificate;
  schema?: PveSchema;
  /** Fixed port (to come back on the same address after stop()); 0 picks one. */
  port?: number;
}

interface Call {
  route: Route;
  params: Record<string, unknown>;
  user: string;
  tokenid?: string;
}

type Handler = (call: Call) => unknown;

export class PveSimulator {
  readonly cluster: SimCluster;
  readonly auth = new SimAuth();
  readonly faults = new Faults();
  readonly certificate: SelfSignedCertificate;
  readonly schema: PveSchema;
  /** Replies that did not match the schema (must stay empty). */
  readonly schemaViolations: string[] = [];
  /** Every call served, as "METHOD /path" (benchmarks count them). */
  readonly calls: string[] = [];
  private server: Server | undefined;
  private port: number;
  private readonly handlers = new Map<string, Handler>();
  private readonly configKeys: Set<string>;

  constructor(options: SimulatorOptions = {}) {
    this.cluster = new SimCluster(options.nodes);
    this.certificate = options.certificate ?? selfSignedCertificate();
    this.schema = options.schema ?? PveSchema.load();
    this.port = options.port ?? 0;
    const route = this.schema.match('POST', '/nodes/x/qemu/100/config');
    this.configKeys = new Set('properties' in route ? Object.keys(route.properties) : []);
    this.registerHandlers();
  }

  get endpoint(): string { return `https://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    const server = createServer({ cert: this.certificate.cert, key: this.certificate.key }, (req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every connection (PVE gone); start() brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Waits for all tasks started so far to stop. */
  async settle(): Promise<void> {
    await Promise.all([...this.cluster.tasks.values()].map((t) => t.finished));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://sim');
      if (!url.pathname.startsWith('/api2/json/')) return this.reply(res, 501, `Method '${req.method} ${url.pathname}' not implemented`, { data: null, message: `Method '${req.method} ${url.pathname}' not implemented` });
      const path = url.pathname.slice('/api2/json'.length);
      const method = req.method ?? 'GET';
      this.calls.push(`${method} ${path}`);
      const body = await readBody(req);
      if (this.faults.latencyMs) await sleep(this.faults.latencyMs);
      this.faults.runInterceptors(method, path);
      // Never answers; the client's timeout must fire. afterHandling: handled first, reply lost.
      const hang = this.faults.takeHang(method, path);
      if (hang && !hang.afterHandling) return;
      const injected = this.faults.takeError(method, path);
      if (injected) return this.reply(res, injected.status, injected.message, { data: null, message: `${injected.message}\n` });

      const route = this.schema.match(method, path);
      if ('notImplemented' in route) return this.reply(res, 501, `Method '${method} ${path}' not implemented`, { data: null, message: `Method '${method} ${path}' not implemented` });

      const publicCall = path === '/access/ticket';
      let user = '';
      let tokenid: string | undefined;
      if (!publicCall) {
        const auth = this.auth.authenticate(method, req.headers);
        if (!auth.ok) {
          if (this.faults.authFailureDelayMs) await sleep(this.faults.authFailureDelayMs);
          res.writeHead(401, auth.reason).end();
          return;
        }
        user = auth.user;
        tokenid = auth.tokenid;
      } else if (method === 'POST' && extractsToken(req)) {
        return this.reply(res, 403, 'Permission check failed', { data: null, message: "Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.)\n" });
      }

      // Body first, then the query string over it, then the path (a conflicting repeat is refused).
      const params: Record<string, string | string[]> = { ...parseBody(req.headers['content-type'], body) };
      for (const [k, v] of groupParams(url.searchParams)) params[k] = v;
      for (const [k, v] of Object.entries(route.pathParams)) {
        if (k in params && params[k] !== v) return this.replyError(res, paramError({ [k]: 'duplicate parameter (already defined in URI) with conflicting values!' }));
        params[k] = v;
      }
      const { errors, values } = validateParams(route.properties, params, this.schema.namedFormats);
      if (Object.keys(errors).length) return this.replyError(res, paramError(errors));

      const handler = this.handlers.get(`${method} ${route.template}`);
      if (!handler) return this.reply(res, 501, `Method '${method} ${route.template}' not implemented`, { data: null, message: `Method '${method} ${route.template}' not implemented by the simulator` });
      let data: unknown;
      try {
        data = await handler({ route, params: values, user, tokenid });
      } catch (err) {
        if (hang) return;
        if (err instanceof SimError) return this.replyError(res, err);
        throw err;
      }
      if (hang) return;
      const violations = validateReturn(route.method.returns, data);
      if (violations.length) {
        this.schemaViolations.push(...violations.map((v) => `${method} ${route.template}: ${v}`));
        return this.reply(res, 500, 'simulator reply violates the PVE schema', { data: null, message: `simulator reply violates the PVE schema: ${violations.join('; ')}\n` });
      }
      const envelope: Record<string, unknown> = { data: data ?? null };
      if (route.template.endsWith('/tasks/{upid}/log') && Array.isArray(data)) envelope.total = (data as unknown[]).length;
      this.reply(res, 200, 'OK', envelope);
    } catch (err) {
      this.reply(res, 500, 'simulator error', { data: null, message: `simulator error: ${(err as Error).message}\n` });
    }
  }

  private replyError(res: ServerResponse, err: SimError): void {
    const reason = err.message.split('\n')[0]!;
    const body: Record<string, unknown> = { data: null, message: err.message };
    if (err.errors) body.errors = err.errors;
    this.reply(res, err.status, reason, body);
  }

  private reply(res: ServerResponse, status: number, reason: string, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, /[\r\n]/.test(reason) ? undefined : reason, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private on(method: string, template: string, handler: Handler): void {
    this.handlers.set(`${method} ${template}`, handler);
  }

  private registerHandlers(): void {
    const c = this.cluster;
    const vmOf = (p: Record<string, unknown>) => { c.node(p.node as string); return c.vm(p.node as string, p.vmid as number); };
    const taskUser = (call: Call) => (call.tokenid ? `${call.user}!${call.tokenid}` : call.user);

    this.on('GET', '/version', () => ({ ...c.version }));
    this.on('POST', '/access/ticket', ({ params }) => {
      const ticket = this.auth.login(params.username as string, params.password as string, params.realm as string | undefined);
      if (!ticket) throw new SimError(401, 'authentication failure\n');
      return ticket;
    });
    this.on('GET', '/nodes', () => [...c.nodes].map(([node, n]) => ({
      node, status: n.online ? 'online' : 'offline', id: `node/${node}`, type: 'node', ssl_fingerprint: this.certificate.fingerprintSHA256,
      maxcpu: 8, cpu: 0.05, maxmem: 64 * 2 ** 30, mem: 8 * 2 ** 30, uptime: 86400, level: '', disk: 0, maxdisk: 0,
    })));
    this.on('GET', '/nodes/{node}/qemu', ({ params }) => {
      c.node(params.node as string);
      return [...c.vms.values()].filter((vm) => vm.node === params.node).map((vm) => vmSummary(c.effectiveConfig(vm), vm));
    });
    this.on('GET', '/nodes/{node}/storage', ({ params }) => {
      c.node(params.node as string);
      return [...c.storages.values()]
        .filter((s) => !params.content || (params.content as string).split(',').some((ct) => s.content.includes(ct)))
        .filter((s) => !params.storage || s.storage === params.storage)
        .map((s) => {
          const used = [...s.volumes.values()].reduce((n, v) => n + v.size, 0);
          return { storage: s.storage, type: s.type, content: s.content.join(','), active: 1, enabled: 1, shared: s.shared ? 1 : 0, total: s.total, used, avail: s.total - used, used_fraction: used / s.total };
        });
    });
    this.on('GET', '/nodes/{node}/storage/{storage}/content', ({ params }) => {
      c.node(params.node as string);
      const storage = c.storages.get(params.storage as string);
      if (!storage) throw new SimError(500, `storage '${params.storage}' does not exist\n`);
      return [...storage.volumes.values()]
        .filter((v) => !params.content || v.content === params.content)
        .filter((v) => params.vmid === undefined || v.vmid === params.vmid)
        // A storage that is not shared is a different disk on each node: a VM's images are
        // listed on the node that has the VM. (ISOs and snippets have no owner here and are
        // listed on every node, as if each node held the same copies.)
        .filter((v) => storage.shared || v.vmid === undefined || (c.vms.get(v.vmid)?.node ?? params.node) === params.node)
        .map((v) => ({ volid: v.volid, format: v.format, content: v.content, size: v.size, ctime: v.ctime, ...(v.vmid ? { vmid: v.vmid } : {}) }));
    });
    this.on('POST', '/nodes/{node}/storage/{storage}/download-url', (call) => this.downloadUrl(call, taskUser(call)));

    this.on('GET', '/nodes/{node}/tasks/{upid}/status', ({ params }) => {
      const task = c.tasks.get(params.upid as string);
      if (!task || task.node !== params.node) throw new SimError(500, `no such task\n`);
      const [user, tokenid] = task.user.split('!');
      return { upid: task.upid, node: task.node, pid: task.pid, pstart: task.pstart, starttime: task.starttime, type: task.type, id: task.id, user, ...(tokenid ? { tokenid } : {}), status: task.status, ...(task.exitstatus ? { exitstatus: task.exitstatus } : {}) };
    });
    this.on('GET', '/nodes/{node}/tasks/{upid}/log', ({ params }) => {
      const task = c.tasks.get(params.upid as string);
      if (!task || task.node !== params.node) throw new SimError(500, `no such task\n`);
      const start = (params.start as number | undefined) ?? 0;
      const limit = (params.limit as number | undefined) ?? 50;
      return task.log.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
    });

    this.on('GET', '/nodes/{node}/qemu/{vmid}/config', ({ params }) => {
      const vm = vmOf(params);
      const config = params.current ? { ...vm.config } : c.effectiveConfig(vm);
      if (config.cipassword) config.cipassword = '**********';
      return { ...this.typedConfig(config), digest: c.digest(vm) };
    });
    this.on('GET', '/nodes/{node}/qemu/{vmid}/pending', ({ params }) => {
      const vm = vmOf(params);
      const keys = new Set([...Object.keys(vm.config), ...Object.keys(vm.pending), ...vm.pendingDelete.keys()]);
      const items: { key: string; value?: string; pending?: string; delete?: number }[] = [...keys].sort().map((key) => ({
        key,
        ...(key in vm.config ? { value: key === 'cipassword' ? '**********' : vm.config[key] } : {}),
        ...(key in vm.pending ? { pending: key === 'cipassword' ? '**********' : vm.pending[key] } : {}),
        ...(vm.pendingDelete.has(key) ? { delete: vm.pendingDelete.get(key) } : {}),
      }));
      items.push({ key: 'digest', value: c.digest(vm) });
      return items;
    });
    this.on('POST', '/nodes/{node}/qemu/{vmid}/config', (call) => {
      const vm = vmOf(call.params);
      const req = this.configRequest(call.params);
      precheckConfigUpdate(c, vm, req, this.configKeys);
      return c.startTask(vm.node, 'qmconfig', String(vm.vmid), taskUser(call), this.faults.taskDurationMs, (log) => {
        // 9.2: the digest and lock are checked again inside the worker.
        precheckConfigUpdate(c, vm, req, this.configKeys);
        applyConfigUpdate(c, vm, req, log);
      }, this.faults.takeTaskFailure('qmconfig')).upid;
    });
    this.on('PUT', '/nodes/{node}/qemu/{vmid}/config', (call) => {
      const vm = vmOf(call.params);
      const req = this.configRequest(call.params);
      precheckConfigUpdate(c, vm, req, this.configKeys);
      applyConfigUpdate(c, vm, req, () => undefined);
      return null;
    });
    this.on('PUT', '/nodes/{node}/qemu/{vmid}/cloudinit', ({ params }) => {
      const vm = vmOf(params);
      if (vm.config.lock) throw new SimError(500, `VM is locked (${vm.config.lock})\n`);
      return null;
    });

    this.on('GET', '/nodes/{node}/qemu/{vmid}/snapshot', ({ params }) => {
      const vm = vmOf(params);
      const names = [...vm.snapshots.keys()];
      const items: Record<string, unknown>[] = [...vm.snapshots].map(([name, s]) => ({
        name, description: s.description, snaptime: s.snaptime, ...(s.vmstate ? { vmstate: 1 } : {}), ...(s.parent ? { parent: s.parent } : {}),
      }));
      items.push({ name: 'current', description: 'You are here!', ...(names.length ? { parent: names[names.length - 1] } : {}) });
      return items;
    });
    this.on('POST', '/nodes/{node}/qemu/{vmid}/snapshot', (call) => {
      const vm = vmOf(call.params);
      const name = call.params.snapname as string;
      // Reserved names are refused before the fork (Qemu.pm snapshot); the rest runs in the worker.
      if (name === 'current' || name === 'pending') throw new SimError(500, `unable to use snapshot name '${name}' (reserved name)\n`);
      return c.startTask(vm.node, 'qmsnapshot', String(vm.vmid), taskUser(call), this.faults.taskDurationMs, (log) => {
        if (vm.config.lock) throw new SimError(500, `VM is locked (${vm.config.lock})`);
        if (vm.snapshots.has(name)) throw new SimError(500, `snapshot name '${name}' already used`);
        if (!c.canSnapshot(vm)) throw new SimError(500, 'snapshot feature is not available');
        const vmstate = Boolean(call.params.vmstate) && vm.running;
        if (vmstate) log('saving VM state and RAM using storage \'local\'');
        const parent = [...vm.snapshots.keys()].pop();
        vm.snapshots.set(name, { description: (call.params.description as string | undefined) ?? '', snaptime: Math.floor(Date.now() / 1000), vmstate, ...(parent ? { parent } : {}) });
        log(`snapshotting VM ${vm.vmid} as '${name}'`);
      }, this.faults.takeTaskFailure('qmsnapshot')).upid;
    });
    this.on('DELETE', '/nodes/{node}/qemu/{vmid}', (call) => {
      const vm = vmOf(call.params);
      if (vm.running) throw new SimError(500, `VM ${vm.vmid} is running - destroy failed\n`);
      return c.startTask(vm.node, 'qmdestroy', String(vm.vmid), taskUser(call), this.faults.taskDurationMs, (log) => {
        if (vm.config.lock) throw new SimError(500, `VM is locked (${vm.config.lock})`);
        // destroy_vm frees every volume the VM owns (vm-<id>-*), referenced or not with purge;
        // ISOs and other VMs' volumes stay.
        for (const volid of c.ownedVolumes(vm.vmid)) {
          c.free(volid);
          log(`Removing image: 100% complete...done. (${volid})`);
        }
        c.vms.delete(vm.vmid);
      }, this.faults.takeTaskFailure('qmdestroy')).upid;
    });

    this.on('GET', '/nodes/{node}/qemu/{vmid}/status/current', ({ params }) => {
      const vm = vmOf(params);
      return { ...vmSummary(c.effectiveConfig(vm), vm), qmpstatus: vm.running ? 'running' : 'stopped', ha: { managed: 0 } };
    });
    const power = (action: 'start' | 'stop' | 'shutdown' | 'reboot') => (call: Call) => {
      const vm = vmOf(call.params);
      if (action === 'reboot' && !vm.running) throw new SimError(500, `VM ${vm.vmid} not running\n`);
      return c.startTask(vm.node, `qm${action}`, String(vm.vmid), taskUser(call), this.faults.taskDurationMs, (log) => this.power(vm, action, log), this.faults.takeTaskFailure(`qm${action}`)).upid;
    };
    this.on('POST', '/nodes/{node}/qemu/{vmid}/status/start', power('start'));
    this.on('POST', '/nodes/{node}/qemu/{vmid}/status/stop', power('stop'));
    this.on('POST', '/nodes/{node}/qemu/{vmid}/status/shutdown', power('shutdown'));
    this.on('POST', '/nodes/{node}/qemu/{vmid}/status/reboot', power('reboot'));
    this.on('POST', '/nodes/{node}/qemu', (call) => simCreateVm(c, call.params, {
      user: taskUser(call), durationMs: this.faults.taskDurationMs, failure: this.faults.takeTaskFailure('qmcreate'),
      start: (vm, log) => this.power(vm, 'start', log),
    }).upid);
    this.on('POST', '/nodes/{node}/qemu/{vmid}/clone', (call) => simCloneVm(c, call.params, {
      user: taskUser(call), durationMs: this.faults.taskDurationMs, failure: this.faults.takeTaskFailure('qmclone'),
    }).upid);

    // The guest agent (QS:src/PVE/API2/Qemu/Agent.pm): synchronous, after assert_agent_available.
    const agentOf = (p: Record<string, unknown>): SimGuest => {
      const vm = vmOf(p);
      const config = c.effectiveConfig(vm);
      if (config.agent === undefined) throw new SimError(500, 'No QEMU guest agent configured\n');
      if (!vm.running) throw new SimError(500, `VM ${vm.vmid} is not running\n`);
      // agent: 0 passes the check above, but without the virtio-serial port the ping times out.
      const enabled = !/^(0|enabled=0)(,|$)|(^|,)enabled=0(,|$)/.test(config.agent);
      const guest = vm.guest;
      if (!enabled || !guest || !guest.agentRunning || Date.now() - (vm.startedAt ?? 0) < guest.agentStartDelayMs) throw new SimError(500, 'QEMU guest agent is not running\n');
      return guest;
    };
    const agentCall = <T>(call: () => T): T => {
      try {
        return call();
      } catch (err) {
        if (err instanceof SimExecNotFound) throw new SimError(500, `Agent error: ${err.message}\n`);
        throw err;
      }
    };
    this.on('POST', '/nodes/{node}/qemu/{vmid}/agent/ping', ({ params }) => { agentOf(params); return { result: {} }; });
    this.on('GET', '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces', ({ params }) => ({
      result: agentOf(params).interfaces.map((i) => ({
        name: i.name, 'hardware-address': i.mac,
        'ip-addresses': i.ipv4 ? [{ 'ip-address': i.ipv4, 'ip-address-type': 'ipv4', prefix: 24 }] : [],
        statistics: { 'rx-bytes': 0, 'tx-bytes': 0, 'rx-packets': 0, 'tx-packets': 0, 'rx-errs': 0, 'tx-errs': 0, 'rx-dropped': 0, 'tx-dropped': 0 },
      })),
    }));
    this.on('POST', '/nodes/{node}/qemu/{vmid}/agent/exec', ({ params }) => {
      const guest = agentOf(params);
      const command = params.command as string[] | undefined;
      if (!command?.length && params['input-data'] === undefined) throw new SimError(500, 'command or input-data (or both) required\n');
      return { pid: agentCall(() => guest.start(command ?? [], params['input-data'] as string | undefined)) };
    });
    this.on('GET', '/nodes/{node}/qemu/{vmid}/agent/exec-status', ({ params }) => {
      const result = agentOf(params).status(params.pid as number);
      if (!result) throw new SimError(500, `Agent error: Invalid parameter 'pid'\n`);
      return { exited: 1, exitcode: result.exitcode, ...(result.out ? { 'out-data': result.out } : {}), ...(result.err ? { 'err-data': result.err } : {}) };
    });
    this.on('POST', '/nodes/{node}/qemu/{vmid}/agent/file-write', ({ params }) => {
      const guest = agentOf(params);
      const raw = params.content as string;
      const content = params.encode === 0 ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      agentCall(() => guest.writeFile(params.file as string, content));
      return null;
    });
  }

  private power(vm: SimVm, action: 'start' | 'stop' | 'shutdown' | 'reboot', log: (line: string) => void): void {
    if (vm.config.lock) throw new SimError(500, `VM is locked (${vm.config.lock})`);
    if (action === 'start') {
      if (vm.running) throw new SimError(500, `VM ${vm.vmid} already running`);
      applyPending(this.cluster, vm, log); // vm_start applies [PENDING] and regenerates cloud-init
      vm.running = true;
      vm.startedAt = Date.now();
    } else if (action === 'reboot') {
      applyPending(this.cluster, vm, log);
      vm.startedAt = Date.now();
    } else {
      vm.running = false;
      vm.startedAt = undefined;
    }
  }

  private configRequest(params: Record<string, unknown>): ConfigRequest {
    const set: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (['node', 'vmid', 'digest', 'delete', 'revert', 'force', 'skiplock', 'background_delay'].includes(k)) continue;
      set[k] = String(v);
    }
    // cdrom is ide2 with media=cdrom added when missing.
    if ('cdrom' in set) {
      const v = set.cdrom!;
      delete set.cdrom;
      set.ide2 = /(^|,)media=/.test(v) ? v : `${v},media=cdrom`;
    }
    const list = (v: unknown) => (typeof v === 'string' ? v.replace(/[,;]/g, ' ').split(/\s+/).filter(Boolean).map((k) => (k === 'cdrom' ? 'ide2' : k)) : []);
    return { set, delete: list(params.delete), revert: list(params.revert), force: params.force === 1, digest: params.digest as string | undefined };
  }

  /** Config values typed as qemu-server prints them: integers and booleans as numbers, the rest strings. */
  private typedConfig(config: Record<string, string>): Record<string, string | number> {
    const route = this.schema.match('GET', '/nodes/x/qemu/100/config');
    const props = 'notImplemented' in route ? {} : (route.method.returns?.properties ?? {});
    const out: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(config)) {
      const type = props[k.replace(/\d+$/, '[n]')]?.type ?? props[k]?.type;
      out[k] = type === 'integer' || type === 'boolean' ? Number(v) : v;
    }
    return out;
  }

  private downloadUrl(call: Call, user: string): string {
    const c = this.cluster;
    const p = call.params;
    c.node(p.node as string);
    const storage = c.storages.get(p.storage as string);
    if (!storage) throw new SimError(500, `storage '${p.storage}' does not exist\n`);
    if (storage.type !== 'dir' && storage.type !== 'nfs') throw new SimError(500, `storage '${storage.storage}' is not a file based storage\n`);
    const content = p.content as string;
    if (!storage.content.includes(content)) throw new SimError(500, `storage '${storage.storage}' is not configured for content-type '${content}'\n`);
    // normalize_content_filename: path stripped, anything outside [a-zA-Z0-9_.-] becomes '_'.
    const filename = (p.filename as string).replace(/^.*\//, '').replace(/[^a-zA-Z0-9_.-]/g, '_');
    if (content === 'iso' && !/\.(iso|img)$/i.test(filename)) throw paramError({ filename: 'wrong file extension' });
    const volid = `${storage.storage}:${content}/${filename}`;
    const filePath = `${storage.path ?? '/mnt/pve/' + storage.storage}/template/${content}/${filename}`;
    const algorithm = p['checksum-algorithm'] as string | undefined;
    const expected = (p.checksum as string | undefined)?.toLowerCase();
    return c.startTask(p.node as string, 'download', filename, user, this.faults.taskDurationMs, async (log) => {
      const existing = storage.volumes.get(volid);
      if (existing) {
        if (expected && algorithm && existing.bytes && createHash(algorithm).update(existing.bytes).digest('hex') === expected) {
          log('OK, got correct file already, no need to download');
          return;
        }
        throw new SimError(500, `refusing to override existing file '${filePath}'`);
      }
      log(`downloading ${p.url} to ${filePath}`);
      const response = await fetch(p.url as string, { signal: AbortSignal.timeout(60_000) });
      if (!response.ok) throw new SimError(500, `download failed: ${response.status} ${response.statusText}`);
      const bytes = await readWithProgress(response, log);
      log(`download of '${p.url}' to '${filePath}' finished`);
      if (expected && algorithm) {
        const got = createHash(algorithm).update(bytes).digest('hex');
        if (got !== expected) throw new SimError(500, `checksum mismatch: got '${got}' != expect '${expected}', aborting`);
        log(`calculating checksum... OK, checksum verified`);
      }
      storage.volumes.set(volid, { volid, format: content === 'iso' ? 'iso' : 'raw', content: content as 'iso', size: bytes.length, ctime: Math.floor(Date.now() / 1000), bytes });
    }, this.faults.takeTaskFailure('download')).upid;
  }
}

function vmSummary(config: Record<string, string>, vm: SimVm): Record<string, unknown> {
  return {
    vmid: vm.vmid, status: vm.running ? 'running' : 'stopped', name: config.name ?? `VM ${vm.vmid}`,
    cpus: Number(config.cores ?? 1), maxmem: Number(/\d+/.exec(config.memory ?? '512')?.[0] ?? 512) * 2 ** 20, mem: 0, maxdisk: 0, disk: 0,
    uptime: vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0, cpu: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0,
    ...(config.lock ? { lock: config.lock } : {}), ...(config.tags ? { tags: config.tags } : {}), ...(config.template === '1' ? { template: 1 } : {}),
  };
}

/**
 * The body of a download, logged as PVE's download task logs it (wget --progress=dot): a Length
 * line, then a line with the percentage so far as each chunk arrives.
 */
async function readWithProgress(response: Response, log: (line: string) => void): Promise<Buffer> {
  const length = Number(response.headers.get('content-length') ?? NaN);
  log(Number.isFinite(length) ? `Length: ${length} [${response.headers.get('content-type') ?? 'application/octet-stream'}]` : 'Length: unspecified');
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response.body ?? []) {
    chunks.push(Buffer.from(chunk));
    received += chunk.length;
    if (Number.isFinite(length) && length > 0) log(`${String(Math.floor((received - chunk.length) / 1024)).padStart(6)}K ........ ${Math.floor((received / length) * 100)}% 1.00M 0s`);
  }
  return Buffer.concat(chunks);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form bodies split on & and ; (decode_urlencoded); a repeated key becomes an array. JSON works too. */
function parseBody(contentType: string | undefined, body: string): Record<string, string | string[]> {
  if (!body) return {};
  if (contentType?.startsWith('application/json')) {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(JSON.parse(body) as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? v.map(String) : typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    }
    return out;
  }
  const out: Record<string, string | string[]> = {};
  for (const pair of body.split(/[&;]/)) {
    if (!pair) continue;
    const [rawKey, rawValue = ''] = pair.split('=');
    const key = decodeURIComponent(rawKey!.replace(/\+/g, ' '));
    const value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function groupParams(search: URLSearchParams): Map<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const [k, v] of search) {
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return out;
}

function extractsToken(req: IncomingMessage): boolean {
  return /(?:^|\s)PVEAPIToken(?:=| )/.test(req.headers.authorization ?? '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
