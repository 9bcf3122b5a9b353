// `bootplane tftp`: the TFTP first hop on its own (the Helm chart runs it as a hostNetwork
// DaemonSet on the provisioning network), for sites whose DHCP server cannot serve iPXE itself.
import { parseArgs } from 'node:util';
import { splitAddress } from '../config/config.js';
import { buildChainScript } from '../boot/scripts.js';
import { TftpServer } from '../boot/tftp.js';
import { createLogger } from '../observability/logger.js';

export const TFTP_USAGE = `bootplane tftp — read-only TFTP first hop (iPXE binaries and a chain script)

Flags:
  --addr HOST:PORT     UDP address to serve (default :69)
  --http-url URL       the boot HTTP server machines reach; boot.ipxe chains to URL/ipxe
  --dir DIR            iPXE binaries (default /usr/lib/ipxe, Debian's ipxe package)
  --log-level LEVEL    (default info)
`;

export class TftpUsageError extends Error {
  readonly code = 'UsageError';
}

export async function tftp(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { addr: { type: 'string' }, 'http-url': { type: 'string' }, dir: { type: 'string' }, 'log-level': { type: 'string' } }, strict: true });
  const addr = values.addr ?? ':69';
  if (!/^[^:]*:\d{1,5}$/.test(addr)) throw new TftpUsageError('--addr must be host:port (host may be empty)');
  const httpUrl = values['http-url'];
  if (httpUrl !== undefined && !/^https?:\/\/[A-Za-z0-9.:[\]-]+$/.test(httpUrl)) throw new TftpUsageError('--http-url must be http(s)://host[:port] with no path');
  const log = createLogger({ level: values['log-level'] ?? 'info' });
  const server = new TftpServer({ directory: values.dir ?? '/usr/lib/ipxe', chainScript: httpUrl ? buildChainScript(httpUrl) : undefined, log });
  const { host, port } = splitAddress(addr);
  const bound = await server.listen(port, host);
  log.info({ addr: `${host}:${bound}`, httpUrl }, 'TFTP server listening');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.close();
  return 0;
}
