// The one interface the DisklessSession controller uses to publish a disk over iSCSI, like
// hypervisors/driver.ts for VMs. A driver holds targets by IQN; numbering (tgt's tids, LIO's
// TPGs) stays inside the driver.
//
// Writing another driver (a kernel LIO target through configfs or targetcli, a storage
// appliance's API):
// - every method is idempotent: the controller calls them again after a crash or a restart of
//   the target daemon, and the target table is rebuilt from the sessions alone;
// - `list` reports what the target holds now; the controller compares it with the sessions, so
//   a driver keeps no state of its own that the target itself cannot tell;
// - `admit` must leave the target open to exactly the given initiator (and address, when given
//   and the target can require both): a target bootplane made is never open to every
//   initiator, not even for a moment (create, add the LUN, then admit; the target refuses
//   logins until admitted);
// - `remove` ends connections and deletes the target, never the backing file (image copies are
//   the controller's, see images/).
// - errors are TargetError with a code from TargetErrorCode, so the controller can turn them
//   into conditions without parsing messages.

export interface InitiatorAdmission {
  /** The only initiator IQN the target accepts. */
  iqn: string;
  /**
   * The initiator's address, when known (an assignment's ipAddress). Drivers that can require
   * name AND address do; tgt cannot (its rules admit name OR address) and admits by name only.
   */
  address?: string;
  /** CHAP credentials the initiator must present; undefined: no CHAP. Never logged. */
  chap?: { username: string; password: string };
}

export interface TargetConnection {
  initiator: string;
  address: string;
}

export interface TargetState {
  iqn: string;
  /** LUN number → backing file. */
  luns: Map<number, string>;
  /** Initiator IQNs the target admits; empty means any IQN from an admitted address. */
  initiators: string[];
  /** Addresses the target admits ('ALL' for any). */
  addresses: string[];
  /** CHAP user names bound to the target. */
  chapUsers: string[];
  connections: TargetConnection[];
}

export interface TargetDriver {
  readonly name: string;
  /** Every target the driver holds now, by IQN. */
  list(): Promise<Map<string, TargetState>>;
  /** Creates an empty target that admits nobody; does nothing when it exists. */
  createTarget(iqn: string): Promise<void>;
  /** Adds a LUN backed by a file on the target host; does nothing when it exists with that file. */
  addLun(iqn: string, lun: number, backingFile: string): Promise<void>;
  /** Admits exactly this initiator (replacing any other admission). */
  admit(iqn: string, initiator: InitiatorAdmission): Promise<void>;
  /** Initiators connected to the target now. */
  connections(iqn: string): Promise<TargetConnection[]>;
  /** Ends the target's connections and deletes it; does nothing when it does not exist. */
  remove(iqn: string): Promise<void>;
}

export type TargetErrorCode =
  /** The target daemon does not answer (not running, restarting). */
  | 'TargetDaemonUnavailable'
  /** The portal address is taken by another process. */
  | 'TargetPortInUse'
  /** The driver refused the request (bad IQN, missing backing file). */
  | 'TargetRefused'
  /** The target is gone. */
  | 'TargetNotFound';

export class TargetError extends Error {
  constructor(readonly code: TargetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
