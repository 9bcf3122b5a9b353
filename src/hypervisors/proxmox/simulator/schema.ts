// SIMULATOR ONLY. The official PVE API schema (pve-docs apidata.js, extracted into
// ../shared/pve-api/endpoints.json) and a validator that answers the way PVE's JSONSchema.pm
// does: the same checks, the same messages, keyed by parameter. Every request the simulator
// serves is checked against it, and so is every reply it sends.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface PropertySchema {
  type?: string;
  optional?: number;
  default?: unknown;
  enum?: string[] | null;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  format?: string | Record<string, PropertySchema>;
  properties?: Record<string, PropertySchema>;
  items?: PropertySchema;
  requires?: string;
  alias?: string;
  keyAlias?: string;
  default_key?: number;
  description?: string;
  additionalProperties?: number | boolean;
}

export interface MethodSchema {
  method: string;
  name: string;
  allowtoken?: number;
  parameters?: { additionalProperties?: number; properties?: Record<string, PropertySchema> };
  returns?: PropertySchema;
}

interface EndpointsFile {
  endpoints: Record<string, Record<string, MethodSchema>>;
  named_formats?: Record<string, { format?: Record<string, PropertySchema> }>;
}

/** Property-string formats the schema names instead of expanding (pve-qm-boot, pve-qm-ipconfig...). */
export type NamedFormats = Record<string, Record<string, PropertySchema>>;

/** Finds endpoints.json: $BOOTPLANE_PVE_SCHEMA, the copy kept beside this file, else shared/pve-api/ above the checkout. */
export function locateSchemaFile(): string {
  const fromEnv = process.env.BOOTPLANE_PVE_SCHEMA;
  if (fromEnv) return fromEnv;
  // Beside this file when run from src/; from dist/ (tsc copies no JSON) the same folder in src/.
  for (const dirName of [import.meta.dirname, join(import.meta.dirname, '..', '..', '..', '..', '..', 'src', 'hypervisors', 'proxmox', 'simulator')]) {
    const vendored = join(dirName, 'pve-api', 'endpoints.json');
    if (existsSync(vendored)) return vendored;
  }
  let dir = resolve(import.meta.dirname);
  for (;;) {
    const candidate = join(dir, 'shared', 'pve-api', 'endpoints.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('The Proxmox VE API schema (shared/pve-api/endpoints.json) was not found above this checkout; set BOOTPLANE_PVE_SCHEMA to its path.');
}

// Where the schema writes `ide[n]`, the description says the range ("n is 0 to 3"); a few
// descriptions do not, and these are qemu-server's own limits for them.
const INDEX_LIMITS: Record<string, number> = { hostpci: 15, ipconfig: 31, net: 31, numa: 7, unused: 255, virtiofs: 9 };

function expandIndexed(props: Record<string, PropertySchema>): Record<string, PropertySchema> {
  const out: Record<string, PropertySchema> = {};
  for (const [key, schema] of Object.entries(props)) {
    const m = /^([a-z]+)\[n\]$/.exec(key);
    if (!m) { out[key] = schema; continue; }
    const fromDescription = /n is 0 to (\d+)/.exec(schema.description ?? '');
    const max = fromDescription ? Number(fromDescription[1]) : INDEX_LIMITS[m[1]!];
    if (max === undefined) throw new Error(`schema: no index range for ${key}`);
    for (let i = 0; i <= max; i++) out[`${m[1]}${i}`] = schema;
  }
  return out;
}

const expanded = new WeakMap<Record<string, PropertySchema>, Record<string, PropertySchema>>();
function expandedOnce(props: Record<string, PropertySchema>): Record<string, PropertySchema> {
  let out = expanded.get(props);
  if (!out) {
    out = expandIndexed(props);
    expanded.set(props, out);
  }
  return out;
}

export interface Route {
  template: string;
  method: MethodSchema;
  pathParams: Record<string, string>;
  properties: Record<string, PropertySchema>;
}

export class PveSchema {
  readonly namedFormats: NamedFormats = {};
  private readonly routes: { template: string; segments: string[]; methods: Record<string, MethodSchema>; props: Map<string, Record<string, PropertySchema>> }[] = [];

  constructor(file: EndpointsFile) {
    for (const [name, def] of Object.entries(file.named_formats ?? {})) if (def.format) this.namedFormats[name] = def.format;
    for (const [template, methods] of Object.entries(file.endpoints)) {
      const props = new Map<string, Record<string, PropertySchema>>();
      for (const [m, schema] of Object.entries(methods)) props.set(m, expandIndexed(schema.parameters?.properties ?? {}));
      this.routes.push({ template, segments: template.split('/').filter(Boolean), methods, props });
    }
    // Literal segments win over {params}: /nodes/{node}/qemu/{vmid}/config before /nodes/{node}/qemu/{vmid}.
    this.routes.sort((a, b) => b.segments.length - a.segments.length);
  }

  /**
   * The official schema, plus supplement.json beside it when present: endpoints cut the same way
   * from the same apidata.js that the official subset lacks. A supplement never replaces an
   * official endpoint, so the official copy stays the judge of everything it covers.
   */
  static load(path = locateSchemaFile()): PveSchema {
    const official = JSON.parse(readFileSync(path, 'utf8')) as EndpointsFile;
    const supplementPath = join(dirname(path), 'supplement.json');
    if (!existsSync(supplementPath)) return new PveSchema(official);
    const supplement = JSON.parse(readFileSync(supplementPath, 'utf8')) as EndpointsFile;
    for (const template of Object.keys(supplement.endpoints)) {
      if (template in official.endpoints) throw new Error(`${supplementPath}: ${template} is in the official schema; a supplement may only add endpoints`);
    }
    return new PveSchema({ ...official, endpoints: { ...official.endpoints, ...supplement.endpoints } });
  }

  /** The documented method for this path, or why there is none (PVE answers 501 then). */
  match(method: string, path: string): Route | { notImplemented: true } {
    const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    for (const r of this.routes) {
      if (r.segments.length !== segments.length) continue;
      const pathParams: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const t = r.segments[i]!;
        if (t.startsWith('{')) pathParams[t.slice(1, -1)] = segments[i]!;
        else ok = t === segments[i];
      }
      if (!ok) continue;
      const schema = r.methods[method];
      if (!schema) return { notImplemented: true };
      return { template: r.template, method: schema, pathParams, properties: r.props.get(method)! };
    }
    return { notImplemented: true };
  }
}

type Params = Record<string, string | string[]>;

/**
 * Checks request parameters as PVE::JSONSchema::validate does. Returns PVE's per-parameter
 * error messages (empty when valid) and the values converted to their schema types.
 */
export function validateParams(properties: Record<string, PropertySchema>, params: Params, named: NamedFormats = {}): { errors: Record<string, string>; values: Record<string, unknown> } {
  const errors: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(params)) {
    const schema = properties[key];
    if (!schema) { errors[key] = 'property is not defined in schema and the schema does not allow additional properties'; continue; }
    if (schema.type === 'array') { values[key] = Array.isArray(raw) ? raw : [raw]; continue; }
    // An array for a *-list string is joined with ',' (RESTHandler normalize_legacy_param_formats).
    const value = Array.isArray(raw) ? (typeof schema.format === 'string' && schema.format.endsWith('-list') ? raw.join(',') : raw[raw.length - 1]!) : raw;
    const problem = checkValue(key, schema, value, named);
    if (problem) errors[key] = problem;
    else values[key] = convert(schema, value);
  }
  const { required, requiring } = constraintsOf(properties);
  for (const key of required) if (!(key in params)) errors[key] ??= 'property is missing and it is not optional';
  for (const [key, needed] of requiring) if (key in params && !(needed in params)) errors[needed] ??= `missing property - '${key}' requires this property`;
  return { errors, values };
}

// The config endpoints document hundreds of keys (ide0..3, scsi0..30, net0..31, ...): the few
// that are required or require another are found once per schema, not on every request.
const constraints = new WeakMap<Record<string, PropertySchema>, { required: string[]; requiring: [string, string][] }>();
function constraintsOf(properties: Record<string, PropertySchema>): { required: string[]; requiring: [string, string][] } {
  let found = constraints.get(properties);
  if (!found) {
    found = { required: [], requiring: [] };
    for (const [key, schema] of Object.entries(properties)) {
      if (!schema.optional && schema.type !== 'null') found.required.push(key);
      if (schema.requires) found.requiring.push([key, schema.requires]);
    }
    constraints.set(properties, found);
  }
  return found;
}

/** A schema pattern anchored as PVE anchors it, compiled once. */
const patterns = new Map<string, RegExp>();
function anchoredPattern(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`);
    patterns.set(pattern, re);
  }
  return re;
}

function convert(schema: PropertySchema, value: string): unknown {
  if (schema.type === 'integer') return Number(value);
  if (schema.type === 'boolean') return value === '1' || value === 'true' ? 1 : 0;
  return value;
}

/** One value against one property schema; undefined when fine, else PVE's message. */
export function checkValue(key: string, schema: PropertySchema, value: string, named: NamedFormats = {}): string | undefined {
  switch (schema.type) {
    case 'boolean':
      // JSON true/false arrive here as 1/0; the string "true" is refused, as PVE does.
      return value === '0' || value === '1' ? undefined : `type check ('boolean') failed - got '${value}'`;
    case 'integer':
      if (!/^-?\d+$/.test(value)) return `type check ('integer') failed - got '${value}'`;
      return checkRange(schema, Number(value));
    case 'number':
      if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return `type check ('number') failed - got '${value}'`;
      return checkRange(schema, Number(value));
    default:
      break;
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `value may only be ${schema.maxLength} characters long`;
  if (schema.enum && !schema.enum.includes(value)) return `value '${value}' does not have a value in the enumeration '${schema.enum.join(', ')}'`;
  if (schema.pattern && !anchoredPattern(schema.pattern).test(value)) return 'value does not match the regex pattern';
  if (schema.format && typeof schema.format === 'object') return checkPropertyString(key, schema.format, value, named);
  if (typeof schema.format === 'string') {
    const propertyFormat = named[schema.format];
    if (propertyFormat) return checkPropertyString(key, propertyFormat, value, named);
    const problem = NAMED[schema.format]?.(value);
    if (problem) return `invalid format - ${problem}`;
  }
  return undefined;
}

function checkRange(schema: PropertySchema, n: number): string | undefined {
  if (schema.minimum !== undefined && n < schema.minimum) return `value must have a minimum value of ${schema.minimum}`;
  if (schema.maximum !== undefined && n > schema.maximum) return `value must have a maximum value of ${schema.maximum}`;
  return undefined;
}

/** Splits `a=1,b=2` (or a bare default-key value first) as PVE::JSONSchema::parse_property_string does. */
export function parsePropertyString(format: Record<string, PropertySchema>, value: string): { parsed: Record<string, string>; errors: string[] } {
  const parsed: Record<string, string> = {};
  const errors: string[] = [];
  const defaultKey = Object.entries(format).find(([, s]) => s.default_key)?.[0];
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let k: string;
    let v: string;
    if (eq < 0) {
      if (format[part]?.keyAlias) { k = part; v = ''; }
      else if (defaultKey && !(defaultKey in parsed)) { k = defaultKey; v = part; }
      else { errors.push(`invalid format - value without key, but schema does not define a default key`); continue; }
    } else {
      k = part.slice(0, eq);
      v = part.slice(eq + 1);
    }
    const s = format[k];
    if (!s) { errors.push(`${k}: property is not defined in schema and the schema does not allow additional properties`); continue; }
    if (s.keyAlias) { parsed[s.keyAlias] = k; if (s.alias) parsed[s.alias] = v; continue; }
    if (s.alias) { parsed[s.alias] = v; continue; }
    if (k in parsed) { errors.push(`${k}: duplicate key in comma-separated list property`); continue; }
    parsed[k] = v;
  }
  return { parsed, errors };
}

function checkPropertyString(key: string, format: Record<string, PropertySchema>, value: string, named: NamedFormats): string | undefined {
  const { parsed, errors } = parsePropertyString(format, value);
  const lines = errors.map((e) => `${key}.${e}`);
  for (const [k, v] of Object.entries(parsed)) {
    const s = format[k];
    if (!s || s.alias) continue;
    const problem = checkValue(`${key}.${k}`, s, v, named);
    if (problem) lines.push(`${key}.${k}: ${problem}`);
  }
  for (const [k, s] of Object.entries(format)) {
    if (!s.alias && !s.keyAlias && s.type && !s.optional && !(k in parsed)) lines.push(`${key}.${k}: property is missing and it is not optional`);
  }
  return lines.length ? `invalid format - format error\n${lines.join('\n')}\n\n` : undefined;
}

const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const isIpv6 = (v: string) => /^[0-9a-fA-F:]+$/.test(v) && v.includes(':') && (v.match(/::/g) ?? []).length <= 1;
const VOLUME_ID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;
const DRIVE_NAME = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$/;
const splitList = (v: string) => (v.includes('\0') ? v.split('\0') : v.replace(/[,;]/g, ' ').split(/\s+/)).filter(Boolean);

// Named formats from endpoints.json's named_formats (transcribed from pve-common, qemu-server
// and pve-storage). Formats not listed here are accepted unchecked: the simulator serves none
// of the calls that use them for anything but pass-through.
const NAMED: Record<string, (v: string) => string | undefined> = {
  'pve-vmid': (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? undefined : 'value does not look like a valid VM ID'),
  'pve-node': (v) => (/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v) ? undefined : 'value does not look like a valid node name'),
  'pve-storage-id': (v) => (v.length < 2 ? `storage ID '${v}' cannot be shorter than 2 characters` : /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? undefined : `storage ID '${v}' contains illegal characters`),
  'pve-configid': (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? undefined : `invalid configuration ID '${v}'`),
  'pve-configid-list': (v) => splitList(v).map((id) => NAMED['pve-configid']!(id)).find(Boolean),
  'pve-volume-id': (v) => (VOLUME_ID.test(v) ? undefined : `unable to parse volume ID '${v}'`),
  'pve-volume-id-or-qm-path': (v) => (v === 'none' || v === 'cdrom' || v.startsWith('/') || VOLUME_ID.test(v) || /^(([^/:\s]+):)?(\d+(\.\d+)?)$/.test(v) ? undefined : `unable to parse volume ID '${v}'`),
  'pve-volume-id-or-absolute-path': (v) => (v.startsWith('/') || VOLUME_ID.test(v) ? undefined : `unable to parse volume ID '${v}'`),
  'pve-qm-bootdisk': (v) => (DRIVE_NAME.test(v) ? undefined : `invalid boot disk '${v}'`),
  'pve-qm-bootdev-list': (v) => splitList(v).map((d) => (DRIVE_NAME.test(d) && !/^(efidisk|tpmstate)/.test(d)) || /^(net([0-9]|[12][0-9]|3[01])|usb([0-9]|1[0-3])|hostpci([0-9]|1[0-5]))$/.test(d) ? undefined : `invalid boot device '${d}'`).find(Boolean),
  'mac-addr': (v) => (/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v) ? undefined : 'value does not look like a valid unicast MAC address'),
  'pve-bridge-id': (v) => (/^[-_.\w\d]+$/.test(v) ? undefined : `invalid bridge ID '${v}'`),
  urlencoded: (v) => (/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v) ? undefined : `invalid urlencoded string: ${v}`),
  'pve-tag-list': (v) => (splitList(v).every((t) => /^[a-z0-9_][a-z0-9_\-+.]*$/i.test(t)) ? undefined : 'invalid characters in tag'),
  'dns-name': (v) => (/^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v) ? undefined : `value does not look like a valid DNS name`),
  'disk-size': (v) => (/^(\d+(\.\d+)?)([KMGT](?:iB)?)?$/.test(v) ? undefined : `unable to parse size '${v}'`),
  'pve-storage-content': (v) => (['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'none', 'import'].includes(v) ? undefined : `invalid content type '${v}'`),
  'pve-storage-content-list': (v) => splitList(v).map((c) => NAMED['pve-storage-content']!(c)).find(Boolean),
  ipv4: (v) => (IPV4.test(v) ? undefined : 'value does not look like a valid IPv4 address'),
  ipv6: (v) => (isIpv6(v) ? undefined : 'value does not look like a valid IPv6 address'),
  'pve-ipv4-config': (v) => (v === 'dhcp' || v === 'manual' || (/^(.+)\/(\d+)$/.test(v) && IPV4.test(v.split('/')[0]!) && Number(v.split('/')[1]) >= 8 && Number(v.split('/')[1]) <= 32) ? undefined : 'value does not look like a valid ipv4 network configuration'),
  'pve-ipv6-config': (v) => (['auto', 'dhcp', 'manual'].includes(v) || (/^(.+)\/(\d+)$/.test(v) && isIpv6(v.split('/')[0]!)) ? undefined : 'value does not look like a valid ipv6 network configuration'),
  'pve-hotplug-features': (v) => (v === '0' || v === '1' || splitList(v).every((f) => ['network', 'disk', 'cpu', 'memory', 'usb', 'cloudinit'].includes(f)) ? undefined : `invalid hotplug feature '${v}'`),
};

const requiredInReplies = new WeakMap<Record<string, PropertySchema>, string[]>();
function requiredReplyKeys(props: Record<string, PropertySchema>): string[] {
  let keys = requiredInReplies.get(props);
  if (!keys) {
    keys = Object.entries(props).filter(([, s]) => !s.optional && s.type).map(([k]) => k);
    requiredInReplies.set(props, keys);
  }
  return keys;
}

/**
 * Checks a reply against a `returns` schema. PVE sends more keys than it documents, so extra
 * keys pass; a documented key with the wrong type, or a missing required one, is a violation.
 */
export function validateReturn(schema: PropertySchema | undefined, value: unknown, at = 'data'): string[] {
  if (!schema || !schema.type) return [];
  if (value === null || value === undefined) {
    return schema.type === 'null' || schema.optional ? [] : [`${at}: is null but the schema says ${schema.type}`];
  }
  switch (schema.type) {
    case 'null':
      return [`${at}: should be null`];
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected string, got ${typeof value}`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: '${value}' not in enum`];
      if (schema.pattern && !anchoredPattern(schema.pattern).test(value)) return [`${at}: '${value}' does not match ${schema.pattern}`];
      return [];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: expected integer, got ${JSON.stringify(value)}`];
    case 'number':
      // PVE keeps number-typed config values in their string form ("cpulimit":"0.5").
      return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Number(value))) ? [] : [`${at}: expected number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return value === 0 || value === 1 || value === true || value === false ? [] : [`${at}: expected boolean (0/1), got ${JSON.stringify(value)}`];
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: expected array`];
      return value.flatMap((item, i) => validateReturn(schema.items, item, `${at}[${i}]`));
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected object`];
      const props = schema.properties ? expandedOnce(schema.properties) : {};
      const obj = value as Record<string, unknown>;
      const problems: string[] = [];
      // Walks the reply's keys (a VM config has a dozen) rather than the schema's hundreds.
      for (const k of Object.keys(obj)) {
        const s = Object.hasOwn(props, k) ? props[k] : undefined;
        if (s) problems.push(...validateReturn(s, obj[k], `${at}.${k}`));
      }
      for (const k of requiredReplyKeys(props)) if (!(k in obj)) problems.push(`${at}.${k}: required by the schema but missing`);
      return problems;
    }
    default:
      return [];
  }
}
