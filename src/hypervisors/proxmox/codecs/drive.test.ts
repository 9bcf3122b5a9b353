import { describe, expect, it } from 'vitest';
import { formatDrive, isCdromDrive, isCloudInitDrive, isEmptyCdrom, isIsoVolume, parseDiskSize, parseDrive } from './drive.js';
import { PropertyStringError } from './property-string.js';

describe('pveDriveCodec', () => {
  it.each([
    ['local:iso/x.iso,media=cdrom', { file: 'local:iso/x.iso', media: 'cdrom', options: {} }],
    ['local-lvm:vm-101-disk-0,size=32G', { file: 'local-lvm:vm-101-disk-0', size: '32G', options: {} }],
    ['local-lvm:vm-101-cloudinit,media=cdrom', { file: 'local-lvm:vm-101-cloudinit', media: 'cdrom', options: {} }],
    ['none,media=cdrom', { file: 'none', media: 'cdrom', options: {} }],
    ['local-lvm:vm-101-disk-0,cache=writeback,discard=on,iothread=1,size=32G,ssd=1',
      { file: 'local-lvm:vm-101-disk-0', size: '32G', options: { cache: 'writeback', discard: 'on', iothread: '1', ssd: '1' } }],
    ['local:101/vm-101-cloudinit.qcow2,media=cdrom,size=4M', { file: 'local:101/vm-101-cloudinit.qcow2', media: 'cdrom', size: '4M', options: {} }],
  ])('parses %s and prints it back unchanged', (text, expected) => {
    const drive = parseDrive(text);
    expect(drive).toEqual(expected);
    expect(formatDrive(drive)).toBe(text);
  });

  it('accepts file= and volume= for the file, and prints the short form', () => {
    expect(formatDrive(parseDrive('media=cdrom,file=local:iso/a.iso'))).toBe('local:iso/a.iso,media=cdrom');
    expect(parseDrive('volume=local-lvm:vm-1-disk-0').file).toBe('local-lvm:vm-1-disk-0');
  });

  it('keeps properties it has no field for, including unknown ones', () => {
    const text = 'local-lvm:vm-101-disk-0,aio=io_uring,future-key=some value,size=8G';
    expect(formatDrive(parseDrive(text))).toBe(text);
  });

  it('quotes values holding commas and reads them back', () => {
    const drive = { file: 'local:iso/a.iso', media: 'cdrom' as const, options: { serial: 'a,b"c' } };
    const text = formatDrive(drive);
    expect(text).toBe('local:iso/a.iso,media=cdrom,serial="a,b\\"c"');
    expect(parseDrive(text)).toEqual(drive);
  });

  it.each([
    ['', /no file/],
    ['media=cdrom', /no file/],
    ['local:iso/a.iso,media=floppy', /media must be cdrom or disk/],
    ['local:iso/a.iso,media=cdrom,media=cdrom', /duplicate key/],
    ['a,b', /two values without a key/],
    ['local:iso/a.iso,serial="open', /unterminated/],
  ])('refuses %j', (text, message) => {
    expect(() => parseDrive(text)).toThrow(PropertyStringError);
    expect(() => parseDrive(text)).toThrow(message);
  });

  it('classifies drives the way PVE does', () => {
    expect(isCloudInitDrive(parseDrive('local-lvm:vm-101-cloudinit,media=cdrom'))).toBe(true);
    expect(isCloudInitDrive(parseDrive('local:101/vm-101-cloudinit.qcow2,media=cdrom'))).toBe(true);
    expect(isCloudInitDrive(parseDrive('local-lvm:cloudinit'))).toBe(true);
    expect(isCloudInitDrive(parseDrive('local:iso/cloudinit-helper.iso,media=cdrom'))).toBe(false);
    expect(isCdromDrive(parseDrive('local-lvm:vm-101-cloudinit,media=cdrom'))).toBe(false);
    expect(isCdromDrive(parseDrive('local:iso/a.iso,media=cdrom'))).toBe(true);
    expect(isCdromDrive(parseDrive('local-lvm:vm-101-disk-0,size=32G'))).toBe(false);
    expect(isEmptyCdrom(parseDrive('none,media=cdrom'))).toBe(true);
    expect(isIsoVolume('nfs-iso:iso/Fedora-CoreOS.x86_64.ISO')).toBe(true);
    expect(isIsoVolume('local:iso/virtio-win.img')).toBe(true);
    expect(isIsoVolume('local-lvm:vm-101-disk-0')).toBe(false);
  });

  it.each([['32G', 32 * 1024 ** 3], ['4M', 4 * 1024 ** 2], ['1T', 1024 ** 4], ['512K', 512 * 1024], ['1.5G', 1.5 * 1024 ** 3], ['4096', 4096]])(
    'reads size %s', (text, bytes) => expect(parseDiskSize(text)).toBe(bytes));
  it('gives no size for nonsense', () => expect(parseDiskSize('big')).toBeUndefined());
});
