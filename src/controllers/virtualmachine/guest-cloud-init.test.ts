import { describe, expect, it } from 'vitest';
import { cloudInitCondition, parseCloudInitStatus } from './guest-cloud-init.js';

describe('parseCloudInitStatus', () => {
  it('reads a finished run (cloud-init 23.x)', () => {
    const out = 'status: done\nextended_status: done\nboot_status_code: enabled-by-generator\nlast_update: Thu, 01 Jan 1970 00:00:32 +0000\ndetail:\nDataSourceNoCloud [seed=/dev/sr0][dsmode=net]\nerrors: []\nrecoverable_errors: {}\n';
    expect(parseCloudInitStatus(out)).toEqual({ status: 'done' });
    expect(cloudInitCondition(parseCloudInitStatus(out))).toMatchObject({ status: 'True', reason: 'Done' });
  });

  it('reads the stage of a running one', () => {
    const r = parseCloudInitStatus('status: running\ntime: Mon, 01 Jan 2024 10:00:00 +0000\ndetail:\nRunning in stage: modules-config\n');
    expect(r).toEqual({ status: 'running', lastStage: 'modules-config' });
    expect(cloudInitCondition(r)).toMatchObject({ status: 'False', reason: 'Running' });
  });

  it('reads errors in the list form and their stage', () => {
    const r = parseCloudInitStatus("status: error\ntime: Mon, 01 Jan 2024 10:00:00 +0000\ndetail:\n('init', ModuleDetails(module=cc_set_hostname))\nerrors:\n\t- ('init', ModuleDetails(module=cc_set_hostname))\n\t- Failed to set hostname\n");
    expect(r.status).toBe('error');
    expect(r.lastStage).toBe('init');
    expect(r.errors).toEqual(["('init', ModuleDetails(module=cc_set_hostname))", 'Failed to set hostname']);
    const c = cloudInitCondition(r);
    expect(c).toMatchObject({ status: 'False', reason: 'Error' });
    expect(c.message).toContain('Failed to set hostname');
  });

  it('reads errors in the inline form', () => {
    expect(parseCloudInitStatus("status: error\nerrors: ['a failed', 'b failed']\n").errors).toEqual(['a failed', 'b failed']);
  });
});
