// Named volumes (spec.source.volume) the IsoAttachment reconciler found on storage in this
// process, shared with the VirtualMachine reconciler (both run in the same process, under the
// same leadership term: controllers/index.ts builds one of these per term).
//
// Why: the VM attaches an ISO only once its source is known good. Before, that knowledge
// reached the VM as an IsoAttachment status write ("SourceReady, Attaching"), and a second write
// followed once the VM had attached it ("Attached"): two writes per attach. Now the reconciler
// that verified the volume tells the VM here and wakes it, and writes its status once, after
// the attach. The entry is for one object (uid), one generation and one volume: a changed spec
// needs a new check. Nothing here is persisted; after a restart the status (if the VM attached
// before) or a new check (the first pass of every IsoAttachment) says the same again.
import type { IsoAttachment } from '../../api/v1alpha1/iso-attachment.js';
import { keyOf } from '../../kube/object.js';
import type { VerifiedSources } from '../virtualmachine/status.js';

interface Verified {
  uid: string | undefined;
  generation: number | undefined;
  volume: string;
}

export class VerifiedVolumes implements VerifiedSources {
  private readonly entries = new Map<string, Verified>();

  /** Records a check that found the volume; true when this is news (the VM should plan again). */
  set(iso: IsoAttachment, volume: string): boolean {
    const key = keyOf(iso);
    const before = this.entries.get(key);
    const entry = { uid: iso.metadata.uid, generation: iso.metadata.generation, volume };
    this.entries.set(key, entry);
    return !before || before.uid !== entry.uid || before.generation !== entry.generation || before.volume !== entry.volume;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  volumeFor(iso: IsoAttachment): string | undefined {
    const entry = this.entries.get(keyOf(iso));
    if (!entry || entry.uid !== iso.metadata.uid || entry.generation !== iso.metadata.generation) return undefined;
    return entry.volume;
  }
}
