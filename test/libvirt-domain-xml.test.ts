// Lossless domain XML against the real libvirtd: domains defined with virsh are dumped, read,
// round-tripped, changed by a plan, defined back through our client, and dumped again by virsh
// as the independent oracle: our subtrees changed, everything else is what libvirt had.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainXml } from '../src/hypervisors/libvirt/domain-xml.js';
import { LibvirtClient } from '../src/hypervisors/libvirt/rpc/client.js';
import { DomainXmlFlags } from '../src/hypervisors/libvirt/rpc/protocol.js';
import { parseXml, sameXml, type XmlElement } from '../src/hypervisors/libvirt/xml-tree.js';
import { uniqueName } from './support/kube.js';
import { LIBVIRT_URI, removeDomain, virshOk } from './support/libvirt.js';
import { ROOT } from './support/paths.js';

const corpusDir = join(ROOT, 'src', 'hypervisors', 'libvirt', 'testdata', 'domains');
let client: LibvirtClient;
const defined: string[] = [];

beforeAll(() => { client = new LibvirtClient({ uri: LIBVIRT_URI }); });
afterAll(async () => {
  await client?.close();
  for (const d of defined) await removeDomain(d);
});

/** Defines a corpus document under a fresh name (and without its uuid) with virsh; returns virsh's dump. */
async function defineWithVirsh(file: string): Promise<{ name: string; dump: string }> {
  const name = uniqueName('bp-xml');
  defined.push(name);
  const text = readFileSync(join(corpusDir, file), 'utf8').replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`).replace(/\s*<uuid>[^<]*<\/uuid>/, '');
  const path = join(await mkdtemp(join(tmpdir(), 'bp-xml-')), 'domain.xml');
  await writeFile(path, text);
  await virshOk(['define', path]);
  return { name, dump: await virshOk(['dumpxml', '--inactive', name]) };
}

const top = (xml: string, name: string): XmlElement => parseXml(xml).root.children.find((c): c is XmlElement => c.kind === 'element' && c.name === name)!;

describe('domain XML on the real libvirtd', () => {
  const virshCorpus = readdirSync(corpusDir).filter((f) => f.startsWith('virsh-'));

  it.each(virshCorpus)('%s: a fresh virsh dump round-trips unchanged, and so does our client\'s read', async (file) => {
    const { name, dump } = await defineWithVirsh(file);
    expect(DomainXml.parse(dump).toString()).toBe(dump);
    const dom = await client.lookupDomainByName(name);
    const ours = await client.domainXml(dom, DomainXmlFlags.INACTIVE);
    expect(DomainXml.parse(ours).toString()).toBe(ours);
  });

  it('a plan applied through our client changes boot order and media, and libvirt keeps the rest', async () => {
    const { name, dump } = await defineWithVirsh('virsh-corpus-q35-sata.xml');
    const doc = DomainXml.parse(dump);
    const vm = doc.observe('Stopped');
    expect(vm.bootOrder).toEqual(['sata1', 'sata0', 'net0']);
    // Eject the installer, put it into the second drive, boot the disk first.
    doc.applyPlan({
      devices: vm.devices.map((d) => (d.slot === 'sata1' ? { slot: 'sata1', kind: 'cdrom' as const } : d.slot === 'sata2' ? { ...d, volume: '/usr/lib/ipxe/ipxe.iso' } : d)),
      bootOrder: ['sata0', 'sata2'],
    });
    await client.defineDomain(doc.toString());

    const after = await virshOk(['dumpxml', '--inactive', name]);
    const seen = DomainXml.parse(after).observe('Stopped');
    expect(seen.bootOrder).toEqual(['sata0', 'sata2']);
    expect(seen.devices.map((d) => [d.slot, d.volume])).toEqual([['sata0', 'default/corpus-q35.qcow2'], ['sata1', undefined], ['sata2', '/usr/lib/ipxe/ipxe.iso']]);
    expect(after).not.toContain('<boot dev=');
    for (const subtree of ['metadata', 'qemu:commandline', 'features', 'cpu', 'title', 'description']) {
      expect(sameXml(top(after, subtree), top(dump, subtree)), subtree).toBe(true);
    }
    // What libvirt stored is what we wrote (libvirt had nothing to normalise).
    expect(after).toBe(doc.toString());
  });
});
