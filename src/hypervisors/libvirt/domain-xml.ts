// Domain XML ↔ the planner's model. Reading turns `virsh dumpxml` output into an ObservedVm;
// writing applies a Plan to the same document, changing only what bootplane owns — CD-ROM
// drives (their source), per-device <boot order> and the legacy <os><boot> it replaces — and
// leaving every other byte as it was.
import { createHash } from 'node:crypto';
import type { Device, MachineFacts, Nic, ObservedVm, Plan, Slot } from '../../planning/model.js';
import { ownerOf } from '../owner.js';
import { slotOfTarget, targetOfSlot } from './slots.js';
import {
  attr, child, childElements, element, insertAfter, insertChild, parseXml, removeAttr, removeChild, serializeXml, setAttr, textContent,
  type XmlDocument, type XmlElement,
} from './xml-tree.js';

export class DomainXmlError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Seed ISOs bootplane builds are named <vm>-cidata.iso; a CD-ROM holding one is the cloud-init drive. */
export const CLOUD_INIT_VOLUME = /(^|[-_./])cidata\.iso$/;

const BOOTABLE = ['disk', 'interface', 'hostdev', 'redirdev', 'filesystem'];
/** Where <boot> goes inside <disk> and <interface>: after <readonly/>, before these, as libvirt formats it. */
const AFTER_BOOT = ['serial', 'wwn', 'vendor', 'product', 'encryption', 'rom', 'address', 'alias', 'acpi'];

export type Power = ObservedVm['power'];

export class DomainXml {
  private constructor(private readonly doc: XmlDocument, private readonly original: string) {}

  static parse(xml: string): DomainXml {
    const doc = parseXml(xml, 'domain XML');
    if (doc.root.name !== 'domain') throw new DomainXmlError('InvalidDomainXml', `domain XML has root <${doc.root.name}>, expected <domain>`);
    return new DomainXml(doc, xml);
  }

  toString(): string {
    return serializeXml(this.doc);
  }

  /** Whether anything changed since parsing. */
  get changed(): boolean {
    return this.toString() !== this.original;
  }

  get name(): string {
    return textContent(child(this.doc.root, 'name')) ?? '';
  }

  get uuid(): string | undefined {
    return textContent(child(this.doc.root, 'uuid'));
  }

  private get devices(): XmlElement {
    let devices = child(this.doc.root, 'devices');
    if (!devices) {
      devices = element('devices');
      insertChild(this.doc.root, devices);
    }
    return devices;
  }

  private get os(): XmlElement | undefined {
    return child(this.doc.root, 'os');
  }

  machine(): MachineFacts {
    const type = child(this.os, 'type');
    const machine = attr(type, 'machine') ?? '';
    const arch = attr(type, 'arch') === 'aarch64' ? 'aarch64' : 'x86_64';
    const loader = child(this.os, 'loader');
    const uefi = attr(this.os, 'firmware') === 'efi' || attr(loader, 'type') === 'pflash' || /OVMF|AAVMF|edk2/i.test(textContent(loader) ?? '');
    return {
      machine: /q35/.test(machine) ? 'q35' : /^virt/.test(machine) || arch === 'aarch64' ? 'virt' : 'pc',
      arch,
      firmware: uefi ? 'uefi' : 'bios',
    };
  }

  /** <disk> elements with the slot their target maps to (devices on usb/fdc are left out). */
  private disks(): { el: XmlElement; slot: Slot; dev: string }[] {
    const out: { el: XmlElement; slot: Slot; dev: string }[] = [];
    for (const el of childElements(this.devices, 'disk')) {
      const target = child(el, 'target');
      const dev = attr(target, 'dev');
      const slot = dev ? slotOfTarget(dev, attr(target, 'bus')) : undefined;
      if (dev && slot) out.push({ el, slot, dev });
    }
    return out;
  }

  /** The libvirt target (vda, hdc) of the drive at a slot. */
  targetOfSlot(slot: Slot): string | undefined {
    return this.disks().find((d) => d.slot === slot)?.dev;
  }

  /** The slot of an existing drive by its libvirt target (sdb on SATA → sata1). */
  slotOfTarget(dev: string): Slot | undefined {
    return this.disks().find((d) => d.dev === dev)?.slot;
  }

  private interfaces(): XmlElement[] {
    return childElements(this.devices, 'interface');
  }

  observe(power: Power = 'Unknown'): ObservedVm {
    const devices: Device[] = this.disks().map(({ el, slot }) => {
      const volume = sourceOf(el);
      const isCdrom = attr(el, 'device') === 'cdrom';
      const kind = isCdrom ? (volume && CLOUD_INIT_VOLUME.test(volume) ? 'cloudinit' : 'cdrom') : 'disk';
      return volume === undefined ? { slot, kind } : { slot, kind, volume };
    });
    const nics: Nic[] = this.interfaces().map((el, i) => ({
      slot: `net${i}`,
      mac: attr(child(el, 'mac'), 'address') ?? '',
      model: attr(child(el, 'model'), 'type') ?? '',
    }));
    const osinfo = this.osinfoId();
    const owner = ownerOf(textContent(child(this.doc.root, 'description')));
    return {
      ...(owner ? { createdBy: owner } : {}),
      name: this.name,
      uuid: this.uuid,
      osHints: osinfo ? { ostype: osinfo } : {},
      machine: this.machine(),
      devices,
      nics,
      bootOrder: this.bootOrder(devices),
      power,
      digest: createHash('sha256').update(this.original).digest('hex'),
    };
  }

  /** libosinfo's OS id (virt-install writes it into <metadata>), the best OS hint a domain carries. */
  private osinfoId(): string | undefined {
    const metadata = child(this.doc.root, 'metadata');
    for (const m of metadata ? childElements(metadata) : []) {
      if (!m.name.endsWith(':libosinfo')) continue;
      const os = childElements(m).find((c) => c.name.endsWith(':os'));
      const id = attr(os, 'id');
      if (id) return id;
    }
    return undefined;
  }

  private bootOrder(devices: Device[]): Slot[] {
    const ordered: { order: number; slot: Slot }[] = [];
    for (const { el, slot } of this.disks()) {
      const order = Number(attr(child(el, 'boot'), 'order'));
      if (order > 0) ordered.push({ order, slot });
    }
    this.interfaces().forEach((el, i) => {
      const order = Number(attr(child(el, 'boot'), 'order'));
      if (order > 0) ordered.push({ order, slot: `net${i}` });
    });
    if (ordered.length > 0) return ordered.sort((a, b) => a.order - b.order).map((o) => o.slot);
    // Legacy <os><boot dev=…>: the first device of each class, in the listed order.
    const out: Slot[] = [];
    for (const boot of childElements(this.os ?? element('os'), 'boot')) {
      const dev = attr(boot, 'dev');
      const slot = dev === 'hd' ? devices.find((d) => d.kind === 'disk')?.slot
        : dev === 'cdrom' ? devices.find((d) => d.kind !== 'disk')?.slot
          : dev === 'network' && this.interfaces().length > 0 ? 'net0' : undefined;
      if (slot && !out.includes(slot)) out.push(slot);
    }
    return out;
  }

  /**
   * Applies the plan's CD-ROM layout and boot order. Disks are never added, removed or moved:
   * a plan that puts a CD-ROM where a disk is refuses with an error instead.
   */
  applyPlan(plan: Pick<Plan, 'devices' | 'bootOrder'>, options: { cloudInitVolume?: string } = {}): void {
    // A cloud-init drive the plan creates has no volume yet: it gets the seed's (pool/<vm>-cidata.iso),
    // so it is recognised as the cloud-init drive from the start and not planned again.
    const wanted = plan.devices
      .filter((d) => d.kind === 'cdrom' || d.kind === 'cloudinit')
      .map((d) => (d.kind === 'cloudinit' && d.volume === undefined && options.cloudInitVolume ? { ...d, volume: options.cloudInitVolume } : d));
    const existing = this.disks();
    for (const d of wanted) {
      const at = existing.find((e) => e.slot === d.slot);
      if (at && attr(at.el, 'device') !== 'cdrom') {
        throw new DomainXmlError('SlotHoldsDisk', `slot ${d.slot} (${at.dev}) holds a disk; bootplane never replaces a disk with a CD-ROM`);
      }
      if (at) setSource(at.el, d.volume);
      else this.addCdrom(d.slot, d.volume, existing);
    }
    for (const e of existing) {
      if (attr(e.el, 'device') === 'cdrom' && !wanted.some((d) => d.slot === e.slot)) removeChild(this.devices, e.el);
    }
    // Rewrite the boot configuration only when it differs: a domain that already boots in the
    // planned order (legacy <os><boot> included) keeps its XML as it is.
    const now = this.bootOrder(this.observe().devices);
    if (now.length !== plan.bootOrder.length || now.some((slot, i) => slot !== plan.bootOrder[i])) this.setBootOrder(plan.bootOrder);
  }

  private addCdrom(slot: Slot, volume: string | undefined, existing: { slot: Slot; dev: string }[]): void {
    const { dev, bus } = targetOfSlot(slot, existing);
    const disk = element('disk', { type: 'file', device: 'cdrom' }, []);
    insertChild(disk, element('driver', { name: 'qemu', type: 'raw' }));
    insertChild(disk, element('target', { dev, bus }));
    insertChild(disk, element('readonly'));
    setSource(disk, volume);
    if (bus === 'scsi' && !childElements(this.devices, 'controller').some((c) => attr(c, 'type') === 'scsi')) {
      insertChild(this.devices, element('controller', { type: 'scsi', index: '0', model: 'virtio-scsi' }), ['controller', 'interface', 'serial', 'console', 'input', 'graphics', 'video', 'memballoon']);
    }
    // New drives go after the last existing <disk>, where libvirt keeps disks.
    const disks = childElements(this.devices, 'disk');
    const last = disks[disks.length - 1];
    if (last) insertAfter(this.devices, last, disk);
    else insertChild(this.devices, disk, ['controller', 'interface', 'serial', 'console', 'input', 'graphics', 'video', 'memballoon']);
    existing.push({ slot, dev });
  }

  /**
   * The <disk> element at a slot as standalone XML for a live device update. Without <boot>:
   * the running domain may still use <os><boot>, and libvirt refuses the two together (the boot
   * order reaches the domain through the persistent config at its next start).
   */
  liveDiskXml(slot: Slot): string | undefined {
    const disk = this.disks().find((d) => d.slot === slot);
    if (!disk) return undefined;
    const root = { ...disk.el, children: disk.el.children.filter((c) => !(c.kind === 'element' && c.name === 'boot')) };
    return serializeXml({ prolog: '', root, epilog: '' });
  }

  /** Per-device <boot order>, and no <os><boot>: libvirt refuses the two together. */
  setBootOrder(order: Slot[]): void {
    const os = this.os;
    if (os) for (const b of childElements(os, 'boot')) removeChild(os, b);
    for (const el of childElements(this.devices).filter((e) => BOOTABLE.includes(e.name))) {
      for (const b of childElements(el, 'boot')) removeChild(el, b);
    }
    const disks = this.disks();
    const interfaces = this.interfaces();
    order.forEach((slot, i) => {
      const net = /^net(\d+)$/.exec(slot);
      const el = net ? interfaces[Number(net[1])] : disks.find((d) => d.slot === slot)?.el;
      if (!el) throw new DomainXmlError('BootDeviceMissing', `boot order names ${slot}, which domain ${this.name} does not have`);
      insertChild(el, element('boot', { order: String(i + 1) }), AFTER_BOOT);
    });
  }
}

/** A disk's backing as the planner names volumes: pool/volume for pool volumes, else the path. */
function sourceOf(disk: XmlElement): string | undefined {
  const source = child(disk, 'source');
  if (!source) return undefined;
  const pool = attr(source, 'pool');
  const volume = attr(source, 'volume');
  if (pool && volume) return `${pool}/${volume}`;
  return attr(source, 'file') ?? attr(source, 'dev') ?? attr(source, 'name');
}

/** Points a CD-ROM at a volume (pool/volume) or a file (absolute path); undefined empties the tray. */
function setSource(disk: XmlElement, volume: string | undefined): void {
  const old = child(disk, 'source');
  if (volume === undefined) {
    if (old) removeChild(disk, old);
    return;
  }
  if (sourceOf(disk) === volume) return;
  let source: XmlElement;
  if (volume.startsWith('/')) {
    setAttr(disk, 'type', 'file');
    source = element('source', { file: volume });
  } else {
    const slash = volume.indexOf('/');
    if (slash <= 0 || slash === volume.length - 1) throw new DomainXmlError('InvalidVolume', `volume ${JSON.stringify(volume)} must be pool/volume or an absolute path`);
    setAttr(disk, 'type', 'volume');
    source = element('source', { pool: volume.slice(0, slash), volume: volume.slice(slash + 1) });
  }
  if (old) {
    // Keep the position (and the children such as <seclabel>, which belong to the old file: dropped).
    old.attrs = source.attrs;
    old.children = [];
    removeAttr(old, 'startupPolicy');
  } else {
    insertChild(disk, source, ['backingStore', 'target']);
  }
}
