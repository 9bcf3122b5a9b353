// A minimal ISO 9660 image writer: one root directory of small files, with a Joliet
// supplementary tree so names keep their case and dashes (user-data, network-config), which is
// what cloud-init's NoCloud source reads. Deterministic: the same files and date give the same
// bytes, so a seed is regenerated only when its content changes.
//
// Layout (2048-byte sectors): 0-15 system area, 16 primary descriptor, 17 Joliet descriptor,
// 18 terminator, 19-22 path tables (primary L/M, Joliet L/M), 23 primary root, 24 Joliet root,
// then file data (shared by both trees).

const SECTOR = 2048;

export interface IsoFile {
  name: string;
  data: Buffer;
}

export class IsoError extends Error {
  readonly code = 'InvalidIsoInput';
}

const both16 = (b: Buffer, off: number, v: number) => { b.writeUInt16LE(v, off); b.writeUInt16BE(v, off + 2); };
const both32 = (b: Buffer, off: number, v: number) => { b.writeUInt32LE(v, off); b.writeUInt32BE(v, off + 4); };
const sectors = (bytes: number) => Math.ceil(bytes / SECTOR);

function padAscii(s: string, len: number): Buffer {
  return Buffer.from(s.padEnd(len, ' ').slice(0, len), 'ascii');
}

function ucs2be(s: string): Buffer {
  const b = Buffer.from(s, 'utf16le');
  b.swap16();
  return b;
}

function padUcs2(s: string, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i + 1 < len; i += 2) out.writeUInt16BE(0x20, i);
  ucs2be(s).copy(out, 0, 0, len - (len % 2));
  return out;
}

/** ISO 9660 d-characters: upper-case letters, digits and underscore. */
function primaryName(name: string): string {
  const upper = name.toUpperCase().replace(/[^A-Z0-9_.]/g, '_');
  const dot = upper.lastIndexOf('.');
  const base = (dot >= 0 ? upper.slice(0, dot) : upper).replace(/\./g, '_');
  const ext = dot >= 0 ? upper.slice(dot + 1) : '';
  return `${base.slice(0, 30 - ext.length)}.${ext};1`;
}

function recordingDate(d: Date): Buffer {
  return Buffer.from([d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0]);
}

function volumeDate(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const digits = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(digits, 'ascii'), Buffer.from([0])]);
}

function dirRecord(name: Buffer, extent: number, size: number, isDir: boolean, date: Date): Buffer {
  const len = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(r, 2, extent);
  both32(r, 10, size);
  recordingDate(date).copy(r, 18);
  r[25] = isDir ? 2 : 0;
  both16(r, 28, 1);
  r[32] = name.length;
  name.copy(r, 33);
  return r;
}

function directory(self: number, entries: { name: Buffer; extent: number; size: number }[], date: Date): Buffer {
  const records = [dirRecord(Buffer.from([0]), self, SECTOR, true, date), dirRecord(Buffer.from([1]), self, SECTOR, true, date)];
  for (const e of entries) records.push(dirRecord(e.name, e.extent, e.size, false, date));
  const body = Buffer.concat(records);
  if (body.length > SECTOR) throw new IsoError('too many files for a one-sector root directory');
  const out = Buffer.alloc(SECTOR);
  body.copy(out);
  return out;
}

function pathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const t = Buffer.alloc(10);
  t[0] = 1;
  if (bigEndian) t.writeUInt32BE(rootExtent, 2); else t.writeUInt32LE(rootExtent, 2);
  if (bigEndian) t.writeUInt16BE(1, 6); else t.writeUInt16LE(1, 6);
  return t;
}

function descriptor(type: 1 | 2, o: { volumeId: string; totalSectors: number; pathTableSize: number; lPath: number; mPath: number; root: Buffer; date: Date }): Buffer {
  const d = Buffer.alloc(SECTOR);
  d[0] = type;
  d.write('CD001', 1, 'ascii');
  d[6] = 1;
  const joliet = type === 2;
  (joliet ? padUcs2('', 32) : padAscii('LINUX', 32)).copy(d, 8);
  (joliet ? padUcs2(o.volumeId, 32) : padAscii(o.volumeId, 32)).copy(d, 40);
  both32(d, 80, o.totalSectors);
  if (joliet) d.write('%/E', 88, 'ascii'); // UCS-2 level 3
  both16(d, 120, 1);
  both16(d, 124, 1);
  both16(d, 128, SECTOR);
  both32(d, 132, o.pathTableSize);
  d.writeUInt32LE(o.lPath, 140);
  d.writeUInt32BE(o.mPath, 148);
  o.root.copy(d, 156);
  const text = (s: string, len: number) => (joliet ? padUcs2(s, len) : padAscii(s, len));
  text('', 128).copy(d, 190); // volume set
  text('', 128).copy(d, 318); // publisher
  text('', 128).copy(d, 446); // preparer
  text('BOOTPLANE', 128).copy(d, 574); // application
  text('', 37).copy(d, 702);
  text('', 37).copy(d, 739);
  text('', 37).copy(d, 776);
  volumeDate(o.date).copy(d, 813);
  volumeDate(o.date).copy(d, 830);
  Buffer.concat([Buffer.from('0000000000000000', 'ascii'), Buffer.from([0])]).copy(d, 847);
  Buffer.concat([Buffer.from('0000000000000000', 'ascii'), Buffer.from([0])]).copy(d, 864);
  d[881] = 1;
  return d;
}

export function buildIso9660(volumeId: string, files: IsoFile[], date = new Date(Date.UTC(2000, 0, 1))): Buffer {
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(volumeId)) throw new IsoError(`volume label ${JSON.stringify(volumeId)} must be 1-16 letters, digits, _ or -`);
  const names = new Set<string>();
  for (const f of files) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(f.name)) throw new IsoError(`file name ${JSON.stringify(f.name)} must be 1-64 letters, digits, '.', '_' or '-'`);
    const p = primaryName(f.name);
    if (names.has(p)) throw new IsoError(`file names collide in ISO 9660 form (${p})`);
    names.add(p);
  }
  const PRIMARY_ROOT = 23;
  const JOLIET_ROOT = 24;
  let next = 25;
  const placed = files.map((f) => {
    const extent = next;
    next += Math.max(1, sectors(f.data.length));
    return { ...f, extent };
  });
  const total = next;

  const primaryEntries = placed.map((f) => ({ name: Buffer.from(primaryName(f.name), 'ascii'), extent: f.extent, size: f.data.length }))
    .sort((a, b) => Buffer.compare(a.name, b.name));
  const jolietEntries = placed.map((f) => ({ name: ucs2be(f.name), extent: f.extent, size: f.data.length }))
    .sort((a, b) => Buffer.compare(a.name, b.name));

  const image = Buffer.alloc(total * SECTOR);
  const put = (sector: number, b: Buffer) => b.copy(image, sector * SECTOR);
  const rootRecord = (extent: number) => dirRecord(Buffer.from([0]), extent, SECTOR, true, date);
  put(16, descriptor(1, { volumeId, totalSectors: total, pathTableSize: 10, lPath: 19, mPath: 20, root: rootRecord(PRIMARY_ROOT), date }));
  put(17, descriptor(2, { volumeId, totalSectors: total, pathTableSize: 10, lPath: 21, mPath: 22, root: rootRecord(JOLIET_ROOT), date }));
  const terminator = Buffer.alloc(SECTOR);
  terminator[0] = 255;
  terminator.write('CD001', 1, 'ascii');
  terminator[6] = 1;
  put(18, terminator);
  put(19, pathTable(PRIMARY_ROOT, false));
  put(20, pathTable(PRIMARY_ROOT, true));
  put(21, pathTable(JOLIET_ROOT, false));
  put(22, pathTable(JOLIET_ROOT, true));
  put(PRIMARY_ROOT, directory(PRIMARY_ROOT, primaryEntries, date));
  put(JOLIET_ROOT, directory(JOLIET_ROOT, jolietEntries, date));
  for (const f of placed) put(f.extent, f.data);
  return image;
}
