// RpcConnection against a scripted peer (a fake daemon on an in-memory duplex pair): keepalive
// both ways, the in-flight bound, error replies and a closing peer.
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RpcConnection, type CallTarget } from './connection.js';
import { LibvirtConnectionError, LibvirtError } from './errors.js';
import { encodePacket, PacketFramer, type Packet } from './packet.js';
import { KEEPALIVE_PROGRAM, KeepaliveProc, PacketStatus, PacketType, REMOTE_PROGRAM } from './protocol.js';
import { writeRemoteError } from './types.js';
import { XdrWriter } from './xdr.js';

/** Two connected in-memory streams: what one writes, the other reads. */
function pair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex) => new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) { peer().push(chunk); cb(); },
    final(cb) { peer().push(null); cb(); },
  });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}

/** A scripted daemon: hands each packet it receives to `onPacket`, with a way to answer. */
function fakeDaemon(stream: Duplex, onPacket: (p: Packet, reply: (header: Partial<Packet['header']>, payload?: Buffer) => void) => void): void {
  const framer = new PacketFramer();
  stream.on('data', (chunk: Buffer) => {
    for (const p of framer.push(chunk)) {
      onPacket(p, (header, payload) => stream.write(encodePacket({ ...p.header, type: PacketType.REPLY, status: PacketStatus.OK, ...header }, payload)));
    }
  });
}

const target: CallTarget = { program: REMOTE_PROGRAM, version: 1, procedure: 23, name: 'DOMAIN_LOOKUP_BY_NAME' };
const options = { maxInFlight: 5, keepaliveIntervalMs: 60_000, keepaliveCount: 5 };

describe('RpcConnection', () => {
  it('matches replies to calls by serial, whatever order they come in', async () => {
    const [client, daemon] = pair();
    const held: (() => void)[] = [];
    fakeDaemon(daemon, (p, reply) => held.push(() => reply({}, new XdrWriter().uint(p.header.serial).bytes())));
    const conn = new RpcConnection(client, options);
    const calls = [1, 2, 3].map(() => conn.call(target, Buffer.alloc(0)));
    await new Promise((r) => setTimeout(r, 10));
    for (const answer of held.reverse()) answer();
    const serials = (await Promise.all(calls)).map((b) => b.readUInt32BE(0));
    expect(serials).toEqual([1, 2, 3]);
    conn.close();
  });

  it('keeps at most maxInFlight calls outstanding', async () => {
    const [client, daemon] = pair();
    let outstanding = 0;
    let peak = 0;
    fakeDaemon(daemon, (_p, reply) => {
      peak = Math.max(peak, ++outstanding);
      setTimeout(() => { outstanding--; reply({}); }, 5);
    });
    const conn = new RpcConnection(client, { ...options, maxInFlight: 2 });
    await Promise.all(Array.from({ length: 12 }, () => conn.call(target, Buffer.alloc(0))));
    expect(peak).toBe(2);
    conn.close();
  });

  it('turns an error reply into a LibvirtError with libvirt\'s code and message', async () => {
    const [client, daemon] = pair();
    fakeDaemon(daemon, (_p, reply) => {
      const w = new XdrWriter();
      writeRemoteError(w, { code: 42, domain: 10, message: "Domain not found: no domain with matching name 'x'", level: 2 });
      reply({ status: PacketStatus.ERROR }, w.bytes());
    });
    const conn = new RpcConnection(client, options);
    const err = await conn.call(target, Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({ code: 'LibvirtNoDomain', libvirtCode: 42 });
    expect((err as Error).message).toBe("DOMAIN_LOOKUP_BY_NAME: Domain not found: no domain with matching name 'x' (libvirt error 42)");
    conn.close();
  });

  it('answers the daemon\'s PING with a PONG', async () => {
    const [client, daemon] = pair();
    const pongs: Packet[] = [];
    fakeDaemon(daemon, (p) => { if (p.header.program === KEEPALIVE_PROGRAM) pongs.push(p); });
    const conn = new RpcConnection(client, options);
    daemon.write(encodePacket({ program: KEEPALIVE_PROGRAM, version: 1, procedure: KeepaliveProc.PING, type: PacketType.MESSAGE, serial: 0, status: 0 }));
    await new Promise((r) => setTimeout(r, 10));
    expect(pongs.map((p) => p.header.procedure)).toEqual([KeepaliveProc.PONG]);
    conn.close();
  });

  it('pings a silent daemon and gives up after keepaliveCount unanswered pings, failing pending calls', async () => {
    const [client, daemon] = pair();
    const pings: Packet[] = [];
    fakeDaemon(daemon, (p) => { if (p.header.program === KEEPALIVE_PROGRAM) pings.push(p); });
    let closedWith: Error | undefined;
    const conn = new RpcConnection(client, { maxInFlight: 5, keepaliveIntervalMs: 40, keepaliveCount: 3, onClose: (e) => { closedWith = e; } });
    const pending = conn.call(target, Buffer.alloc(0)).catch((e: unknown) => e);
    const err = await pending;
    expect(err).toBeInstanceOf(LibvirtConnectionError);
    expect((err as Error).message).toMatch(/did not answer 3 keepalive pings/);
    expect(pings.length).toBe(3);
    expect(closedWith).toBe(err);
    expect(conn.closed).toBe(true);
  });

  it('fails calls in flight when the daemon closes the connection', async () => {
    const [client, daemon] = pair();
    fakeDaemon(daemon, () => daemon.end());
    const conn = new RpcConnection(client, options);
    await expect(conn.call(target, Buffer.alloc(0))).rejects.toBeInstanceOf(LibvirtConnectionError);
    await expect(conn.call(target, Buffer.alloc(0))).rejects.toThrow(/closed/);
  });
});
