import { describe, expect, it } from 'vitest';
import { parseLibvirtUri } from './dialer.js';

describe('libvirt URIs', () => {
  it.each([
    ['qemu:///system', 'unix', undefined, undefined, 'qemu:///system'],
    ['qemu+unix:///system?socket=/tmp/s', 'unix', undefined, undefined, 'qemu:///system'],
    ['qemu+tcp://host.example:16600/system', 'tcp', 'host.example', 16600, 'qemu:///system'],
    ['qemu+tls://host.example/system', 'tls', 'host.example', undefined, 'qemu:///system'],
    ['qemu://host.example/system', 'tls', 'host.example', undefined, 'qemu:///system'],
    ['qemu+ssh://root@[2001:db8::1]:2222/system?keyfile=/k', 'ssh', '2001:db8::1', 2222, 'qemu:///system'],
    ['test:///default', 'unix', undefined, undefined, 'test:///default'],
  ])('%s', (uri, transport, host, port, remoteName) => {
    const p = parseLibvirtUri(uri);
    expect([p.transport, p.host, p.port, p.remoteName]).toEqual([transport, host, port, remoteName]);
  });

  it('names the field when the URI is not a libvirt URI', () => {
    expect(() => parseLibvirtUri('http://x')).toThrow(/spec\.libvirt\.uri/);
  });
});
