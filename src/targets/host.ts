// The target host as the DisklessSession controller sees it: a target driver, the tgtd this
// process supervises (if any), where images are cached and session copies live, and the jobs
// that download and copy them. Built from configuration once per process.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ControllerConfig } from '../config/config.js';
import { disklessMetrics } from '../observability/metrics.js';
import type { TargetDriver } from './driver.js';
import type { CopyProgress } from './images/copy.js';
import { ImageSource, type ReadyImage } from './images/source.js';
import { Jobs } from './jobs.js';
import { TgtDaemon, type TgtDaemonHealth } from './tgt/daemon.js';
import { TgtDriver } from './tgt/driver.js';

export interface TargetHost {
  driver: TargetDriver;
  /** Health of the supervised daemon; always running when the daemon is external. */
  health(): TgtDaemonHealth;
  /** Called whenever the target daemon came up empty: every session must be put back. */
  onTableLost(listener: () => void): void;
  images: ImageSource;
  imageJobs: Jobs<ReadyImage>;
  copyJobs: Jobs<CopyProgress, CopyProgress>;
  /** Default directory of session copies (spec.target.copyDirectory overrides it). */
  copyDirectory: string;
  /** How long a stopping session waits for its machine to disconnect. */
  stopGraceMs: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createTargetHost(config: Pick<ControllerConfig, 'disklessTarget' | 'disklessPortalAddr' | 'disklessControlPort' | 'disklessDataDir' | 'disklessStopGraceSeconds'>, log: Logger): TargetHost | undefined {
  if (config.disklessTarget === 'off') return undefined;
  const daemon = config.disklessTarget === 'supervise'
    ? new TgtDaemon({ portal: config.disklessPortalAddr, controlPort: config.disklessControlPort, log: log.child({ component: 'tgtd' }) })
    : undefined;
  const listeners = new Set<() => void>();
  daemon?.onStarted(() => {
    disklessMetrics.tgtdStarts.inc();
    for (const l of listeners) l();
  });
  const copyDirectory = join(config.disklessDataDir, 'copies');
  return {
    driver: new TgtDriver({ controlPort: config.disklessControlPort }),
    health: () => daemon?.health ?? { state: 'running' },
    onTableLost: (l) => listeners.add(l),
    images: new ImageSource(join(config.disklessDataDir, 'cache')),
    imageJobs: new Jobs(),
    copyJobs: new Jobs(),
    copyDirectory,
    stopGraceMs: config.disklessStopGraceSeconds * 1000,
    async start() {
      await mkdir(copyDirectory, { recursive: true });
      await daemon?.start();
    },
    async stop() { await daemon?.stop(); },
  };
}
