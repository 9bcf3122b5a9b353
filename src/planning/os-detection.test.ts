import { describe, expect, it } from 'vitest';
import { detectOsFamily, familyFromText } from './os-detection.js';

describe('detectOsFamily', () => {
  it.each([
    ['the spec wins over everything', { name: 'ubuntu-24', osHints: { ostype: 'win11' } }, 'rhel', { family: 'rhel', source: 'spec' }],
    ['a Windows ostype', { name: 'ubuntu-24', osHints: { ostype: 'win11' } }, undefined, { family: 'windows', source: 'hypervisor' }],
    ['a tag', { name: 'web-1', osHints: { ostype: 'l26', tags: ['prod', 'rocky9'] } }, undefined, { family: 'rhel', source: 'hypervisor' }],
    ['tags before the name', { name: 'debian-12', osHints: { tags: ['talos'] } }, undefined, { family: 'talos', source: 'hypervisor' }],
    ['the template', { name: 'node-7', osHints: { ostype: 'l26', template: 'fedora-coreos-40-template' } }, undefined, { family: 'fcos', source: 'hypervisor' }],
    ['l26 says only Linux, so the name decides', { name: 'ubuntu-2404-ci', osHints: { ostype: 'l26' } }, undefined, { family: 'ubuntu', source: 'name' }],
    ['nothing known', { name: 'build-agent-3', osHints: { ostype: 'l26' } }, undefined, { family: 'linux', source: 'default' }],
  ] as const)('%s', (_, vm, spec, expected) => {
    expect(detectOsFamily({ name: vm.name, osHints: { ...vm.osHints, tags: 'tags' in vm.osHints ? [...vm.osHints.tags] : undefined } }, spec)).toEqual(expected);
  });

  it.each([
    ['debian-12-web', 'debian'], ['Ubuntu2404', 'ubuntu'], ['rhel9-db', 'rhel'], ['centos-stream', 'rhel'], ['rocky-9', 'rhel'],
    ['almalinux-9', 'rhel'], ['fedora-40', 'fedora'], ['fedora-coreos', 'fcos'], ['fcos-worker-1', 'fcos'], ['okd-master-0', 'fcos'],
    ['win2022-dc', 'windows'], ['WIN11', 'windows'], ['talos-cp-1', 'talos'], ['okd-bootstrap', 'fcos'],
  ])('name %s is %s', (name, family) => expect(familyFromText(name)).toBe(family));

  it.each(['twin-peaks', 'darwin-builder', 'gateway', 'kiwi'])('name %s names no family', (name) => expect(familyFromText(name)).toBeUndefined());
});
