// A log line built by hand, in exactly the format pino writes for the same logger: the level
// and time keys, the logger's bindings, the fields, the message. The boot server writes one
// audit line per request; pino's general path (a walk over the object, a type switch per value,
// its own string escaping) cost about a tenth of the server's throughput. Callers hand over the
// fields already as JSON text (their order is fixed), so nothing is walked.
import { pino, type Logger } from 'pino';

const S = pino.symbols;
/** Present at run time, missing from pino's type declarations. */
const MSG_PREFIX = (S as unknown as Record<string, symbol | undefined>).msgPrefixSym;

interface PinoInternals {
  [key: symbol]: unknown;
}

/** Characters a JSON string cannot hold as they are (quote, backslash, controls, surrogates). */
// eslint-disable-next-line no-control-regex -- control characters are what JSON strings must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as a JSON string literal: the common case (nothing to escape) without JSON.stringify. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * Writes info lines for one logger. `fields` is the JSON text of the fields, each as
 * `,"key":value`. When the logger does something this path does not reproduce (a mixin, a log
 * formatter, hooks, a message prefix, a nested key, serializers for these keys, a destination
 * that wants per-line metadata), every line goes through the logger itself instead.
 */
export class InfoLineWriter {
  private readonly raw: PinoInternals;
  private readonly direct: boolean;
  private readonly head: string;
  private readonly chindings: string;
  private readonly messageKey: string;

  constructor(private readonly logger: Logger, keys: readonly string[]) {
    this.raw = logger as unknown as PinoInternals;
    const formatters = this.raw[S.formattersSym] as { log?: unknown } | undefined;
    const hooks = this.raw[S.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
    const serializers = (this.raw[S.serializersSym] ?? {}) as Record<string, unknown>;
    const stream = this.raw[S.streamSym] as PinoInternals | undefined;
    const lsCache = this.raw[S.lsCacheSym] as Record<number, string> | undefined;
    this.messageKey = String(this.raw[S.messageKeySym] ?? 'msg');
    this.head = lsCache?.[30] ?? '';
    this.chindings = String(this.raw[S.chindingsSym] ?? '');
    this.direct = typeof this.raw[S.timeSym] === 'function'
      && this.head !== ''
      && !this.raw[S.mixinSym]
      && !formatters?.log
      && !hooks?.logMethod && !hooks?.streamWrite
      && (MSG_PREFIX === undefined || !this.raw[MSG_PREFIX])
      && !this.raw[S.nestedKeySym]
      && this.raw[S.endSym] === '}\n'
      && keys.every((k) => !serializers[k] && k !== this.messageKey)
      && stream !== undefined && typeof (stream as { write?: unknown }).write === 'function'
      && stream[S.needsMetadataGsym] !== true;
  }

  /** Whether an info line would be written now (the level can change at run time). */
  get enabled(): boolean {
    return this.logger.isLevelEnabled('info');
  }

  /** fields: JSON text `,"k":v…`; object: the same fields, used when the logger must format the line. */
  write(fields: string, object: () => object, message: string): void {
    if (!this.direct) {
      this.logger.info(object(), message);
      return;
    }
    const time = (this.raw[S.timeSym] as () => string)();
    const line = `${this.head}${time}${this.chindings}${fields},"${this.messageKey}":${jsonString(message)}}\n`;
    (this.raw[S.streamSym] as { write(s: string): unknown }).write(line);
  }
}
