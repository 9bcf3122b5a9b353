// The guest phase against a fake agent (the simulator's in-memory guest behind the GuestAgent
// interface): the exact changes a first pass makes, none on a second, and none either when the
// status hashes were lost but the guest already matches.
import { describe, expect, it } from 'vitest';
import type { VirtualMachine, VirtualMachineSpec } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver } from '../../hypervisors/driver.js';
import { GuestAgentError, type GuestAgent } from '../../hypervisors/guest-agent.js';
import { SimExecNotFound, SimGuest } from '../../hypervisors/proxmox/simulator/guest.js';
import { silentLogger } from '../../observability/logger.js';
import type { ObservedVm } from '../../planning/model.js';
import { MemoryStore } from '../../store/memory-store.js';
import { runGuestPhase, type GuestPhaseOutcome } from './guest-phase.js';

function fakeAgent(guest: SimGuest): GuestAgent {
  return {
    async ping() { if (!guest.agentRunning) throw new GuestAgentError('GuestAgentNotRunning', 'not running'); },
    async exec(argv, options) {
      try {
        const r = guest.status(guest.start(argv, options.input))!;
        return { exitCode: r.exitcode, stdout: r.out, stderr: r.err };
      } catch (err) {
        if (err instanceof SimExecNotFound) throw new GuestAgentError('GuestCommandNotFound', err.message);
        throw err;
      }
    },
    async writeFile(path, content) { guest.writeFile(path, content); },
    async networkInterfaces() { return guest.interfaces.map((i) => ({ name: i.name, macAddress: i.mac, addresses: i.ipv4 ? [{ address: i.ipv4, family: 'ipv4' as const }] : [] })); },
  };
}

const spec = {
  hypervisorRef: { name: 'hv' }, libvirt: { domainName: 'd' }, source: 'adopt', disruptiveChanges: 'Pending', safeMode: false,
  guestAgent: { enabled: true, timeoutSeconds: 300 },
  nfsMounts: [{ server: 'nas', export: '/srv', mountPath: '/mnt/srv', options: 'rw' }],
  files: [{ path: '/etc/app/key', mode: '0600', owner: 'root:root', secretRef: { name: 's', key: 'k' } }],
} as unknown as VirtualMachineSpec;

async function pass(guest: SimGuest, store: MemoryStore, status: VirtualMachine['status']): Promise<GuestPhaseOutcome> {
  const vm = { apiVersion: 'bootplane.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'vm', namespace: 'ns' }, spec, status } as VirtualMachine;
  const driver = { guestAgent: () => fakeAgent(guest) } as unknown as HypervisorDriver;
  return runGuestPhase({
    store, vm, spec, driver, ref: { domainName: 'd' }, observed: { power: 'Running' } as ObservedVm, hypervisorType: 'libvirt', where: 'domain d',
    onSourceChange: () => undefined, ctx: { log: silentLogger(), reconcileId: 'r', signal: AbortSignal.timeout(10_000) },
  });
}

const changes = (guest: SimGuest) => guest.journal.filter((e) => /^(write |exec (mkdir|chmod|chown|mv|mount|umount|env|apt-get) )/.test(e));

describe('runGuestPhase', () => {
  it('makes exactly the needed changes, then none', async () => {
    const guest = new SimGuest({ packageManager: 'apt', reachableExports: ['nas:/srv'] });
    const store = new MemoryStore();
    store.secrets.set('ns/s', { k: 'secret-value' });
    const first = await pass(guest, store, undefined);
    expect(changes(guest)).toEqual([
      'exec env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-common',
      'write /etc/fstab.bootplane-new',
      'exec chown root:root /etc/fstab.bootplane-new',
      'exec chmod 0644 /etc/fstab.bootplane-new',
      'exec mv -f /etc/fstab.bootplane-new /etc/fstab',
      'exec mkdir -p /mnt/srv',
      'exec mount -a',
      'exec mkdir -p /etc/app',
      'write /etc/app/key.bootplane-new',
      'exec chown root:root /etc/app/key.bootplane-new',
      'exec chmod 0600 /etc/app/key.bootplane-new',
      'exec mv -f /etc/app/key.bootplane-new /etc/app/key',
    ]);
    expect(first.updates.map((u) => `${u.type}=${u.status}/${u.reason}`)).toEqual(['GuestAgentReady=True/Connected', 'NfsMounted=True/Mounted', 'FilesInjected=True/Written']);
    expect(JSON.stringify(first)).not.toContain('secret-value');

    guest.journal.length = 0;
    const second = await pass(guest, store, { guest: first.guest });
    expect(guest.journal.filter((e) => !/^exec (cat \/etc\/os-release|hostname|cloud-init)/.test(e))).toEqual([]); // no NFS or file calls at all
    expect(second.guest).toEqual(first.guest);

    // Status lost (new controller, restored object): the guest is read, nothing is written.
    guest.journal.length = 0;
    const third = await pass(guest, store, undefined);
    expect(changes(guest)).toEqual([]);
    expect(third.guest?.mountsHash).toBe(first.guest?.mountsHash);
    expect(third.guest?.filesHash).toBe(first.guest?.filesHash);
  });

  it('fixes only the mode of a file whose content is right', async () => {
    const guest = new SimGuest({ packageManager: 'apt', packages: ['nfs-common'], reachableExports: ['nas:/srv'] });
    const store = new MemoryStore();
    store.secrets.set('ns/s', { k: 'v' });
    const first = await pass(guest, store, undefined);
    guest.files.get('/etc/app/key')!.mode = 0o644;
    guest.journal.length = 0;
    await pass(guest, store, { guest: { ...first.guest, filesHash: undefined } });
    expect(changes(guest)).toEqual(['exec chmod 0600 /etc/app/key']);
  });
});
