// One prom-client registry for the process. Names follow controller-runtime's, so existing
// dashboards and alerts work unchanged; bootplane's own are bootplane_<subsystem>_<name>_<unit>.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CellHistogram } from './metric-cells.js';

export const registry = new Registry();
let defaultsCollected = false;

export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: registry });
}

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const reconcileMetrics = {
  total: new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller.', labelNames: ['controller', 'result'], registers: [registry] }),
  errors: new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller.', labelNames: ['controller'], registers: [registry] }),
  terminalErrors: new Counter({ name: 'controller_runtime_terminal_reconcile_errors_total', help: 'Total number of terminal reconciliation errors per controller.', labelNames: ['controller'], registers: [registry] }),
  time: new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller.', labelNames: ['controller'], buckets: durationBuckets, registers: [registry] }),
  activeWorkers: new Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller.', labelNames: ['controller'], registers: [registry] }),
  maxConcurrent: new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller.', labelNames: ['controller'], registers: [registry] }),
};

export const workqueueMetrics = {
  depth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue.', labelNames: ['name'], registers: [registry] }),
  adds: new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue.', labelNames: ['name'], registers: [registry] }),
  queueDuration: new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: ['name'], buckets: durationBuckets, registers: [registry] }),
  workDuration: new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'], buckets: durationBuckets, registers: [registry] }),
  retries: new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue.', labelNames: ['name'], registers: [registry] }),
  longestRunning: new Gauge({ name: 'workqueue_longest_running_processor_seconds', help: 'How many seconds has the longest running processor for workqueue been running.', labelNames: ['name'], registers: [registry] }),
};

export const leaderMetrics = {
  master: new Gauge({ name: 'leader_election_master_status', help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.', labelNames: ['name'], registers: [registry] }),
};

export const informerMetrics = {
  lists: new Counter({ name: 'bootplane_informer_lists_total', help: 'Full lists made by informers.', labelNames: ['resource'], registers: [registry] }),
  relists: new Counter({ name: 'bootplane_informer_relists_total', help: 'Relists forced by 410 Gone or a silent watch.', labelNames: ['resource', 'reason'], registers: [registry] }),
  errors: new Counter({ name: 'bootplane_informer_errors_total', help: 'List or watch errors (each followed by a backoff and retry).', labelNames: ['resource'], registers: [registry] }),
};

export const statusMetrics = {
  writes: new Counter({ name: 'bootplane_status_writes_total', help: 'Status patches sent to the API server.', labelNames: ['kind'], registers: [registry] }),
  skipped: new Counter({ name: 'bootplane_status_writes_skipped_total', help: 'Status writes skipped because nothing changed.', labelNames: ['kind'], registers: [registry] }),
};

export const eventMetrics = {
  emitted: new Counter({ name: 'bootplane_events_total', help: 'Kubernetes Events created or updated, by type.', labelNames: ['type', 'action'], registers: [registry] }),
  suppressed: new Counter({ name: 'bootplane_events_suppressed_total', help: 'Repeated Events folded into an existing series without an API call.', registers: [registry] }),
};

export const bootMetrics = {
  requests: new Counter({ name: 'bootplane_boot_requests_total', help: 'Boot server requests by route and HTTP status code.', labelNames: ['route', 'code'], registers: [registry] }),
  // Observed once per request through HistogramCells (see metric-cells.ts).
  duration: new CellHistogram({ name: 'bootplane_boot_request_duration_seconds', help: 'Boot server request latency by route.', labelNames: ['route'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
  scripts: new Counter({ name: 'bootplane_boot_scripts_total', help: 'Machine scripts served, by answer (profile, localBoot, fallback).', labelNames: ['answer'], registers: [registry] }),
  renderFailures: new Counter({ name: 'bootplane_boot_render_failures_total', help: 'Machine scripts that could not be rendered (a parameter was refused or missing).', registers: [registry] }),
  rejected: new Counter({ name: 'bootplane_boot_rejected_total', help: 'Requests refused by a guard rail, by reason.', labelNames: ['reason'], registers: [registry] }),
  inFlight: new Gauge({ name: 'bootplane_boot_requests_in_flight', help: 'Boot requests being answered.', registers: [registry] }),
  statusWrites: new Counter({ name: 'bootplane_boot_status_writes_total', help: 'Coalesced NodeBootAssignment status writes recording boots, by result.', labelNames: ['result'], registers: [registry] }),
  assetBytes: new Counter({ name: 'bootplane_boot_asset_bytes_total', help: 'Asset bytes sent to machines.', registers: [registry] }),
  assetCacheBytes: new Gauge({ name: 'bootplane_boot_asset_cache_bytes', help: 'Bytes held by the asset cache.', registers: [registry] }),
  tftpTransfers: new Counter({ name: 'bootplane_boot_tftp_transfers_total', help: 'TFTP read requests by result.', labelNames: ['result'], registers: [registry] }),
};

export const guestAgentMetrics = {
  writes: new Counter({ name: 'bootplane_guest_agent_writes_total', help: 'Changes made inside guests through the QEMU guest agent: files written and programs run that change the guest.', labelNames: ['operation'], registers: [registry] }),
};

/** Where the session gauge reads phases from at scrape time (the session cache), once wired. */
let disklessPhases: (() => Iterable<string>) | undefined;
export function countDisklessPhasesFrom(source: () => Iterable<string>): void {
  disklessPhases = source;
}

export const disklessMetrics = {
  sessions: new Gauge({
    name: 'bootplane_diskless_sessions', help: 'DisklessSessions by phase now (Active: the machines booting from a session disk).', labelNames: ['phase'], registers: [registry],
    collect() {
      if (!disklessPhases) return;
      this.reset();
      for (const phase of disklessPhases()) this.inc({ phase });
    },
  }),
  started: new Counter({ name: 'bootplane_diskless_sessions_started_total', help: 'Sessions that became Active.', registers: [registry] }),
  stopped: new Counter({ name: 'bootplane_diskless_sessions_stopped_total', help: 'Sessions that ended and were cleaned up.', registers: [registry] }),
  failed: new Counter({ name: 'bootplane_diskless_sessions_failed_total', help: 'Sessions that failed.', registers: [registry] }),
  bytesCopied: new Counter({ name: 'bootplane_diskless_bytes_copied_total', help: 'Bytes of golden images copied into session disks (reflinks count their full size).', registers: [registry] }),
  tgtdStarts: new Counter({ name: 'bootplane_diskless_tgtd_starts_total', help: 'Times the supervised tgtd came up (more than one: it was restarted and its table rebuilt).', registers: [registry] }),
};
