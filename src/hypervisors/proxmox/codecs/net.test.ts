import { describe, expect, it } from 'vitest';
import { formatNet, parseNet } from './net.js';

describe('pveNetCodec', () => {
  it.each([
    ['virtio=52:54:00:12:34:56,bridge=vmbr0,tag=10', { model: 'virtio', macaddr: '52:54:00:12:34:56', bridge: 'vmbr0', tag: 10, options: {} }],
    ['virtio=BC:24:11:2E:1B:5A,bridge=vmbr0,firewall=1', { model: 'virtio', macaddr: 'BC:24:11:2E:1B:5A', bridge: 'vmbr0', firewall: true, options: {} }],
    ['e1000=52:54:00:aa:bb:cc,bridge=vmbr1,link_down=1,mtu=1500,queues=4', { model: 'e1000', macaddr: '52:54:00:aa:bb:cc', bridge: 'vmbr1', options: { link_down: '1', mtu: '1500', queues: '4' } }],
  ])('parses %s and prints it back unchanged', (text, expected) => {
    const net = parseNet(text);
    expect(net).toEqual(expected);
    expect(formatNet(net)).toBe(text);
  });

  it('reads the long model=/macaddr= form and prints the short one', () => {
    expect(formatNet(parseNet('model=virtio,macaddr=52:54:00:00:00:01,bridge=vmbr0'))).toBe('virtio=52:54:00:00:00:01,bridge=vmbr0');
  });

  it('a NIC without a MAC keeps model=', () => {
    expect(formatNet(parseNet('model=virtio,bridge=vmbr0'))).toBe('model=virtio,bridge=vmbr0');
  });

  it.each([['bridge=vmbr0', /no model/], ['virtio=52:54:00:00:00:01,e1000=52:54:00:00:00:02', /model twice/], ['virtio,tag=x', /tag must be a number/]])(
    'refuses %j', (text, message) => expect(() => parseNet(text)).toThrow(message));
});
