// The controller's configuration: one zod schema over flags and environment, parsed once.
import { hostname } from 'node:os';
import { z } from 'zod';

const address = z.string().regex(/^([^:]*):(\d{1,5})$/, 'expected host:port (host may be empty for all interfaces)');

export const ControllerConfig = z.object({
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  metricsAddr: address.default(':8080'),
  healthAddr: address.default(':8081'),
  leaderElect: z.boolean().default(true),
  leaseNamespace: z.string().default('bootplane-system'),
  leaseName: z.string().default('bootplane-controller'),
  identity: z.string().default(`${hostname()}_${process.pid}`),
  leaseDurationSeconds: z.number().int().min(2).default(15),
  renewDeadlineSeconds: z.number().int().min(1).default(10),
  retryPeriodSeconds: z.number().int().min(1).default(2),
  concurrency: z.number().int().min(1).max(64).default(4),
  resyncSeconds: z.number().int().min(0).default(600),
  watchdogSeconds: z.number().int().min(5).default(300),
  shutdownGraceSeconds: z.number().int().min(1).default(10),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // Network boot (src/boot): served by every replica, leader or not.
  bootAddr: address.default(':8082'),
  bootAdvertiseUrl: z.string().regex(/^https?:\/\/[A-Za-z0-9.:[\]-]+$/, 'expected http://host[:port] with no path').optional(),
  bootFallback: z.enum(['menu', 'localBoot']).default('menu'),
  bootAllowCidrs: z.string().default(''),
  bootRateLimitPerSecond: z.number().min(0).default(50),
  bootRateLimitBurst: z.number().int().min(1).default(200),
  bootMaxConcurrent: z.number().int().min(1).default(512),
  bootSigningKeyFile: z.string().optional(),
  bootSignedUrlTtlSeconds: z.number().int().min(60).default(900),
  bootAssetDir: z.string().optional(),
  bootAssetCacheDir: z.string().default('/var/cache/bootplane/assets'),
  bootAssetCacheMaxMib: z.number().int().min(1).default(4096),
  bootStatusFlushMs: z.number().int().min(0).default(1000),
  tftpAddr: address.optional(),
  tftpDir: z.string().default('/usr/lib/ipxe'),
  // Diskless sessions (src/targets): whether this process is the iSCSI target host.
  // off: sessions wait with NoTargetHost; supervise: run tgtd here; external: tgtd runs already.
  disklessTarget: z.enum(['off', 'supervise', 'external']).default('off'),
  disklessPortalAddr: address.default('0.0.0.0:3260'),
  // tgtd refuses control ports above 32767 ("-C argument value out of range").
  disklessControlPort: z.number().int().min(0).max(32767).default(0),
  disklessDataDir: z.string().default('/var/lib/bootplane/diskless'),
  disklessStopGraceSeconds: z.number().int().min(0).default(300),
  // Web console (src/console): its own port; 0 turns it off.
  consoleAddr: address.default(':8083'),
  /** Standalone only: the sign-in token (random when unset). Prefer the environment variable. */
  consoleToken: z.string().min(16, 'the console token needs at least 16 characters').optional(),
});
export type ControllerConfig = z.infer<typeof ControllerConfig>;

export function splitAddress(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  return { host: addr.slice(0, colon) || '0.0.0.0', port: Number(addr.slice(colon + 1)) };
}

/** Environment variables BOOTPLANE_<FLAG_IN_SNAKE_CASE> fill flags the command line left out. */
export function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ControllerConfig.shape)) {
    const name = `BOOTPLANE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const value = env[name];
    if (value !== undefined) out[key] = value;
  }
  if (env.KUBECONFIG && out.kubeconfig === undefined) out.kubeconfig = env.KUBECONFIG.split(':')[0];
  return out;
}

/** Flags and environment arrive as strings: turn them into the types the schema wants. */
export function parseControllerConfig(raw: Record<string, unknown>): ControllerConfig {
  const typed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = (ControllerConfig.shape as Record<string, z.ZodType>)[key];
    if (field === undefined || typeof value !== 'string') {
      typed[key] = value;
      continue;
    }
    const inner = field instanceof z.ZodDefault || field instanceof z.ZodOptional ? (field.def.innerType as z.ZodType) : field;
    if (inner instanceof z.ZodNumber) typed[key] = Number(value);
    else if (inner instanceof z.ZodBoolean) typed[key] = value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
    else typed[key] = value;
  }
  const parsed = ControllerConfig.safeParse(typed);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
