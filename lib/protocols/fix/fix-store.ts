/**
 * File-backed FIX session store: the two sequence numbers and every application message sent,
 * so a restarted process resumes with the right MsgSeqNum and can answer a ResendRequest.
 *
 * Layout in `dir`, per session id:
 *   <id>.seqnums  one fixed-width record "SSSSSSSSSSSSSSSSSSSS TTTTTTTTTTTTTTTTTTTT\n", rewritten in place
 *   <id>.body     raw messages, appended
 *   <id>.header   "seq,offset,length\n" per stored message, appended
 * Writes are synchronous `pwrite`s from a preallocated buffer (no fsync: a crash can lose the
 * page cache, the same trade-off QuickFIX's FileStore makes by default).
 *
 * Single writer: the session's event loop.
 */
import { writeZeroPadded } from '../../common/bytes';
import * as fs from 'fs';
import * as path from 'path';
import { TickpathError } from '../../errors';

const kSeqRecordLen = 42;

export class FixFileStore {
  private seqFd = -1;
  private bodyFd = -1;
  private headerFd = -1;
  private bodyEnd = 0;
  private readonly index = new Map<number, [number, number]>();
  private readonly seqRecord = Buffer.alloc(kSeqRecordLen);
  nextSenderSeq = 1;
  nextTargetSeq = 1;

  constructor(readonly dir: string, readonly id: string) {}

  get isOpen(): boolean { return this.seqFd >= 0; }

  /** Opens (creating) the files and loads sequence numbers and the message index. */
  open(): void {
    this.index.clear();
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const base = path.join(this.dir, this.id);
      this.seqFd = fs.openSync(`${base}.seqnums`, fs.existsSync(`${base}.seqnums`) ? 'r+' : 'w+');
      this.bodyFd = fs.openSync(`${base}.body`, fs.existsSync(`${base}.body`) ? 'r+' : 'w+');
      this.headerFd = fs.openSync(`${base}.header`, 'a+');
      const seq = fs.readFileSync(`${base}.seqnums`, 'latin1');
      const m = /^\s*(\d+)\s+(\d+)/.exec(seq);
      if (m) { this.nextSenderSeq = Number(m[1]); this.nextTargetSeq = Number(m[2]); }
      this.bodyEnd = fs.fstatSync(this.bodyFd).size;
      for (const line of fs.readFileSync(`${base}.header`, 'latin1').split('\n')) {
        const f = line.split(',');
        if (f.length === 3) this.index.set(Number(f[0]), [Number(f[1]), Number(f[2])]);
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new TickpathError('ERR_FIX_STORE', `FIX store ${path.join(this.dir, this.id)}: ${e.code ?? e.message}`,
        `make ${this.dir} writable or point the session's storeDir elsewhere`, e.errno);
    }
  }

  /** Persists both sequence numbers (one pwrite). */
  setSeqs(nextSender: number, nextTarget: number): void {
    this.nextSenderSeq = nextSender;
    this.nextTargetSeq = nextTarget;
    if (this.seqFd < 0) return;
    const r = this.seqRecord;
    writeZeroPadded(r, 0, 20, nextSender);
    r[20] = 0x20;
    writeZeroPadded(r, 21, 20, nextTarget);
    r[41] = 0x0a;
    fs.writeSync(this.seqFd, r, 0, kSeqRecordLen, 0);
  }

  /** Stores message `seq` = buf[start, end). */
  append(seq: number, buf: Buffer, start: number, end: number): void {
    if (this.bodyFd < 0) return;
    const len = end - start;
    fs.writeSync(this.bodyFd, buf, start, len, this.bodyEnd);
    fs.writeSync(this.headerFd, `${seq},${this.bodyEnd},${len}\n`);
    this.index.set(seq, [this.bodyEnd, len]);
    this.bodyEnd += len;
  }

  /** The stored message `seq`, or null (admin messages are not stored: they are gap-filled). */
  get(seq: number): Buffer | null {
    const e = this.index.get(seq);
    if (!e || this.bodyFd < 0) return null;
    const b = Buffer.allocUnsafe(e[1]);
    fs.readSync(this.bodyFd, b, 0, e[1], e[0]);
    return b;
  }

  /** Forgets everything (ResetSeqNumFlag, new trading day). */
  reset(): void {
    this.index.clear();
    this.bodyEnd = 0;
    if (this.bodyFd >= 0) { fs.ftruncateSync(this.bodyFd, 0); fs.ftruncateSync(this.headerFd, 0); }
    this.setSeqs(1, 1);
  }

  close(): void {
    for (const fd of [this.seqFd, this.bodyFd, this.headerFd]) if (fd >= 0) fs.closeSync(fd);
    this.seqFd = this.bodyFd = this.headerFd = -1;
  }
}
