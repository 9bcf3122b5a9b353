import { describe, expect, it } from 'vitest';
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import { plannedVolume } from '../virtualmachine/status.js';
import { VerifiedVolumes } from './verified-sources.js';

const iso = (opts: { uid?: string; generation?: number; volume?: string; url?: string; status?: IsoAttachment['status'] } = {}): IsoAttachment => ({
  apiVersion: 'bootplane.io/v1alpha1', kind: 'IsoAttachment', metadata: { name: 'a', namespace: 'ns', uid: opts.uid ?? 'u1', generation: opts.generation ?? 1 },
  spec: { vmRef: { name: 'web' }, source: opts.url ? { url: opts.url, checksum: { algorithm: 'sha256', value: 'x'.repeat(64) } } : { volume: opts.volume ?? 'local:iso/a.iso' }, slot: 'auto', purpose: 'installer', primaryBoot: false, ejectPolicy: 'Never', cleanupOnFailure: true },
  ...(opts.status ? { status: opts.status } : {}),
});
const found = [{ type: 'SourceReady', status: 'True' as const, reason: 'VolumeFound', message: '', lastTransitionTime: 'x' }];

describe('VerifiedVolumes and the volume the VM plans with', () => {
  it('lets the VM attach a named volume once it was found, before any status is written', () => {
    const verified = new VerifiedVolumes();
    expect(plannedVolume(iso(), verified)).toBeUndefined();
    expect(verified.set(iso(), 'local:iso/a.iso')).toBe(true);
    expect(verified.set(iso(), 'local:iso/a.iso')).toBe(false);
    expect(plannedVolume(iso(), verified)).toBe('local:iso/a.iso');
  });

  it('holds for one object, one generation and one volume', () => {
    const verified = new VerifiedVolumes();
    verified.set(iso(), 'local:iso/a.iso');
    expect(plannedVolume(iso({ generation: 2 }), verified)).toBeUndefined();
    expect(plannedVolume(iso({ uid: 'u2' }), verified)).toBeUndefined();
    expect(verified.set(iso({ generation: 2, volume: 'local:iso/b.iso' }), 'local:iso/b.iso')).toBe(true);
    expect(plannedVolume(iso({ generation: 2, volume: 'local:iso/b.iso' }), verified)).toBe('local:iso/b.iso');
    verified.forget('ns/a');
    expect(plannedVolume(iso({ generation: 2, volume: 'local:iso/b.iso' }), verified)).toBeUndefined();
  });

  it('takes a named volume from status only when the status found that very volume', () => {
    expect(plannedVolume(iso({ status: { volume: 'local:iso/a.iso', conditions: found } }))).toBe('local:iso/a.iso');
    expect(plannedVolume(iso({ volume: 'local:iso/b.iso', status: { volume: 'local:iso/a.iso', conditions: found } }))).toBeUndefined();
    expect(plannedVolume(iso({ status: { volume: 'local:iso/a.iso', conditions: [{ ...found[0]!, status: 'False', reason: 'VolumeNotFound' }] } }))).toBeUndefined();
  });

  it('needs a verified download for a URL, whatever was verified in memory', () => {
    const verified = new VerifiedVolumes();
    const url = iso({ url: 'https://example.org/a.iso' });
    verified.set(url, 'local:iso/a.iso');
    expect(plannedVolume(url, verified)).toBeUndefined();
    expect(plannedVolume({ ...url, status: { volume: 'local:iso/a.iso', conditions: [{ ...found[0]!, reason: 'Downloaded' }] } }, verified)).toBe('local:iso/a.iso');
  });
});
