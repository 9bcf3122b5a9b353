// One open RPC connection to libvirtd: serial numbers, calls awaiting replies, a bound on calls
// in flight (libvirtd's max_client_requests is 5 by default; more would queue in the daemon and
// starve keepalive), keepalive, asynchronous messages (events) and upload streams. It does not
// reconnect: LibvirtClient owns that and opens a new RpcConnection.
import type { Duplex } from 'node:stream';
import { LibvirtConnectionError, LibvirtError } from './errors.js';
import { encodePacket, PacketFramer, type Packet } from './packet.js';
import {
  KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, KeepaliveProc, PacketStatus, PacketType, STREAM_CHUNK_BYTES,
} from './protocol.js';
import { readRemoteError } from './types.js';
import { XdrReader } from './xdr.js';

export interface CallTarget {
  program: number;
  version: number;
  procedure: number;
  /** For error messages: e.g. DOMAIN_LOOKUP_BY_NAME. */
  name: string;
}

export interface ConnectionOptions {
  maxInFlight: number;
  /** A PING is sent after this much silence; the connection is dropped after `keepaliveCount` unanswered. */
  keepaliveIntervalMs: number;
  keepaliveCount: number;
  onMessage?: (packet: Packet) => void;
  onClose?: (err: Error) => void;
}

interface Pending {
  target: CallTarget;
  resolve: (payload: Buffer) => void;
  reject: (err: Error) => void;
}

class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason instanceof Error ? signal!.reason : new LibvirtError('Aborted', 'call aborted while waiting for a free slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    // the releasing caller handed its slot over: active stays the same
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  get inUse(): number { return this.active; }
}

export class RpcConnection {
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly framer = new PacketFramer();
  private readonly slots: Semaphore;
  private closedWith: Error | undefined;
  private lastHeard = Date.now();
  private unansweredPings = 0;
  private readonly keepaliveTimer: NodeJS.Timeout;

  constructor(private readonly stream: Duplex, private readonly options: ConnectionOptions) {
    this.slots = new Semaphore(options.maxInFlight);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => this.fail(new LibvirtConnectionError(`libvirt connection failed: ${err.message}`, { cause: err })));
    // 'end' as well as 'close': a half-open duplex (an ssh pipe) may never close on its own.
    stream.on('end', () => this.fail(new LibvirtConnectionError('libvirt connection closed by the daemon')));
    stream.on('close', () => this.fail(new LibvirtConnectionError('libvirt connection closed by the daemon')));
    this.keepaliveTimer = setInterval(() => this.keepalive(), Math.max(50, Math.floor(options.keepaliveIntervalMs / 2)));
    this.keepaliveTimer.unref();
  }

  get closed(): boolean { return this.closedWith !== undefined; }
  get inFlight(): number { return this.slots.inUse; }

  /** Sends a call and resolves with the reply payload; a daemon error rejects with LibvirtError. */
  async call(target: CallTarget, payload: Buffer, signal?: AbortSignal): Promise<Buffer> {
    await this.slots.acquire(signal);
    try {
      return await this.send(target, payload, signal);
    } finally {
      this.slots.release();
    }
  }

  /**
   * A call that opens an upload stream (STORAGE_VOL_UPLOAD): the reply opens the stream, the data
   * follows as STREAM packets with status CONTINUE, an empty OK packet ends it, and the daemon
   * confirms with its own OK (or an ERROR) on the stream.
   */
  async upload(target: CallTarget, payload: Buffer, data: AsyncIterable<Buffer> | Buffer, signal?: AbortSignal): Promise<void> {
    await this.slots.acquire(signal);
    try {
      const serial = this.nextSerial();
      const opened = this.expect(serial, target);
      this.writeOrForget(opened, serial, target, PacketType.CALL, PacketStatus.OK, payload);
      await opened;
      const finished = this.expect(serial, target);
      // The daemon answers a broken stream early with an ERROR: stop writing when that happens.
      let failed: Error | undefined;
      finished.catch((err: Error) => { failed = err; });
      const chunks = Buffer.isBuffer(data) ? [data] : data;
      for await (const chunk of chunks) {
        for (let off = 0; off < chunk.length; off += STREAM_CHUNK_BYTES) {
          if (failed) throw failed;
          if (signal?.aborted) {
            this.write(target, PacketType.STREAM, serial, PacketStatus.ERROR, Buffer.alloc(0));
            throw new LibvirtError('Aborted', `${target.name}: upload aborted`);
          }
          await this.writeAndDrain(target, PacketType.STREAM, serial, PacketStatus.CONTINUE, chunk.subarray(off, off + STREAM_CHUNK_BYTES));
        }
      }
      this.write(target, PacketType.STREAM, serial, PacketStatus.OK, Buffer.alloc(0));
      await finished;
    } finally {
      this.slots.release();
    }
  }

  close(): void {
    this.fail(new LibvirtConnectionError('libvirt connection closed'));
  }

  private send(target: CallTarget, payload: Buffer, signal?: AbortSignal): Promise<Buffer> {
    const serial = this.nextSerial();
    const reply = this.expect(serial, target, signal);
    this.writeOrForget(reply, serial, target, PacketType.CALL, PacketStatus.OK, payload);
    return reply;
  }

  /**
   * Writes a packet whose reply is already awaited; when the write throws (the connection closed
   * meanwhile) the reply promise is settled here, so it never surfaces as an unhandled rejection.
   */
  private writeOrForget(reply: Promise<unknown>, serial: number, target: CallTarget, type: number, status: number, payload: Buffer): void {
    try {
      this.write(target, type, serial, status, payload);
    } catch (err) {
      reply.catch(() => undefined);
      this.pending.delete(serial);
      throw err;
    }
  }

  private expect(serial: number, target: CallTarget, signal?: AbortSignal): Promise<Buffer> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => {
        // The reply may still come; it is dropped because the serial is forgotten.
        this.pending.delete(serial);
        reject(new LibvirtError('Aborted', `${target.name}: aborted (${String(signal?.reason ?? 'signal')})`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(serial, {
        target,
        resolve: (p) => { signal?.removeEventListener('abort', onAbort); resolve(p); },
        reject: (e) => { signal?.removeEventListener('abort', onAbort); reject(e); },
      });
    });
  }

  private nextSerial(): number {
    const s = this.serial;
    this.serial = this.serial >= 0x7fffffff ? 1 : this.serial + 1;
    return s;
  }

  private write(target: Pick<CallTarget, 'program' | 'version' | 'procedure'>, type: number, serial: number, status: number, payload: Buffer): boolean {
    if (this.closedWith) throw this.closedWith;
    return this.stream.write(encodePacket({ program: target.program, version: target.version, procedure: target.procedure, type, serial, status }, payload));
  }

  private async writeAndDrain(target: CallTarget, type: number, serial: number, status: number, payload: Buffer): Promise<void> {
    if (this.write(target, type, serial, status, payload)) return;
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(this.closedWith ?? new LibvirtConnectionError('closed during upload'));
      this.stream.once('drain', () => { this.stream.off('close', onClose); resolve(); });
      this.stream.once('close', onClose);
    });
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = Date.now();
    this.unansweredPings = 0;
    let packets: Packet[];
    try {
      packets = this.framer.push(chunk);
    } catch (err) {
      this.fail(new LibvirtConnectionError(`libvirt protocol error: ${(err as Error).message}`, { cause: err }));
      this.stream.destroy();
      return;
    }
    for (const packet of packets) this.dispatch(packet);
  }

  private dispatch(packet: Packet): void {
    const { header } = packet;
    if (header.program === KEEPALIVE_PROGRAM) {
      if (header.procedure === KeepaliveProc.PING) {
        this.write({ program: KEEPALIVE_PROGRAM, version: KEEPALIVE_PROTOCOL_VERSION, procedure: KeepaliveProc.PONG }, PacketType.MESSAGE, 0, PacketStatus.OK, Buffer.alloc(0));
      }
      return;
    }
    if (header.type === PacketType.MESSAGE) {
      this.options.onMessage?.(packet);
      return;
    }
    if (header.type !== PacketType.REPLY && header.type !== PacketType.STREAM && header.type !== PacketType.REPLY_WITH_FDS) return;
    const waiting = this.pending.get(header.serial);
    if (!waiting) return; // an aborted call's late reply
    this.pending.delete(header.serial);
    if (header.status === PacketStatus.OK) {
      waiting.resolve(packet.payload);
    } else if (header.status === PacketStatus.ERROR) {
      try {
        waiting.reject(LibvirtError.fromRemote(waiting.target.name, readRemoteError(new XdrReader(packet.payload))));
      } catch (err) {
        waiting.reject(new LibvirtError('ProtocolError', `${waiting.target.name}: undecodable error reply: ${(err as Error).message}`));
      }
    } else {
      // CONTINUE on a download stream: not used by any procedure we call.
      this.pending.set(header.serial, waiting);
    }
  }

  private keepalive(): void {
    if (this.closedWith) return;
    const silentMs = Date.now() - this.lastHeard;
    if (silentMs < this.options.keepaliveIntervalMs) return;
    if (this.unansweredPings >= this.options.keepaliveCount) {
      this.fail(new LibvirtConnectionError(`libvirtd did not answer ${this.unansweredPings} keepalive pings in ${silentMs} ms`));
      this.stream.destroy();
      return;
    }
    this.unansweredPings++;
    this.lastHeard = Date.now() - this.options.keepaliveIntervalMs / 2;
    this.write({ program: KEEPALIVE_PROGRAM, version: KEEPALIVE_PROTOCOL_VERSION, procedure: KeepaliveProc.PING }, PacketType.MESSAGE, 0, PacketStatus.OK, Buffer.alloc(0));
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    clearInterval(this.keepaliveTimer);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.stream.destroy();
    this.options.onClose?.(err);
  }
}
