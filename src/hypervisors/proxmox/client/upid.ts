// UPIDs name Proxmox tasks: UPID:<node>:<pid hex>:<pstart hex>:<starttime hex>:<type>:<id>:<user>:
// (PVE::Tools::upid_encode). The node in it says which node to ask about the task.

export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

export function parseUpid(value: string): Upid | undefined {
  const m = UPID_RE.exec(value);
  if (!m) return undefined;
  return {
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime: parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}

export function formatUpid(u: Upid): string {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  return `UPID:${u.node}:${hex(u.pid, 8)}:${hex(u.pstart, 8)}:${hex(u.starttime, 8)}:${u.type}:${u.id}:${u.user}:`;
}

export function isUpid(value: unknown): value is string {
  return typeof value === 'string' && UPID_RE.test(value);
}

/** PVE's rule (PVE::Tools::upid_status_is_error): anything but OK or WARNINGS: n is a failure. */
export function taskExitIsError(exitstatus: string): boolean {
  return !(exitstatus === 'OK' || /^WARNINGS: \d+$/.test(exitstatus));
}
