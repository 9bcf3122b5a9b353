// libvirt RPC packets: a 4-byte total length (itself included), a 24-byte header, then the XDR
// payload. The framer turns a byte stream into whole packets however the transport splits it.
import { HEADER_BYTES, MAX_PACKET_BYTES } from './protocol.js';

export interface PacketHeader {
  program: number;
  version: number;
  procedure: number;
  type: number;
  serial: number;
  status: number;
}

export interface Packet {
  header: PacketHeader;
  payload: Buffer;
}

export class FramingError extends Error {
  readonly code = 'FramingError';
}

export function encodePacket(header: PacketHeader, payload: Buffer = Buffer.alloc(0)): Buffer {
  const total = HEADER_BYTES + payload.length;
  if (total > MAX_PACKET_BYTES) throw new FramingError(`packet of ${total} bytes exceeds ${MAX_PACKET_BYTES}`);
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(header.program, 4);
  out.writeUInt32BE(header.version, 8);
  out.writeInt32BE(header.procedure, 12);
  out.writeInt32BE(header.type, 16);
  out.writeUInt32BE(header.serial, 20);
  out.writeInt32BE(header.status, 24);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export class PacketFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds bytes; returns the packets completed by them, in order. */
  push(chunk: Buffer): Packet[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Packet[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const total = head.readUInt32BE(0);
      if (total < HEADER_BYTES || total > MAX_PACKET_BYTES) throw new FramingError(`invalid packet length ${total}`);
      if (this.buffered < total) break;
      const bytes = this.take(total);
      out.push({
        header: {
          program: bytes.readUInt32BE(4),
          version: bytes.readUInt32BE(8),
          procedure: bytes.readInt32BE(12),
          type: bytes.readInt32BE(16),
          serial: bytes.readUInt32BE(20),
          status: bytes.readInt32BE(24),
        },
        payload: bytes.subarray(HEADER_BYTES),
      });
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const first = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = first.subarray(0, n);
    const rest = first.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
