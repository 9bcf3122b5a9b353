import { homedir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
const cache = process.env.BOOTPLANE_CACHE ?? join(homedir(), '.cache', 'bootplane');
export const CONTROL_PLANE_STATE = process.env.BOOTPLANE_CP_STATE ?? join(cache, 'control-plane');
export const KUBECONFIG = join(CONTROL_PLANE_STATE, 'kubeconfig');
