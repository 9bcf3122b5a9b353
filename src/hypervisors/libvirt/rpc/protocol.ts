// The mechanical part of libvirt's remote protocol: program ids, procedure numbers, packet
// types and statuses, flag values and error codes, as remote_protocol.x, qemu_protocol.x,
// virnetprotocol.x, virkeepaliveprotocol.x and libvirt's public headers define them. Numbers
// only; no logic lives here.

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
export const QEMU_PROGRAM = 0x20008087;
export const QEMU_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;

export const KeepaliveProc = { PING: 1, PONG: 2 } as const;

/** virNetMessageType */
export const PacketType = { CALL: 0, REPLY: 1, MESSAGE: 2, STREAM: 3, CALL_WITH_FDS: 4, REPLY_WITH_FDS: 5, STREAM_HOLE: 6 } as const;
/** virNetMessageStatus */
export const PacketStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

/** Length word + program, version, procedure, type, serial, status. */
export const HEADER_BYTES = 28;
/** libvirtd's VIR_NET_MESSAGE_MAX (32 MiB in current releases; 16 MiB is the older bound we stay under). */
export const MAX_PACKET_BYTES = 16 * 1024 * 1024;
/** Stream chunk size, under VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX (262120) so old daemons accept it. */
export const STREAM_CHUNK_BYTES = 256 * 1024 - 64;

export const RemoteProc = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  CONNECT_GET_TYPE: 3,
  CONNECT_GET_VERSION: 4,
  CONNECT_GET_CAPABILITIES: 7,
  DOMAIN_CREATE: 9,
  DOMAIN_DEFINE_XML: 11,
  DOMAIN_DESTROY: 12,
  DOMAIN_GET_XML_DESC: 14,
  DOMAIN_LOOKUP_BY_NAME: 23,
  DOMAIN_LOOKUP_BY_UUID: 24,
  DOMAIN_REBOOT: 27,
  DOMAIN_SHUTDOWN: 33,
  DOMAIN_UNDEFINE: 35,
  CONNECT_GET_HOSTNAME: 59,
  CONNECT_SUPPORTS_FEATURE: 60,
  AUTH_LIST: 66,
  STORAGE_POOL_REFRESH: 83,
  STORAGE_POOL_LOOKUP_BY_NAME: 84,
  STORAGE_POOL_GET_INFO: 87,
  STORAGE_POOL_GET_XML_DESC: 88,
  STORAGE_VOL_CREATE_XML: 93,
  STORAGE_VOL_DELETE: 94,
  STORAGE_VOL_LOOKUP_BY_NAME: 95,
  STORAGE_VOL_LOOKUP_BY_PATH: 97,
  STORAGE_VOL_GET_INFO: 98,
  STORAGE_VOL_GET_XML_DESC: 99,
  STORAGE_VOL_GET_PATH: 100,
  CONNECT_GET_LIB_VERSION: 157,
  DOMAIN_ATTACH_DEVICE_FLAGS: 160,
  DOMAIN_DETACH_DEVICE_FLAGS: 161,
  DOMAIN_UPDATE_DEVICE_FLAGS: 174,
  DOMAIN_SNAPSHOT_CREATE_XML: 185,
  DOMAIN_SNAPSHOT_LIST_NAMES: 188,
  DOMAIN_GET_BLOCK_INFO: 194,
  DOMAIN_CREATE_WITH_FLAGS: 196,
  STORAGE_VOL_UPLOAD: 208,
  DOMAIN_GET_STATE: 212,
  DOMAIN_UNDEFINE_FLAGS: 231,
  DOMAIN_DESTROY_FLAGS: 234,
  DOMAIN_BLOCK_RESIZE: 251,
  DOMAIN_SHUTDOWN_FLAGS: 258,
  STORAGE_VOL_RESIZE: 260,
  CONNECT_LIST_ALL_DOMAINS: 273,
  CONNECT_LIST_ALL_STORAGE_POOLS: 281,
  STORAGE_POOL_LIST_ALL_VOLUMES: 282,
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: 317,
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: 318,
  DOMAIN_DEFINE_XML_FLAGS: 350,
} as const;

export const QemuProc = { DOMAIN_AGENT_COMMAND: 3 } as const;

export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;

export const DomainState = {
  0: 'nostate', 1: 'running', 2: 'blocked', 3: 'paused', 4: 'shutdown', 5: 'shutoff', 6: 'crashed', 7: 'pmsuspended',
} as const;
export type DomainStateName = (typeof DomainState)[keyof typeof DomainState];

export const LifecycleEvent = {
  0: 'defined', 1: 'undefined', 2: 'started', 3: 'suspended', 4: 'resumed', 5: 'stopped', 6: 'shutdown', 7: 'pmsuspended', 8: 'crashed',
} as const;
export type LifecycleEventName = (typeof LifecycleEvent)[keyof typeof LifecycleEvent];

export const DomainEventId = { LIFECYCLE: 0 } as const;

export const DeviceModifyFlags = { CURRENT: 0, LIVE: 1, CONFIG: 2, FORCE: 4 } as const;
export const DomainXmlFlags = { SECURE: 1, INACTIVE: 2 } as const;
export const ListDomainsFlags = { ACTIVE: 1, INACTIVE: 2 } as const;
export const UndefineFlags = { MANAGED_SAVE: 1, SNAPSHOTS_METADATA: 2, NVRAM: 4, KEEP_NVRAM: 8 } as const;
/** REMOTE_DOMAIN_SNAPSHOT_LIST_MAX */
export const SNAPSHOT_LIST_MAX = 16384;
export const VolResizeFlags = { ALLOCATE: 1, DELTA: 2, SHRINK: 4 } as const;
export const BlockResizeFlags = { BYTES: 1 } as const;
export const StoragePoolState = { 0: 'inactive', 1: 'building', 2: 'running', 3: 'degraded', 4: 'inaccessible' } as const;

/** virErrorNumber values the driver reacts to (the full list is in virterror.h). */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  DOM_EXIST: 28,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_TIMEOUT: 68,
  AGENT_UNRESPONSIVE: 86,
  STORAGE_VOL_EXIST: 90,
} as const;
