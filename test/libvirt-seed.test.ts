// The NoCloud seed ISO end to end: built in TypeScript, uploaded as a volume through our client,
// downloaded again by virsh and read by isoinfo, and mounted inside the booted test guest from a
// SCSI CD-ROM, where the files read back with the content we put in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNoCloudSeedIso, uploadNoCloudSeed } from '../src/hypervisors/libvirt/nocloud-seed.js';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { guestShell } from './support/guest-agent.js';
import { eventually, uniqueName } from './support/kube.js';
import { domainType, LIBVIRT_URI, removeDomain, testGuest, virsh, virshOk } from './support/libvirt.js';

let client: LibvirtClient;
const vm = uniqueName('bp-seed');
const seed = {
  userData: `#cloud-config\nhostname: ${vm}\n`,
  metaData: `instance-id: ${vm}\nlocal-hostname: ${vm}\n`,
  networkConfig: 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n',
};

beforeAll(() => { client = new LibvirtClient({ uri: LIBVIRT_URI }); });
afterAll(async () => {
  await client?.close();
  await removeDomain(vm);
  await virsh(['vol-delete', '--pool', 'default', `${vm}-cidata.iso`]);
});

describe('NoCloud seed ISO on libvirt', () => {
  it('uploads as <vm>-cidata.iso, reads back with isoinfo, and is readable in the guest', async () => {
    const volume = await uploadNoCloudSeed(client, 'default', vm, buildNoCloudSeedIso(seed));
    expect(volume).toBe(`default/${vm}-cidata.iso`);
    // Regenerated with other content (and size): replaced, not appended to.
    const changed = { ...seed, userData: `${seed.userData}runcmd: [echo regenerated]\n` };
    await uploadNoCloudSeed(client, 'default', vm, buildNoCloudSeedIso(changed));

    const file = join(mkdtempSync(join(tmpdir(), 'bp-seed-')), 'seed.iso');
    await virshOk(['vol-download', '--pool', 'default', `${vm}-cidata.iso`, file]);
    expect(execFileSync('isoinfo', ['-J', '-i', file, '-x', '/user-data'], { encoding: 'utf8' })).toBe(changed.userData);

    const guest = testGuest();
    await client.defineDomain(`<domain type='${domainType()}'>
  <name>${vm}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>
    <controller type='scsi' model='virtio-scsi'/>
    <disk type='volume' device='cdrom'><driver name='qemu' type='raw'/><source pool='default' volume='${vm}-cidata.iso'/><target dev='sda' bus='scsi'/><readonly/></disk>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
</domain>`);
    const dom = await client.createDomain(await client.lookupDomainByName(vm));
    await eventually(async () => client.agentCommand(dom, '{"execute":"guest-ping"}', 2), 'guest agent', 90_000, 1000);
    const read = await guestShell(client, dom, 'mkdir -p /seed && mount -t iso9660 -o ro /dev/sr0 /seed && dd if=/dev/sr0 bs=1 skip=32808 count=6 2>/dev/null && echo && ls /seed && cat /seed/user-data /seed/meta-data /seed/network-config');
    expect(read.err).toBe('');
    expect(read.exitcode).toBe(0);
    expect(read.out.startsWith('cidata\n')).toBe(true); // the primary descriptor's volume id, read by the guest
    expect(read.out).toContain('meta-data\nnetwork-config\nuser-data\n');
    expect(read.out).toContain(changed.userData + seed.metaData + seed.networkConfig);
  }, 180_000);
});
