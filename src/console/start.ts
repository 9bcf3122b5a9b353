// Builds and starts the web console for either composition root: the caller hands in the object
// sources, how people sign in, where their changes go and how Events are read.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { splitAddress, type ControllerConfig } from '../config/config.js';
import type { BootServer } from '../boot/server.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import type { ObjectSource } from '../kube/source.js';
import type { DirStore } from '../store/dir-store.js';
import { loadConsoleAssets } from './assets.js';
import { KubeTokenAuth, TokenAuth, type ConsoleAuth, type Session } from './auth.js';
import { ConsoleServer, type EventView } from './server.js';
import { KubeWriter, ManifestWriter, type ConsoleWriter } from './writers.js';
import { byCodeUnits } from '../order.js';

export interface RunningConsole {
  server: ConsoleServer;
  http: Server;
  /** The address it listens on, e.g. http://127.0.0.1:8083. */
  url: string;
  /** Standalone: the sign-in token (printed at start). */
  token?: string;
  stop(): Promise<void>;
}

interface Mode {
  auth: ConsoleAuth;
  writer: ConsoleWriter;
  events(session: Session, kind: string, obj: KubeObject): Promise<EventView[]>;
}

interface KubeEvent {
  eventTime?: string;
  deprecatedLastTimestamp?: string;
  metadata: { creationTimestamp?: string };
  type?: string;
  reason?: string;
  note?: string;
  series?: { count?: number };
  deprecatedCount?: number;
}

export function clusterMode(client: KubeClient): Mode {
  return {
    auth: new KubeTokenAuth(client),
    writer: new KubeWriter(client),
    async events(session, kind, obj) {
      const list = await client.requestAs<{ items: KubeEvent[] }>(session.token!, `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(obj.metadata.namespace ?? 'default')}/events`, {
        query: { fieldSelector: `regarding.kind=${kind},regarding.name=${obj.metadata.name}`, limit: 100 },
      });
      return list.items.map((e) => ({
        time: e.series ? (e.eventTime ?? '') : (e.deprecatedLastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? ''),
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        note: e.note ?? '',
        count: e.series?.count ?? e.deprecatedCount ?? 1,
      })).sort((a, b) => byCodeUnits(b.time, a.time));
    },
  };
}

export function standaloneMode(store: DirStore, token: string | undefined): Mode & { auth: TokenAuth } {
  return {
    auth: new TokenAuth(token),
    writer: new ManifestWriter(store),
    async events(_session, kind, obj) {
      return store.events(kind, obj).map((e) => ({ time: e.time, type: e.type, reason: e.reason, note: e.note, count: e.count })).reverse();
    },
  };
}

/** Starts the console unless --console-addr has port 0; resolves once it listens. */
export async function startConsole(config: Pick<ControllerConfig, 'consoleAddr'>, sources: ReadonlyMap<string, ObjectSource>, mode: Mode, boot: BootServer | undefined, log: Logger): Promise<RunningConsole | undefined> {
  const { host, port } = splitAddress(config.consoleAddr);
  if (port === 0) return undefined;
  const consoleLog = log.child({ component: 'console' });
  const { assets, index } = await loadConsoleAssets();
  const server = new ConsoleServer({ sources, auth: mode.auth, writer: mode.writer, assets, index, boot, events: mode.events, log: consoleLog });
  const http = await server.listen(port, host);
  const address = http.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${bound}`;
  consoleLog.info({ addr: `${host}:${bound}`, mode: mode.auth.mode }, 'console listening');
  return {
    server,
    http,
    url,
    ...(mode.auth instanceof TokenAuth ? { token: mode.auth.token } : {}),
    async stop() {
      server.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
