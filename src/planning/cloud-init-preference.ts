// Whether a cloud-init drive sits on the bus its OS family prefers on its machine: what
// `bootplane migrate cloud-init` lists. Pure; the same preference tables the planner places
// drives by (os-profiles.ts), so the answer matches what placement: auto would do.
import type { OsFamily } from '../api/v1alpha1/virtual-machine.js';
import type { Bus, MachineFacts } from './model.js';
import { cloudInitBusesFor, OS_PROFILES } from './os-profiles.js';
import { busOf } from './slots.js';

export type CloudInitPreference =
  | { verdict: 'preferred'; bus: Bus }
  | { verdict: 'misplaced'; bus: Bus; preferred: Bus }
  /** The OS ignores cloud-init (Fedora CoreOS boots with Ignition): nothing to move to. */
  | { verdict: 'unused'; bus: Bus | undefined }
  | { verdict: 'unknownSlot'; slot: string };

export function cloudInitPreference(family: OsFamily, machine: MachineFacts, slot: string): CloudInitPreference {
  const bus = busOf(slot);
  if (OS_PROFILES[family].cloudInit === 'unused') return { verdict: 'unused', bus };
  if (!bus) return { verdict: 'unknownSlot', slot };
  const preferred = cloudInitBusesFor(OS_PROFILES[family], machine)[0];
  if (!preferred || preferred === bus) return { verdict: 'preferred', bus };
  return { verdict: 'misplaced', bus, preferred };
}
