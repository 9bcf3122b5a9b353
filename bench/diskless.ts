// `diskless`: DisklessSessions on Debian's tgtd on loopback, through the real reconciler (an
// in-memory store stands in for the API server, so what is timed is our work: image check,
// copy, target). Results:
// - time from a new 1 GiB session to Active, sparse copy on this machine's filesystem, against
//   `cp --sparse=always` of the same file (the copy's ceiling, same run);
// - the same with a reflink, on an XFS filesystem in a loop-mounted file (skipped, with a note on
//   stderr, where loop mounts are not allowed), against `cp --reflink=always`;
// - 20 sessions (64 MiB images) started at once, until all are Active;
// - sequential read over iSCSI from a session's LUN (256 MiB, 1 MiB READ(10)s, our test
//   initiator: no kernel initiator runs here, and the booted test guest has no iSCSI driver once
//   iPXE hands over) against reading the same file locally with the same block size.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DisklessSession } from '../src/api/v1alpha1/diskless-session.js';
import { addSessionIndexes } from '../src/boot/indexes.js';
import { DisklessSessionReconciler } from '../src/controllers/disklesssession/reconciler.js';
import { silentLogger } from '../src/observability/logger.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { createTargetHost, type TargetHost } from '../src/targets/host.js';
import { IscsiSession } from '../test/support/iscsi.js';
import { freePort } from '../test/support/ports.js';
import { report } from './report.js';

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

function writeImage(path: string, size: number): void {
  // Non-zero in every MiB, so a sparse copy has to copy all of it.
  const chunk = randomBytes(MIB);
  writeFileSync(path, '');
  for (let offset = 0; offset < size; offset += MIB) writeFileSync(path, chunk, { flag: 'a' });
}

function session(name: string, mac: string, image: string, portal: number, copyDirectory: string): DisklessSession {
  return {
    apiVersion: 'bootplane.io/v1alpha1', kind: 'DisklessSession',
    metadata: { name, namespace: 'bench', uid: randomBytes(8).toString('hex'), generation: 1, creationTimestamp: new Date().toISOString() },
    spec: { machine: { mac }, image: { path: image }, mode: 'ephemeral', deletePersistentCopy: false, target: { driver: 'tgt', portal: `127.0.0.1:${portal}`, copyDirectory }, chap: false, state: 'Active' },
  };
}

/** Reconciles until Active, polling jobs every 5 ms (the controller's requeueAfter, shortened). */
async function untilActive(store: MemoryStore, reconciler: DisklessSessionReconciler, name: string): Promise<void> {
  for (;;) {
    await reconciler.reconcile({ namespace: 'bench', name });
    const phase = store.get<DisklessSession>('DisklessSession', `bench/${name}`)?.status?.phase;
    if (phase === 'Active') return;
    if (phase === 'Failed') throw new Error(`${name} failed: ${JSON.stringify(store.get<DisklessSession>('DisklessSession', `bench/${name}`)?.status?.conditions)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export async function run(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-diskless-'));
  const portal = await freePort();
  const controlPort = 10_000 + (portal % 10_000);
  const host: TargetHost = createTargetHost({ disklessTarget: 'supervise', disklessPortalAddr: `127.0.0.1:${portal}`, disklessControlPort: controlPort, disklessDataDir: join(work, 'data'), disklessStopGraceSeconds: 0 }, silentLogger())!;
  await host.start();
  const store = new MemoryStore();
  addSessionIndexes(store.cache('DisklessSession'));
  const reconciler = new DisklessSessionReconciler(store, host);
  let mac = 0;
  const nextMac = () => `52:54:00:be:${(++mac >> 8).toString(16).padStart(2, '0')}:${(mac & 255).toString(16).padStart(2, '0')}`;
  let xfs: string | undefined;
  try {
    // 1 GiB, sparse copy.
    const golden = join(work, 'golden-1g.img');
    writeImage(golden, GIB);
    // A golden image is long written when sessions start: not its writeback.
    execFileSync('sync');
    const copies = join(work, 'copies');
    mkdirSync(copies);
    const s1 = store.put('DisklessSession', session('one-gib', nextMac(), golden, portal, copies));
    const sparse = await timed(() => untilActive(store, reconciler, s1.metadata.name));
    const cpSparse = await timed(() => { execFileSync('cp', ['--sparse=always', golden, join(work, 'cp-sparse.img')]); });
    rmSync(join(work, 'cp-sparse.img'));
    report({ name: 'diskless-active-1gib-copy', unit: 's', value: sparse, peer: 'cp --sparse=always', peerValue: cpSparse, ratio: sparse / cpSparse });

    // Sequential read over iSCSI against the local file, same block size.
    const s1status = store.get<DisklessSession>('DisklessSession', 'bench/one-gib')!.status!;
    const iscsi = await IscsiSession.connect('127.0.0.1', portal);
    const login = await iscsi.login(s1status.initiatorIQN!, s1status.targetIQN!);
    if (!login.ok) throw new Error(`login refused: ${JSON.stringify(login)}`);
    const readBytes = 256 * MIB;
    await iscsi.read(1, 0, 8); // the first command meets the UNIT ATTENTION
    const overIscsi = await timed(async () => {
      for (let lba = 0; lba < readBytes / 512; lba += MIB / 512) await iscsi.read(1, lba, MIB / 512);
    });
    iscsi.close();
    const file = await open(s1status.copyPath!, 'r');
    const buffer = Buffer.allocUnsafe(MIB);
    const local = await timed(async () => {
      for (let offset = 0; offset < readBytes; offset += MIB) await file.read(buffer, 0, MIB, offset);
    });
    await file.close();
    report({ name: 'diskless-iscsi-sequential-read', unit: 'MiB/s', value: readBytes / MIB / overIscsi, peer: 'local file read', peerValue: readBytes / MIB / local, ratio: local / overIscsi, note: 'ratio = iSCSI MiB/s / local MiB/s; one 1 MiB READ(10) in flight at a time' });

    // 1 GiB, reflink on XFS.
    xfs = join(work, 'xfs');
    mkdirSync(xfs);
    try {
      execFileSync('truncate', ['-s', '4G', join(work, 'xfs.img')]);
      execFileSync('mkfs.xfs', ['-q', '-f', join(work, 'xfs.img')]);
      execFileSync('mount', ['-o', 'loop', join(work, 'xfs.img'), xfs]);
    } catch (err) {
      process.stderr.write(`diskless: reflink case skipped, no XFS loop mount here (${(err as Error).message.split('\n')[0]})\n`);
      xfs = undefined;
    }
    if (xfs) {
      const xfsGolden = join(xfs, 'golden-1g.img');
      execFileSync('cp', [golden, xfsGolden]);
      // A reflink waits for the source's dirty pages; a golden image has none.
      execFileSync('sync');
      const s2 = store.put('DisklessSession', session('one-gib-reflink', nextMac(), xfsGolden, portal, join(xfs, 'copies')));
      const reflink = await timed(() => untilActive(store, reconciler, s2.metadata.name));
      const method = store.get<DisklessSession>('DisklessSession', 'bench/one-gib-reflink')?.status?.copy?.method;
      const cpReflink = await timed(() => { execFileSync('cp', ['--reflink=always', xfsGolden, join(xfs!, 'cp-reflink.img')]); });
      report({ name: 'diskless-active-1gib-reflink', unit: 's', value: reflink, peer: 'cp --reflink=always', peerValue: cpReflink, ratio: reflink / cpReflink, method });
    }

    // 20 sessions at once.
    const small = join(work, 'golden-64m.img');
    writeImage(small, 64 * MIB);
    execFileSync('sync');
    const names = Array.from({ length: 20 }, (_, i) => store.put('DisklessSession', session(`many-${i}`, nextMac(), small, portal, copies)).metadata.name);
    const many = await timed(async () => { await Promise.all(names.map((n) => untilActive(store, reconciler, n))); });
    report({ name: 'diskless-20-sessions-active', unit: 's', value: many, imageMiB: 64 });
  } finally {
    await host.stop();
    if (xfs) execFileSync('umount', [xfs], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}
