// The changes a person sees, made from the steps a plan runs: a relocation of the cloud-init
// drive is two steps (remove from one slot, create at another) and the regeneration that fills
// the new drive, but one change to the VM, so one Event. Each step keeps its own audit line.
import type { Step } from './model.js';
import { describeStep } from './steps.js';

export interface Change {
  /** The Event reason: IsoAttached, CloudInitRelocated, BootOrderChanged, ... */
  reason: string;
  /** One line a person can read. */
  note: string;
  steps: Step[];
}

const REASONS: Record<Step['op'], string> = {
  attachIso: 'IsoAttached',
  detachIso: 'IsoDetached',
  swapMedia: 'MediaChanged',
  createCloudInit: 'CloudInitCreated',
  removeCloudInit: 'CloudInitRemoved',
  regenerateCloudInit: 'CloudInitRegenerated',
  setBootOrder: 'BootOrderChanged',
};

export function changesOf(steps: readonly Step[]): Change[] {
  const removed = steps.find((s) => s.op === 'removeCloudInit');
  const created = steps.find((s) => s.op === 'createCloudInit');
  const relocated = removed && created && removed.slot !== created.slot ? { removed, created } : undefined;
  const regenerate = steps.find((s) => s.op === 'regenerateCloudInit');
  const changes: Change[] = [];
  for (const step of steps) {
    if (relocated && (step === relocated.removed || step === relocated.created || step === regenerate)) {
      if (step !== relocated.removed) continue; // reported once, where the relocation starts
      changes.push({
        reason: 'CloudInitRelocated',
        note: `move the cloud-init drive from ${relocated.removed.slot} to ${relocated.created.slot}${regenerate ? ' and regenerate its image' : ''}`,
        steps: [relocated.removed, relocated.created, ...(regenerate ? [regenerate] : [])],
      });
      continue;
    }
    changes.push({ reason: REASONS[step.op], note: describeStep(step), steps: [step] });
  }
  return changes;
}
