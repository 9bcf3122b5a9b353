// Pure: `cloud-init status --long` as status.guest.cloudInit and a condition. The command exits
// 1 on error and 2 on a recoverable error (23.4+), so the exit code is information, not failure.
import type { ConditionUpdate } from '../../kube/conditions.js';

export interface CloudInitReport {
  status: string;
  lastStage?: string;
  errors?: string[];
}

export function parseCloudInitStatus(output: string): CloudInitReport {
  const lines = output.split('\n');
  let status = 'unknown';
  let detail: string[] = [];
  const errors: string[] = [];
  let section: 'detail' | 'errors' | undefined;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    const key = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (key) {
      section = undefined;
      const [, name, value] = key as unknown as [string, string, string];
      if (name === 'status') status = value.trim();
      else if (name === 'detail') { section = 'detail'; if (value.trim()) detail = [value.trim()]; }
      else if (name === 'errors') {
        section = 'errors';
        const inline = value.trim();
        if (inline && inline !== '[]') errors.push(...inline.replace(/^\[|\]$/g, '').split(/',\s*'/).map((e) => e.replace(/^'|'$/g, '')).filter(Boolean));
      }
      continue;
    }
    if (section === 'detail' && line.trim()) detail.push(line.trim());
    if (section === 'errors' && line.trim()) errors.push(line.trim().replace(/^-\s*/, ''));
  }
  const stage = detail.map((d) => /stage:?\s*([a-z-]+)/i.exec(d)?.[1] ?? /^\('([a-z-]+)'/.exec(d)?.[1]).find(Boolean)
    ?? errors.map((e) => /^\('([a-z-]+)'/.exec(e)?.[1]).find(Boolean);
  return {
    status: status.slice(0, 64),
    ...(stage ? { lastStage: stage.slice(0, 128) } : {}),
    ...(errors.length ? { errors: errors.slice(0, 16).map((e) => e.slice(0, 1024)) } : {}),
  };
}

/** CloudInitFinished: True once done (or disabled), False while running or on error. */
export function cloudInitCondition(report: CloudInitReport): ConditionUpdate {
  const stage = report.lastStage ? ` (stage ${report.lastStage})` : '';
  switch (report.status) {
    case 'done':
      return { type: 'CloudInitFinished', status: 'True', reason: 'Done', message: 'cloud-init finished without errors.' };
    case 'disabled':
      return { type: 'CloudInitFinished', status: 'True', reason: 'Disabled', message: 'cloud-init is disabled in the guest.' };
    case 'running': case 'not started': case 'not run':
      return { type: 'CloudInitFinished', status: 'False', reason: 'Running', message: `cloud-init is ${report.status}${stage}.` };
    case 'error': case 'degraded done': case 'degraded':
      return {
        type: 'CloudInitFinished', status: 'False', reason: 'Error',
        message: `cloud-init reported ${report.status}${stage}: ${(report.errors ?? ['no detail']).join('; ').slice(0, 1024)} Check /var/log/cloud-init.log in the guest.`,
      };
    default:
      return { type: 'CloudInitFinished', status: 'Unknown', reason: 'UnknownStatus', message: `cloud-init status is '${report.status}'.` };
  }
}
