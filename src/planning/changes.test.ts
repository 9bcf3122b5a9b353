import { describe, expect, it } from 'vitest';
import { changesOf } from './changes.js';
import { rollbackSteps } from './steps.js';
import type { Step } from './model.js';

const relocationPlan: Step[] = [
  { op: 'removeCloudInit', slot: 'ide2' },
  { op: 'createCloudInit', slot: 'scsi1' },
  { op: 'attachIso', slot: 'ide2', volume: 'local:iso/fcos.iso' },
  { op: 'setBootOrder', order: ['ide2', 'scsi0'], previous: ['scsi0'] },
  { op: 'regenerateCloudInit' },
];

describe('changesOf', () => {
  it('reports a cloud-init relocation and the regeneration that fills the new drive as one change', () => {
    const changes = changesOf(relocationPlan);
    expect(changes.map((c) => c.reason)).toEqual(['CloudInitRelocated', 'IsoAttached', 'BootOrderChanged']);
    expect(changes[0]!.note).toBe('move the cloud-init drive from ide2 to scsi1 and regenerate its image');
    expect(changes.flatMap((c) => c.steps)).toHaveLength(relocationPlan.length);
  });

  it('reports a rolled-back relocation as the move back', () => {
    const changes = changesOf(rollbackSteps(relocationPlan));
    expect(changes.map((c) => c.reason)).toEqual(['BootOrderChanged', 'IsoDetached', 'CloudInitRelocated']);
    expect(changes[2]!.note).toBe('move the cloud-init drive from scsi1 to ide2 and regenerate its image');
  });

  it('keeps a lone creation, removal or regeneration as its own change', () => {
    expect(changesOf([{ op: 'createCloudInit', slot: 'ide2' }, { op: 'regenerateCloudInit' }]).map((c) => c.reason)).toEqual(['CloudInitCreated', 'CloudInitRegenerated']);
    expect(changesOf([{ op: 'removeCloudInit', slot: 'ide2' }]).map((c) => c.reason)).toEqual(['CloudInitRemoved']);
  });
});
