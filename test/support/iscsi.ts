// A small iSCSI initiator (RFC 7143) for tests and benchmarks: logs in to a target with a given
// initiator name (no kernel initiator exists on these machines) and reads LUN blocks. Enough
// to prove who a target admits, to hold a connection open, and to measure read throughput.
import { connect, type Socket } from 'node:net';

export interface LoginResult {
  ok: boolean;
  statusClass: number;
  statusDetail: number;
}

const BHS = 48;

export class IscsiSession {
  private buffer: Buffer = Buffer.alloc(0);
  /** Arrived bytes not yet joined into `buffer` (joined once per PDU, not once per packet). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiting: { need: number; resolve: () => void } | undefined;
  private closed = false;
  private cmdSN = 1;
  private expStatSN = 0;
  private itt = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.waiting && this.buffer.length + this.pendingBytes >= this.waiting.need) this.waiting.resolve();
    });
    socket.on('close', () => { this.closed = true; this.waiting?.resolve(); });
    socket.on('error', () => undefined);
  }

  static async connect(host: string, port: number): Promise<IscsiSession> {
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    socket.setNoDelay(true);
    return new IscsiSession(socket);
  }

  /** Security stage (AuthMethod=None) then operational stage into full feature phase. */
  async login(initiatorName: string, targetName: string): Promise<LoginResult> {
    const first = await this.loginStep(0, 1, { InitiatorName: initiatorName, TargetName: targetName, SessionType: 'Normal', AuthMethod: 'None' }, 0);
    if (!first.ok) return first;
    return this.loginStep(1, 3, { HeaderDigest: 'None', DataDigest: 'None', MaxRecvDataSegmentLength: '262144', MaxBurstLength: '1048576', FirstBurstLength: '262144', InitialR2T: 'Yes', ImmediateData: 'No' }, first.tsih);
  }

  private async loginStep(csg: number, nsg: number, keys: Record<string, string>, tsih: number): Promise<LoginResult & { tsih: number }> {
    const data = Buffer.from(Object.entries(keys).map(([k, v]) => `${k}=${v}\0`).join(''));
    const bhs = Buffer.alloc(BHS);
    bhs[0] = 0x40 | 0x03;
    bhs[1] = 0x80 | (csg << 2) | nsg;
    bhs.writeUIntBE(data.length, 5, 3);
    Buffer.from([0x80, 0x12, 0x34, 0x56, 0x00, 0x00]).copy(bhs, 8);
    bhs.writeUInt16BE(tsih, 14);
    bhs.writeUInt32BE(this.itt, 16);
    bhs.writeUInt32BE(this.cmdSN, 24);
    bhs.writeUInt32BE(this.expStatSN, 28);
    this.send(bhs, data);
    const pdu = await this.readPdu();
    if (!pdu) return { ok: false, statusClass: -1, statusDetail: -1, tsih: 0 };
    const statusClass = pdu.bhs[36]!;
    const statusDetail = pdu.bhs[37]!;
    this.expStatSN = pdu.bhs.readUInt32BE(24) + 1;
    return { ok: statusClass === 0, statusClass, statusDetail, tsih: pdu.bhs.readUInt16BE(14) };
  }

  /**
   * READ(10) of `blocks` 512-byte blocks from `lba` on `lun`; returns the bytes received. The
   * first command of a session meets a UNIT ATTENTION (CHECK CONDITION): it is sent again.
   */
  async read(lun: number, lba: number, blocks: number): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.readOnce(lun, lba, blocks);
      if (result !== 'checkCondition') return result;
      if (attempt === 3) throw new Error('READ(10) kept answering CHECK CONDITION');
    }
  }

  private async readOnce(lun: number, lba: number, blocks: number): Promise<Buffer | 'checkCondition'> {
    const itt = ++this.itt;
    const length = blocks * 512;
    const bhs = Buffer.alloc(BHS);
    bhs[0] = 0x01;
    bhs[1] = 0x80 | 0x40 | 0x01; // final, read, simple task attribute
    bhs.writeUInt16BE(lun, 8);
    bhs.writeUInt32BE(itt, 16);
    bhs.writeUInt32BE(length, 20);
    bhs.writeUInt32BE(this.cmdSN++, 24);
    bhs.writeUInt32BE(this.expStatSN, 28);
    const cdb = bhs.subarray(32, 48);
    cdb[0] = 0x28;
    cdb.writeUInt32BE(lba, 2);
    cdb.writeUInt16BE(blocks, 7);
    this.send(bhs, Buffer.alloc(0));
    const parts: Buffer[] = [];
    for (;;) {
      const pdu = await this.readPdu();
      if (!pdu) throw new Error('the target closed the connection during a read');
      const opcode = pdu.bhs[0]! & 0x3f;
      if (opcode === 0x25) {
        parts.push(pdu.data);
        // S bit: status arrives with the last Data-In.
        if (pdu.bhs[1]! & 0x01) { this.expStatSN = pdu.bhs.readUInt32BE(24) + 1; break; }
      } else if (opcode === 0x21) {
        this.expStatSN = pdu.bhs.readUInt32BE(24) + 1;
        if (pdu.bhs[3] === 2) return 'checkCondition';
        if (pdu.bhs[3] !== 0) throw new Error(`SCSI status ${pdu.bhs[3]} for READ(10)`);
        break;
      } else {
        throw new Error(`unexpected PDU opcode 0x${opcode.toString(16)}`);
      }
    }
    return Buffer.concat(parts);
  }

  close(): void { this.socket.destroy(); }

  private send(bhs: Buffer, data: Buffer): void {
    const pad = (4 - (data.length % 4)) % 4;
    this.socket.write(Buffer.concat([bhs, data, Buffer.alloc(pad)]));
  }

  private async readPdu(): Promise<{ bhs: Buffer; data: Buffer } | undefined> {
    if (!(await this.need(BHS))) return undefined;
    const ahs = this.buffer[4]! * 4;
    const dataLength = this.buffer.readUIntBE(5, 3);
    const total = BHS + ahs + dataLength + ((4 - (dataLength % 4)) % 4);
    if (!(await this.need(total))) return undefined;
    const bhs = Buffer.from(this.buffer.subarray(0, BHS));
    const data = this.buffer.subarray(BHS + ahs, BHS + ahs + dataLength);
    this.buffer = this.buffer.subarray(total);
    return { bhs, data };
  }

  private async need(n: number): Promise<boolean> {
    while (this.buffer.length + this.pendingBytes < n) {
      if (this.closed) return false;
      await new Promise<void>((resolve) => { this.waiting = { need: n, resolve }; });
      this.waiting = undefined;
    }
    if (this.buffer.length < n) {
      this.buffer = Buffer.concat([this.buffer, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
    }
    return true;
  }
}
