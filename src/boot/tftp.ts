// A read-only TFTP server (RFC 1350) for the first hop of a network boot: the PXE ROM fetches
// iPXE (undionly.kpxe, ipxe.efi, snponly.efi) and iPXE then fetches the chain script that sends
// it to the HTTP server. Options blksize (RFC 2348), tsize and timeout (RFC 2349) are answered
// with an OACK, as PXE ROMs and iPXE ask for them. Only a fixed list of names is served, so a
// request can never name another file.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../kube/errors.js';
import { bootMetrics } from '../observability/metrics.js';

const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;
const ERR = { NotDefined: 0, FileNotFound: 1, AccessViolation: 2, IllegalOperation: 4, UnknownTid: 5, BadOption: 8 } as const;

/** Binaries from Debian's ipxe package (or the configured directory). */
export const IPXE_BINARIES = ['undionly.kpxe', 'undionly.kkpxe', 'ipxe.pxe', 'ipxe.efi', 'snponly.efi'] as const;
/** Script names iPXE asks a TFTP server for; both answer the chain to the HTTP server. */
export const CHAIN_SCRIPT_NAMES = ['boot.ipxe', 'autoexec.ipxe'] as const;

export interface TftpOptions {
  directory: string;
  /** The chain script served as boot.ipxe/autoexec.ipxe; undefined serves binaries only. */
  chainScript?: string;
  log: Logger;
  maxTransfers?: number;
  retries?: number;
}

export interface TftpRequest {
  opcode: number;
  filename: string;
  mode: string;
  options: Map<string, string>;
}

export function parseRequest(packet: Buffer): TftpRequest | string {
  if (packet.length < 4) return 'packet too short';
  const opcode = packet.readUInt16BE(0);
  const fields: string[] = [];
  let start = 2;
  for (let i = 2; i < packet.length; i++) {
    if (packet[i] === 0) {
      fields.push(packet.toString('latin1', start, i));
      start = i + 1;
    }
  }
  if (start !== packet.length) return 'request fields must end with NUL';
  const [filename, mode, ...rest] = fields;
  if (!filename || !mode) return 'request needs a file name and a mode';
  const options = new Map<string, string>();
  for (let i = 0; i + 1 < rest.length; i += 2) options.set(rest[i]!.toLowerCase(), rest[i + 1]!);
  return { opcode, filename, mode: mode.toLowerCase(), options };
}

/** The options we accept and the values we answer in the OACK (RFC 2347: omit what we refuse). */
export function negotiate(options: Map<string, string>, size: number): { blksize: number; timeoutMs: number; oack: Map<string, string> } {
  const oack = new Map<string, string>();
  let blksize = 512;
  let timeoutMs = 1000;
  const b = Number(options.get('blksize'));
  if (options.has('blksize') && Number.isInteger(b) && b >= 8) {
    // 1468 keeps a block within a 1500-byte Ethernet frame; larger requests are lowered (allowed by RFC 2348).
    blksize = Math.min(b, 1468);
    oack.set('blksize', String(blksize));
  }
  if (options.has('tsize')) oack.set('tsize', String(size));
  const t = Number(options.get('timeout'));
  if (options.has('timeout') && Number.isInteger(t) && t >= 1 && t <= 255) {
    timeoutMs = t * 1000;
    oack.set('timeout', String(t));
  }
  return { blksize, timeoutMs, oack };
}

function errorPacket(code: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([0, OP.ERROR, 0, code]), Buffer.from(message, 'latin1'), Buffer.from([0])]);
}

export class TftpServer {
  private socket: Socket | undefined;
  private transfers = 0;
  private readonly files = new Map<string, { data: Buffer; mtimeMs: number }>();

  constructor(private readonly o: TftpOptions) {}

  async listen(port: number, host: string): Promise<number> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => void this.onRequest(msg, rinfo));
    socket.on('error', (err) => this.o.log.error({ err: errorMessage(err) }, 'TFTP socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
  }

  private async onRequest(packet: Buffer, client: RemoteInfo): Promise<void> {
    const request = parseRequest(packet);
    // Every transfer answers from a fresh port (the server's transfer ID, RFC 1350 section 4).
    const reply = createSocket('udp4');
    const send = (buf: Buffer) => new Promise<void>((resolve) => reply.send(buf, client.port, client.address, () => resolve()));
    reply.on('error', () => undefined);
    const audit = { client: client.address, file: typeof request === 'string' ? undefined : request.filename };
    try {
      await new Promise<void>((resolve) => reply.bind(0, undefined, () => resolve()));
      if (typeof request === 'string') return await this.refuse(send, ERR.IllegalOperation, request, audit);
      if (request.opcode === OP.WRQ) return await this.refuse(send, ERR.AccessViolation, 'this TFTP server is read-only', audit);
      if (request.opcode !== OP.RRQ) return await this.refuse(send, ERR.IllegalOperation, 'expected a read request', audit);
      if (request.mode !== 'octet' && request.mode !== 'netascii') return await this.refuse(send, ERR.IllegalOperation, `unsupported mode ${request.mode}`, audit);
      const data = await this.file(request.filename.replace(/^\/+/, ''));
      if (!data) return await this.refuse(send, ERR.FileNotFound, `no file ${request.filename.slice(0, 64)}: this server offers ${[...IPXE_BINARIES, ...CHAIN_SCRIPT_NAMES].join(', ')}`, audit);
      if (this.transfers >= (this.o.maxTransfers ?? 64)) return await this.refuse(send, ERR.NotDefined, 'too many transfers in progress; retry shortly', audit);
      this.transfers++;
      try {
        await this.transfer(reply, send, client, data, request.options);
        bootMetrics.tftpTransfers.inc({ result: 'success' });
        this.o.log.info({ ...audit, bytes: data.length }, 'tftp transfer');
      } finally {
        this.transfers--;
      }
    } catch (err) {
      bootMetrics.tftpTransfers.inc({ result: 'failed' });
      this.o.log.warn({ ...audit, err: errorMessage(err) }, 'tftp transfer failed');
    } finally {
      reply.close();
    }
  }

  private async refuse(send: (b: Buffer) => Promise<void>, code: number, message: string, audit: Record<string, unknown>): Promise<void> {
    bootMetrics.tftpTransfers.inc({ result: 'refused' });
    this.o.log.info({ ...audit, error: message }, 'tftp request refused');
    await send(errorPacket(code, message));
  }

  private async file(name: string): Promise<Buffer | undefined> {
    if ((CHAIN_SCRIPT_NAMES as readonly string[]).includes(name)) return this.o.chainScript === undefined ? undefined : Buffer.from(this.o.chainScript);
    if (!(IPXE_BINARIES as readonly string[]).includes(name)) return undefined;
    const path = join(this.o.directory, name);
    try {
      const s = await stat(path);
      const cached = this.files.get(name);
      if (cached && cached.mtimeMs === s.mtimeMs) return cached.data;
      const data = await readFile(path);
      this.files.set(name, { data, mtimeMs: s.mtimeMs });
      return data;
    } catch {
      return undefined;
    }
  }

  /** Lock-step transfer: send a block, wait for its ACK, resend on timeout. */
  private async transfer(reply: Socket, send: (b: Buffer) => Promise<void>, client: RemoteInfo, data: Buffer, options: Map<string, string>): Promise<void> {
    const { blksize, timeoutMs, oack } = negotiate(options, data.length);
    const retries = this.o.retries ?? 5;
    const acks: number[] = [];
    let wake: (() => void) | undefined;
    reply.on('message', (msg, from) => {
      if (from.port !== client.port || from.address !== client.address) {
        reply.send(errorPacket(ERR.UnknownTid, 'unknown transfer ID'), from.port, from.address);
        return;
      }
      if (msg.length >= 4 && msg.readUInt16BE(0) === OP.ACK) {
        acks.push(msg.readUInt16BE(2));
        wake?.();
      } else if (msg.length >= 2 && msg.readUInt16BE(0) === OP.ERROR) {
        acks.push(-1);
        wake?.();
      }
    });
    const awaitAck = async (block: number, packet: Buffer): Promise<void> => {
      for (let attempt = 0; attempt <= retries; attempt++) {
        await send(packet);
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const got = acks.shift();
          if (got === -1) throw new Error('client aborted the transfer');
          if (got === block) return;
          if (got !== undefined) continue; // duplicate ACK of an earlier block: ignore (no Sorcerer's Apprentice)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, deadline - Date.now());
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      }
      throw new Error(`no ACK for block ${block} after ${retries + 1} tries`);
    };

    if (oack.size > 0) {
      const parts: Buffer[] = [Buffer.from([0, OP.OACK])];
      for (const [k, v] of oack) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
      await awaitAck(0, Buffer.concat(parts));
    }
    const blocks = Math.floor(data.length / blksize) + 1; // the last block is short, possibly empty
    for (let i = 0; i < blocks; i++) {
      const number = (i + 1) % 65536;
      const chunk = data.subarray(i * blksize, Math.min(data.length, (i + 1) * blksize));
      const packet = Buffer.allocUnsafe(4 + chunk.length);
      packet.writeUInt16BE(OP.DATA, 0);
      packet.writeUInt16BE(number, 2);
      chunk.copy(packet, 4);
      await awaitAck(number, packet);
    }
  }
}
