import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DirStore } from '../store/dir-store.js';
import type { PlannedChange } from './actions.js';
import type { Session } from './auth.js';
import { ManifestWriter } from './writers.js';

const SITE = `# the site's VMs
apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: web, namespace: prod}  # the web tier
spec:
  hypervisorRef: {name: pve}
  # hd first; the console may change it
  bootOrder: {preset: hd}
---
# another one
apiVersion: bootplane.io/v1alpha1
kind: VirtualMachine
metadata: {name: db, namespace: prod}
spec:
  hypervisorRef: {name: pve}
`;

function writer(): { dir: string; w: ManifestWriter; rescans: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'console-writer-'));
  writeFileSync(join(dir, 'vms.yaml'), SITE);
  const rescans: number[] = [];
  const store = { dir, manifestFile: () => 'vms.yaml', scheduleRescan: () => rescans.push(1) } as unknown as DirStore;
  return { dir, w: new ManifestWriter(store), rescans };
}
const session = {} as Session;
const texts = { before: '', after: '', diff: '' };

describe('ManifestWriter', () => {
  it('patches one document in place, keeping every comment and the other documents as they were', async () => {
    const { dir, w, rescans } = writer();
    const change: PlannedChange = { ...texts, kind: 'VirtualMachine', namespace: 'prod', name: 'web', operation: 'patch', patch: { spec: { bootOrder: { preset: null, devices: ['ide2', 'scsi0'] } } } };
    await w.apply(session, change);
    const text = readFileSync(join(dir, 'vms.yaml'), 'utf8');
    for (const comment of ['# the site\'s VMs', '# the web tier', '# hd first; the console may change it', '# another one']) expect(text).toContain(comment);
    expect(text).toContain('bootOrder: {devices: [ide2, scsi0]}');
    expect(text).not.toContain('preset');
    expect(text.slice(text.indexOf('# another one'))).toBe(SITE.slice(SITE.indexOf('# another one')));
    expect(rescans).toHaveLength(1);
  });

  it('appends a new IsoAttachment beside its VM and removes one document on delete', async () => {
    const { dir, w } = writer();
    await w.apply(session, { ...texts, kind: 'IsoAttachment', namespace: 'prod', name: 'web-debian', operation: 'create', object: { apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'web-debian', namespace: 'prod' }, spec: { vmRef: { name: 'web' } } } });
    expect(readFileSync(join(dir, 'vms.yaml'), 'utf8')).toContain('name: web-debian');
    await w.apply(session, { ...texts, kind: 'VirtualMachine', namespace: 'prod', name: 'db', operation: 'delete' });
    const text = readFileSync(join(dir, 'vms.yaml'), 'utf8');
    expect(text).not.toContain('name: db');
    expect(text).toContain('# the web tier');
  });
});
