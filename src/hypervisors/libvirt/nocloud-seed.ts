// The NoCloud seed ISO cloud-init looks for: volume label cidata with user-data, meta-data and
// (optionally) network-config at its root. Built in memory and uploaded into a storage pool as
// <vm>-cidata.iso, the name the domain XML reader recognises as the cloud-init drive.
import { createHash } from 'node:crypto';
import { buildIso9660 } from './iso9660.js';
import { escapeXml } from './xml-tree.js';
import type { LibvirtClient } from './rpc/client.js';
import { LibvirtError } from './rpc/errors.js';
import { ErrorCode } from './rpc/protocol.js';
import type { VolumeRef } from './rpc/types.js';

export interface NoCloudSeed {
  userData: string;
  metaData: string;
  networkConfig?: string;
}

export function buildNoCloudSeedIso(seed: NoCloudSeed): Buffer {
  const files = [
    { name: 'user-data', data: Buffer.from(seed.userData, 'utf8') },
    { name: 'meta-data', data: Buffer.from(seed.metaData, 'utf8') },
  ];
  if (seed.networkConfig !== undefined) files.push({ name: 'network-config', data: Buffer.from(seed.networkConfig, 'utf8') });
  return buildIso9660('cidata', files);
}

export const seedVolumeName = (vmName: string) => `${vmName}-cidata.iso`;

/** A content hash for status, so a changed spec or Secret is seen as a different seed (never the content itself: it may hold secrets). */
export const seedDigest = (iso: Buffer) => createHash('sha256').update(iso).digest('hex');

/**
 * Uploads the seed as <vm>-cidata.iso into `poolName`, replacing an older one of another size
 * (a raw volume's capacity is the file size). Returns the volume as pool/name.
 */
export async function uploadNoCloudSeed(client: LibvirtClient, poolName: string, vmName: string, iso: Buffer, signal?: AbortSignal): Promise<string> {
  const pool = await client.lookupPool(poolName, signal);
  const name = seedVolumeName(vmName);
  let vol: VolumeRef | undefined;
  try {
    vol = await client.lookupVolume(pool, name, signal);
  } catch (err) {
    if (!(err instanceof LibvirtError && err.is(ErrorCode.NO_STORAGE_VOL))) throw err;
  }
  if (vol && (await client.volumeInfo(vol, signal)).capacityBytes !== iso.length) {
    await client.deleteVolume(vol, signal);
    vol = undefined;
  }
  vol ??= await client.createVolume(pool, `<volume><name>${escapeXml(name)}</name><capacity unit='bytes'>${iso.length}</capacity><target><format type='raw'/></target></volume>`, 0, signal);
  await client.uploadVolume(vol, iso, {}, signal);
  return `${poolName}/${name}`;
}
