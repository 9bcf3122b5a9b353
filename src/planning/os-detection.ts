// Which OS family a VM runs, in the precedence users asked for: the spec says so → the VM says so
// (Proxmox ostype, tags, the template it was cloned from) → its name → generic Linux.
import type { OsFamily } from '../api/v1alpha1/virtual-machine.js';
import type { ObservedVm, Plan } from './model.js';

export interface DetectedOs {
  family: OsFamily;
  source: Plan['osFamilySource'];
}

// Word prefixes that name a family, most specific first: "fedora-coreos" is fcos, not fedora.
const NAME_PATTERNS: readonly [OsFamily, RegExp][] = [
  ['fcos', /^(fcos|coreos|okd|openshift)/],
  ['fedora', /^fedora/],
  ['ubuntu', /^ubuntu/],
  ['debian', /^debian/],
  ['rhel', /^(rhel|centos|rocky|alma|oracle|ol\d)/],
  ['windows', /^(win|windows|w2k)/],
  ['talos', /^talos/],
];

const WINDOWS_OSTYPE = /^(wxp|w2k\d*|wvista|win\d+)$/;

/** The family a free-text name (VM name, tag, template name) points at, if any. */
export function familyFromText(text: string): OsFamily | undefined {
  const lower = text.toLowerCase();
  // Whole words first ("fedora-coreos-39" → fcos), then each word on its own.
  if (/fedora[-_ ]?coreos/.test(lower)) return 'fcos';
  const words = lower.split(/[^a-z0-9]+/).filter((w) => w !== '');
  for (const [family, pattern] of NAME_PATTERNS) {
    if (words.some((w) => pattern.test(w))) return family;
  }
  return undefined;
}

export function detectOsFamily(observed: Pick<ObservedVm, 'name' | 'osHints'>, specFamily?: OsFamily): DetectedOs {
  if (specFamily !== undefined) return { family: specFamily, source: 'spec' };
  const { ostype, tags, template } = observed.osHints;
  if (ostype !== undefined && WINDOWS_OSTYPE.test(ostype)) return { family: 'windows', source: 'hypervisor' };
  for (const tag of tags ?? []) {
    const family = familyFromText(tag);
    if (family) return { family, source: 'hypervisor' };
  }
  if (template !== undefined) {
    const family = familyFromText(template);
    if (family) return { family, source: 'hypervisor' };
  }
  const fromName = familyFromText(observed.name);
  if (fromName) return { family: fromName, source: 'name' };
  return { family: 'linux', source: 'default' };
}
