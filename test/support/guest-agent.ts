// Runs a shell command in a guest through the QEMU guest agent (guest-exec + guest-exec-status).
import type { LibvirtClient } from '../../src/hypervisors/libvirt/rpc/client.js';
import type { DomainRef } from '../../src/hypervisors/libvirt/rpc/types.js';

export async function guestShell(client: LibvirtClient, dom: DomainRef, script: string, timeoutMs = 30_000): Promise<{ exitcode: number; out: string; err: string }> {
  const started = JSON.parse((await client.agentCommand(dom, JSON.stringify({ execute: 'guest-exec', arguments: { path: '/bin/sh', arg: ['-c', script], 'capture-output': true } })))!) as { return: { pid: number } };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = JSON.parse((await client.agentCommand(dom, JSON.stringify({ execute: 'guest-exec-status', arguments: { pid: started.return.pid } })))!) as {
      return: { exited: boolean; exitcode?: number; 'out-data'?: string; 'err-data'?: string };
    };
    if (status.return.exited) {
      return {
        exitcode: status.return.exitcode ?? -1,
        out: Buffer.from(status.return['out-data'] ?? '', 'base64').toString(),
        err: Buffer.from(status.return['err-data'] ?? '', 'base64').toString(),
      };
    }
    if (Date.now() > deadline) throw new Error(`guest command did not finish in ${timeoutMs} ms: ${script}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
