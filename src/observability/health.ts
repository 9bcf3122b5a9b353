// Probe and metrics endpoints: /healthz (the process is alive), /readyz (caches synced) and
// /metrics (prom-client). Separate ports by default, as controller-runtime does.
import { createServer, type Server } from 'node:http';
import { splitAddress } from '../config/config.js';
import { registry } from './metrics.js';

export type Check = () => boolean;

export function startHealthServer(port: number, host: string, checks: { live: Check; ready: Check }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const check = path === '/healthz' || path === '/livez' ? checks.live : path === '/readyz' ? checks.ready : undefined;
    if (!check) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const ok = check();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
  });
  return listen(server, port, host);
}

export function startMetricsServer(port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
    );
  });
  return listen(server, port, host);
}

function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** The metrics and health servers a process runs, per its --metrics-addr and --health-addr (port 0: off). */
export async function startObservabilityServers(addrs: { metricsAddr: string; healthAddr: string }, ready: Check): Promise<Server[]> {
  const servers: Server[] = [];
  const metrics = splitAddress(addrs.metricsAddr);
  if (metrics.port > 0) servers.push(await startMetricsServer(metrics.port, metrics.host));
  const health = splitAddress(addrs.healthAddr);
  if (health.port > 0) servers.push(await startHealthServer(health.port, health.host, { live: () => true, ready }));
  return servers;
}
