// Wire types of the procedures we call (remote_protocol.x / qemu_protocol.x), as XDR encoders
// and decoders. Mechanical: one function per struct, field order as in the .x files.
import type { XdrReader, XdrWriter } from './xdr.js';

const UUID_BYTES = 16;
const STRING_MAX = 4 * 1024 * 1024;

export interface DomainRef {
  name: string;
  /** 32 hex digits with dashes, as virsh prints it. */
  uuid: string;
  /** -1 while the domain is not running. */
  id: number;
}

export interface PoolRef {
  name: string;
  uuid: string;
}

export interface VolumeRef {
  pool: string;
  name: string;
  /** The volume's key (a path for dir pools). */
  key: string;
}

export interface RemoteErrorFields {
  code: number;
  domain: number;
  message?: string;
  level: number;
}

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`invalid UUID ${JSON.stringify(uuid)}`);
  return Buffer.from(hex, 'hex');
}

export function uuidFromBytes(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const writeDomain = (w: XdrWriter, d: DomainRef): void => {
  w.string(d.name).fixedOpaque(uuidToBytes(d.uuid), UUID_BYTES).int(d.id);
};
export const readDomain = (r: XdrReader): DomainRef => ({ name: r.string(STRING_MAX), uuid: uuidFromBytes(r.fixedOpaque(UUID_BYTES)), id: r.int() });

export const writePool = (w: XdrWriter, p: PoolRef): void => {
  w.string(p.name).fixedOpaque(uuidToBytes(p.uuid), UUID_BYTES);
};
export const readPool = (r: XdrReader): PoolRef => ({ name: r.string(STRING_MAX), uuid: uuidFromBytes(r.fixedOpaque(UUID_BYTES)) });

export const writeVolume = (w: XdrWriter, v: VolumeRef): void => {
  w.string(v.pool).string(v.name).string(v.key);
};
export const readVolume = (r: XdrReader): VolumeRef => ({ pool: r.string(STRING_MAX), name: r.string(STRING_MAX), key: r.string(STRING_MAX) });

const readNetwork = (r: XdrReader): { name: string; uuid: string } => ({ name: r.string(STRING_MAX), uuid: uuidFromBytes(r.fixedOpaque(UUID_BYTES)) });

/** remote_error: only code, domain, message and level matter to callers; the rest is read past. */
export function readRemoteError(r: XdrReader): RemoteErrorFields {
  const code = r.int();
  const domain = r.int();
  const message = r.optional((x) => x.string(STRING_MAX));
  const level = r.int();
  r.optional(readDomain);
  r.optional((x) => x.string(STRING_MAX));
  r.optional((x) => x.string(STRING_MAX));
  r.optional((x) => x.string(STRING_MAX));
  r.int();
  r.int();
  r.optional(readNetwork);
  return { code, domain, message, level };
}

export function writeRemoteError(w: XdrWriter, e: RemoteErrorFields): void {
  w.int(e.code).int(e.domain).optional(e.message, (x, m) => x.string(m)).int(e.level);
  w.bool(false).bool(false).bool(false).bool(false).int(0).int(0).bool(false);
}

export interface PoolInfo {
  state: number;
  capacityBytes: number;
  allocationBytes: number;
  availableBytes: number;
}
export const readPoolInfo = (r: XdrReader): PoolInfo => ({
  state: r.int(), capacityBytes: r.uhyperNumber(), allocationBytes: r.uhyperNumber(), availableBytes: r.uhyperNumber(),
});

export interface VolumeInfo {
  type: number;
  capacityBytes: number;
  allocationBytes: number;
}
export const readVolumeInfo = (r: XdrReader): VolumeInfo => ({ type: r.int(), capacityBytes: r.uhyperNumber(), allocationBytes: r.uhyperNumber() });

export interface BlockInfo {
  capacityBytes: number;
  allocationBytes: number;
  physicalBytes: number;
}
export const readBlockInfo = (r: XdrReader): BlockInfo => ({ allocationBytes: r.uhyperNumber(), capacityBytes: r.uhyperNumber(), physicalBytes: r.uhyperNumber() });

export interface LifecycleMessage {
  callbackId: number;
  domain: DomainRef;
  event: number;
  detail: number;
}
export const readLifecycleMessage = (r: XdrReader): LifecycleMessage => ({ callbackId: r.int(), domain: readDomain(r), event: r.int(), detail: r.int() });
