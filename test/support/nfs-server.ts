// A real NFS server on loopback for guest tests: NFS-Ganesha (userspace; the kernel server cannot
// run in this container) exporting a fresh tmpfs over NFSv3 on free ports. Ganesha registers with
// rpcbind, which is started when it is not running. A guest on qemu user networking reaches it
// as 10.0.2.2 with fstab options naming the ports (see mountOptions).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './kube.js';
import { freePort } from './ports.js';

export interface NfsServer {
  /** The exported directory on this machine (what the guest sees under the mount point). */
  dir: string;
  /** The export path to put in spec.nfsMounts[].export. */
  exportPath: string;
  nfsPort: number;
  mountPort: number;
  /** Options for busybox mount, which hands them to the kernel (so addr= is needed). */
  mountOptions(serverAddress: string): string;
  stop(): Promise<void>;
}

export async function startNfsServer(prefix: string): Promise<NfsServer> {
  execFileSync('sh', ['-c', 'pgrep -x rpcbind >/dev/null || rpcbind -w']);
  const base = mkdtempSync(join(tmpdir(), `${prefix}-nfs-`));
  const dir = join(base, 'export');
  mkdirSync(dir);
  // Ganesha's VFS backend needs file handles (open_by_handle_at), which tmpfs has and overlayfs not.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', `${prefix}-nfs`, dir]);
  const [nfsPort, mountPort, nlmPort, rquotaPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(base, 'ganesha.conf');
  writeFileSync(config, `NFS_CORE_PARAM {
  NFS_Port = ${nfsPort}; MNT_Port = ${mountPort}; NLM_Port = ${nlmPort}; Rquota_Port = ${rquotaPort};
  Enable_NLM = false; Enable_RQUOTA = false; Protocols = 3; Bind_addr = 127.0.0.1;
}
NFSV4 { Graceless = true; }
EXPORT {
  Export_Id = 1; Path = ${dir}; Pseudo = ${dir}; Access_Type = RW; Squash = No_Root_Squash;
  Protocols = 3; Transports = TCP; SecType = sys;
  FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
`);
  const log = join(base, 'ganesha.log');
  const child: ChildProcess = spawn('ganesha.nfsd', ['-F', '-f', config, '-L', log, '-p', join(base, 'ganesha.pid'), '-N', 'NIV_EVENT'], { stdio: 'ignore' });
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`ganesha.nfsd exited ${child.exitCode}: ${readFileSync(log, 'utf8').slice(-2000)}`);
    return readFileSync(log, 'utf8').includes('NFS SERVER INITIALIZED');
  }, 'NFS-Ganesha to start', 30_000, 200);
  return {
    dir, exportPath: dir, nfsPort, mountPort,
    mountOptions: (address) => `vers=3,proto=tcp,nolock,addr=${address},port=${nfsPort},mountport=${mountPort},mountproto=tcp`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      try { execFileSync('umount', ['-l', dir]); } catch { /* already gone */ }
    },
  };
}
