// Shapes of the PVE replies the client reads (the subset of each documented return schema we
// use; PVE sends more and unknown keys are ignored).
import type { Upid } from './upid.js';

/** A VM config as GET .../config returns it: integers and booleans as numbers, the rest strings. */
export type VmConfig = Record<string, string | number>;

export interface PendingItem {
  key: string;
  value?: string | number;
  pending?: string | number;
  delete?: number;
}

export interface VmStatus {
  vmid: number;
  status: 'running' | 'stopped';
  qmpstatus?: string;
  name?: string;
  lock?: string;
  uptime?: number;
}

export interface VmListItem {
  vmid: number;
  status: 'running' | 'stopped';
  name?: string;
  template?: number;
  lock?: string;
  tags?: string;
}

export interface NodeItem {
  node: string;
  status: 'online' | 'offline' | 'unknown';
  ssl_fingerprint?: string;
}

export interface StorageItem {
  storage: string;
  type: string;
  content: string;
  active?: number;
  enabled?: number;
  shared?: number;
  total?: number;
  used?: number;
  avail?: number;
}

export interface StorageContentItem {
  volid: string;
  format: string;
  content?: string;
  size: number;
  /** Bytes the volume takes on its storage (images on storages that know it). */
  used?: number;
  ctime?: number;
  vmid?: number;
}

/** GET /nodes/{node}/tasks/{upid}/status: the UPID's own fields, plus how the task is doing. */
export interface TaskStatusReply extends Upid {
  upid: string;
  tokenid?: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
}

export interface TaskLogLine {
  n: number;
  t: string;
}

export interface VersionReply {
  version: string;
  release: string;
  repoid: string;
}

export interface DownloadUrlParams {
  content: 'iso' | 'vztmpl' | 'import';
  filename: string;
  url: string;
  checksum?: string;
  'checksum-algorithm'?: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
  'verify-certificates'?: boolean;
}

/** POST …/agent/exec. */
export interface AgentExecReply {
  pid: number;
}

/** GET …/agent/exec-status: out-data and err-data come already base64-decoded; booleans as 0/1. */
export interface AgentExecStatus {
  exited: boolean | 0 | 1;
  exitcode?: number;
  signal?: number;
  'out-data'?: string;
  'err-data'?: string;
  'out-truncated'?: boolean | 0 | 1;
  'err-truncated'?: boolean | 0 | 1;
}

/** One entry of …/agent/network-get-interfaces (the raw QGA reply). */
export interface AgentInterface {
  name: string;
  'hardware-address'?: string;
  'ip-addresses'?: { 'ip-address': string; 'ip-address-type': string; prefix?: number }[];
}

/** GET /nodes/{node}/qemu/{vmid}/snapshot: one snapshot, or name "current" for the running state. */
export interface SnapshotItem {
  name: string;
  description: string;
  parent?: string;
  snaptime?: number;
  vmstate?: number;
}
