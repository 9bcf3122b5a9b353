import { describe, expect, it } from 'vitest';
import { formatBoot, parseBoot, resolveLegacyBootOrder } from './boot.js';

describe('pveBootOrderCodec', () => {
  it.each([
    ['order=scsi0;ide2;net0', { kind: 'order', order: ['scsi0', 'ide2', 'net0'], options: {} }],
    ['order=scsi0', { kind: 'order', order: ['scsi0'], options: {} }],
    ['cdn', { kind: 'legacy', letters: 'cdn', options: {} }],
    ['c', { kind: 'legacy', letters: 'c', options: {} }],
  ])('parses %s and prints it back unchanged', (text, expected) => {
    const boot = parseBoot(text);
    expect(boot).toEqual(expected);
    expect(formatBoot(boot)).toBe(text);
  });

  it('reads legacy=, order lists split on commas or spaces, and lets order= win over letters', () => {
    expect(parseBoot('legacy=dc')).toEqual({ kind: 'legacy', letters: 'dc', options: {} });
    expect(parseBoot('order=scsi0;ide2 net0')).toMatchObject({ order: ['scsi0', 'ide2', 'net0'] });
    expect(parseBoot('cdn,order=net0;scsi0')).toEqual({ kind: 'order', order: ['net0', 'scsi0'], options: {} });
  });

  it('an empty string boots the legacy default cdn', () => {
    expect(parseBoot('')).toEqual({ kind: 'legacy', letters: 'cdn', options: {} });
  });

  it('keeps unknown properties', () => {
    expect(formatBoot(parseBoot('order=scsi0;net0,zz=1'))).toBe('order=scsi0;net0,zz=1');
  });

  it('refuses letters PVE does not know', () => {
    expect(() => parseBoot('cdx')).toThrow(/\[acdn\]/);
  });
});

describe('resolveLegacyBootOrder', () => {
  const devices = {
    drives: [
      { key: 'ide0', cdrom: false, cloudInit: false },
      { key: 'ide2', cdrom: true, cloudInit: false },
      { key: 'sata1', cdrom: true, cloudInit: false },
      { key: 'scsi0', cdrom: false, cloudInit: false },
      { key: 'scsi1', cdrom: false, cloudInit: true },
    ],
    nets: ['net0', 'net1'],
    bootdisk: 'scsi0',
  };

  it.each([
    ['cdn', ['scsi0', 'ide2', 'sata1', 'net0', 'net1']],
    ['c', ['scsi0']],
    ['dc', ['ide2', 'sata1', 'scsi0']],
    ['ncd', ['net0', 'net1', 'scsi0', 'ide2', 'sata1']],
    ['a', []],
  ])('%s boots in PVE\'s order', (letters, order) => {
    expect(resolveLegacyBootOrder(letters, devices)).toEqual(order);
  });

  it('without a bootdisk, c boots nothing', () => {
    expect(resolveLegacyBootOrder('c', { ...devices, bootdisk: undefined })).toEqual([]);
  });
});
