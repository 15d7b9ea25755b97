/**
 * File-backed FIX session store: the two sequence numbers and every application message sent,
 * so a restarted process resumes with the right MsgSeqNum and can answer a ResendRequest.
 *
 * Layout in `dir`, per session id:
 *   <id>.seqnums  one fixed-width record "SSSSSSSSSSSSSSSSSSSS TTTTTTTTTTTTTTTTTTTT CCCCCCCCCCCCCCCCCCCC\n",
 *                 rewritten in place: next sender and target MsgSeqNum and the session's creation time
 *                 (ms since epoch: when these numbers started at 1, i.e. the store was created or
 *                 reset). A store written before the creation time was recorded (the 42-byte record
 *                 without C) is read as created at the file's last write, once, and rewritten with it
 *                 (`creationMigrated` says so).
 *   <id>.body     raw messages, appended
 *   <id>.header   "seq,offset,length\n" per stored message, appended
 * Writes are synchronous `pwrite`s, so what a method stored is in the page cache when it returns
 * (before the session sends the message) and survives a killed process. Against power loss the
 * store follows the order journal's policy (routing_config.yml `journal.fsync`):
 *   'always' fdatasync of every file written before `append`/`setSeqs` returns;
 *   'group'  at most every groupCommitUs (rounded up to whole ms, the timer's grain) an fdatasync
 *            runs in libuv's thread pool, so the event loop never waits on the disk;
 *   'never'  the OS writes back when it likes.
 * A created file's directory is fsynced at open under every policy.
 *
 * Single writer: the session's event loop.
 */
import { writeZeroPadded } from '../../common/bytes';
import * as fs from 'fs';
import * as path from 'path';
import { TickpathError } from '../../errors';

const kSeqRecordLen = 63;
const kSeqFile = 1;
const kBodyFile = 2;
const kHeaderFile = 4;

export type FixStoreFsync = 'always' | 'group' | 'never';

/**
 * What a FIX session needs from its store: `FixMappedStore` (one mapped file, no system call per
 * message; the default where the addon is built) or `FixFileStore` (three files, pwrite per write).
 */
export interface FixStore {
  readonly kind: 'mapped' | 'files';
  readonly dir: string;
  readonly id: string;
  readonly fsync: FixStoreFsync;
  nextSenderSeq: number;
  nextTargetSeq: number;
  createdMs: number;
  creationMigrated: boolean;
  readonly isOpen: boolean;
  open(): void;
  setSeqs(nextSender: number, nextTarget: number): void;
  append(seq: number, buf: Buffer, start: number, end: number): void;
  get(seq: number): Buffer | null;
  reset(): void;
  adopt(createdMs: number, nextSender: number, nextTarget: number): void;
  close(): void;
}

export interface FixStoreOptions {
  /** Default 'group'. */
  fsync?: FixStoreFsync;
  /** 'group' only; default 1000. */
  groupCommitUs?: number;
  /** Clock for the creation time (tests). */
  now?: () => number;
}

export class FixFileStore implements FixStore {
  readonly kind = 'files' as const;
  private seqFd = -1;
  private bodyFd = -1;
  private headerFd = -1;
  private bodyEnd = 0;
  private readonly index = new Map<number, [number, number]>();
  private readonly seqRecord = Buffer.alloc(kSeqRecordLen);
  nextSenderSeq = 1;
  nextTargetSeq = 1;
  /** When this session's sequence numbers started at 1 (store created or reset), ms since epoch. */
  createdMs = 0;
  /** True when open() found a store without a recorded creation time and took the file's mtime. */
  creationMigrated = false;
  private readonly now: () => number;
  readonly fsync: FixStoreFsync;
  private readonly groupCommitMs: number;
  /** Files written since their last fdatasync ('group'), as kSeqFile | kBodyFile | kHeaderFile. */
  private dirty = 0;
  private groupTimer: NodeJS.Timeout | null = null;
  /** fdatasyncs still running in the thread pool: their descriptors are closed after them. */
  private syncsInFlight = 0;
  private closeAfterSyncs: number[] = [];
  private readonly groupSync = (): void => this.startGroupSync();
  private readonly groupSyncDone = (): void => {
    if (--this.syncsInFlight === 0 && this.closeAfterSyncs.length > 0) {
      for (const fd of this.closeAfterSyncs) fs.close(fd, () => undefined);
      this.closeAfterSyncs = [];
    }
  };

  constructor(readonly dir: string, readonly id: string, options: FixStoreOptions = {}) {
    this.fsync = options.fsync ?? 'group';
    if (!['always', 'group', 'never'].includes(this.fsync)) {
      throw new TickpathError('ERR_INVALID_OPTION', `FixFileStore: option 'fsync' is ${JSON.stringify(this.fsync)}, expected 'always', 'group' or 'never'`);
    }
    this.groupCommitMs = Math.max(1, Math.ceil((options.groupCommitUs ?? 1000) / 1000));
    this.now = options.now ?? Date.now;
  }

  get isOpen(): boolean { return this.seqFd >= 0; }

  /** Opens (creating) the files and loads sequence numbers and the message index. */
  open(): void {
    this.index.clear();
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const base = path.join(this.dir, this.id);
      if (fs.existsSync(`${base}.fixlog`) && !fs.existsSync(`${base}.seqnums`)) {
        throw new TickpathError('ERR_FIX_STORE', `FIX store ${base} is held in ${base}.fixlog (the mapped store), which the three-file store cannot read`,
          'run the session with the mapped store (the default where the native addon is built: npm run build:native)');
      }
      const created = ['seqnums', 'body', 'header'].some((ext) => !fs.existsSync(`${base}.${ext}`));
      this.seqFd = fs.openSync(`${base}.seqnums`, fs.existsSync(`${base}.seqnums`) ? 'r+' : 'w+');
      this.bodyFd = fs.openSync(`${base}.body`, fs.existsSync(`${base}.body`) ? 'r+' : 'w+');
      this.headerFd = fs.openSync(`${base}.header`, 'a+');
      if (created) {
        // The new files' names are durable only once their directory is.
        const dirFd = fs.openSync(this.dir, 'r');
        try { fs.fsyncSync(dirFd); } finally { fs.closeSync(dirFd); }
      }
      const seq = fs.readFileSync(`${base}.seqnums`, 'latin1');
      const m = /^\s*(\d+)\s+(\d+)(?:\s+(\d+))?\s*$/.exec(seq);
      this.creationMigrated = false;
      if (m) {
        this.nextSenderSeq = Number(m[1]);
        this.nextTargetSeq = Number(m[2]);
        if (m[3] !== undefined) this.createdMs = Number(m[3]);
        else {
          // Written by a build that recorded no creation time: its last write is the best estimate
          // left (what that build used), recorded now so it no longer moves with every write.
          this.createdMs = Math.floor(fs.fstatSync(this.seqFd).mtimeMs);
          this.creationMigrated = true;
          this.setSeqs(this.nextSenderSeq, this.nextTargetSeq);
        }
      } else if (seq.trim() === '') {
        this.nextSenderSeq = 1;
        this.nextTargetSeq = 1;
        this.createdMs = this.now();
        this.setSeqs(1, 1);
      } else {
        throw new TickpathError('ERR_FIX_STORE', `FIX store ${base}.seqnums holds ${JSON.stringify(seq.slice(0, 80))}, not sequence numbers`,
          `restore the file from a backup, or move ${base}.* away to start the session from sequence 1 (agree that with the venue)`);
      }
      this.bodyEnd = fs.fstatSync(this.bodyFd).size;
      for (const line of fs.readFileSync(`${base}.header`, 'latin1').split('\n')) {
        const f = line.split(',');
        if (f.length === 3) this.index.set(Number(f[0]), [Number(f[1]), Number(f[2])]);
      }
    } catch (err) {
      if (err instanceof TickpathError) throw err;
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
    r[41] = 0x20;
    writeZeroPadded(r, 42, 20, this.createdMs);
    r[62] = 0x0a;
    fs.writeSync(this.seqFd, r, 0, kSeqRecordLen, 0);
    this.written(kSeqFile);
  }

  private readonly headerLine = Buffer.allocUnsafe(64);

  /** Stores message `seq` = buf[start, end). */
  append(seq: number, buf: Buffer, start: number, end: number): void {
    if (this.bodyFd < 0) return;
    const len = end - start;
    fs.writeSync(this.bodyFd, buf, start, len, this.bodyEnd);
    // "seq,offset,length\n" built in a reused buffer: no string per stored message.
    const h = this.headerLine;
    let p = writeDecimal(h, 0, seq);
    h[p++] = 0x2c;
    p = writeDecimal(h, p, this.bodyEnd);
    h[p++] = 0x2c;
    p = writeDecimal(h, p, len);
    h[p++] = 0x0a;
    fs.writeSync(this.headerFd, h, 0, p);
    this.index.set(seq, [this.bodyEnd, len]);
    this.bodyEnd += len;
    this.written(kBodyFile | kHeaderFile);
  }

  /** The stored message `seq`, or null (admin messages are not stored: they are gap-filled). */
  get(seq: number): Buffer | null {
    const e = this.index.get(seq);
    if (!e || this.bodyFd < 0) return null;
    const b = Buffer.allocUnsafe(e[1]);
    fs.readSync(this.bodyFd, b, 0, e[1], e[0]);
    return b;
  }

  /** Forgets everything (ResetSeqNumFlag, new trading day): a new session, created now. */
  reset(): void {
    this.createdMs = this.now();
    this.index.clear();
    this.bodyEnd = 0;
    if (this.bodyFd >= 0) { fs.ftruncateSync(this.bodyFd, 0); fs.ftruncateSync(this.headerFd, 0); }
    this.setSeqs(1, 1);
    this.written(kBodyFile | kHeaderFile);
  }

  /**
   * Takes over a session this store never held (a hot standby's takeover): the session's start,
   * next sender and target numbers as the primary's journal recorded them; the stored messages
   * (another session's, or none) are dropped, so a ResendRequest below `nextSender` is gap-filled.
   */
  adopt(createdMs: number, nextSender: number, nextTarget: number): void {
    this.createdMs = createdMs;
    this.index.clear();
    this.bodyEnd = 0;
    if (this.bodyFd >= 0) { fs.ftruncateSync(this.bodyFd, 0); fs.ftruncateSync(this.headerFd, 0); }
    this.setSeqs(nextSender, nextTarget);
    this.written(kBodyFile | kHeaderFile);
  }

  /** Syncs what is not yet durable (unless 'never') and closes the files. */
  close(): void {
    if (this.groupTimer) { clearTimeout(this.groupTimer); this.groupTimer = null; }
    if (this.fsync !== 'never') this.syncNow(this.dirty);
    this.dirty = 0;
    for (const fd of [this.seqFd, this.bodyFd, this.headerFd]) {
      if (fd < 0) continue;
      if (this.syncsInFlight > 0) this.closeAfterSyncs.push(fd); else fs.closeSync(fd);
    }
    this.seqFd = this.bodyFd = this.headerFd = -1;
  }

  private written(files: number): void {
    if (this.fsync === 'always') { this.syncNow(files); return; }
    if (this.fsync === 'never') return;
    this.dirty |= files;
    if (this.groupTimer === null) {
      this.groupTimer = setTimeout(this.groupSync, this.groupCommitMs);
      this.groupTimer.unref();
    }
  }

  private syncNow(files: number): void {
    if (files & kSeqFile && this.seqFd >= 0) fs.fdatasyncSync(this.seqFd);
    if (files & kBodyFile && this.bodyFd >= 0) fs.fdatasyncSync(this.bodyFd);
    if (files & kHeaderFile && this.headerFd >= 0) fs.fdatasyncSync(this.headerFd);
  }

  private startGroupSync(): void {
    this.groupTimer = null;
    const files = this.dirty;
    this.dirty = 0;
    for (const [bit, fd] of [[kSeqFile, this.seqFd], [kBodyFile, this.bodyFd], [kHeaderFile, this.headerFd]]) {
      if (!(files & bit) || fd < 0) continue;
      this.syncsInFlight++;
      fs.fdatasync(fd, this.groupSyncDone);
    }
  }
}

/** Writes non-negative integer `v` (< 2^53) in decimal at `off`; returns the offset after it. */
function writeDecimal(b: Buffer, off: number, v: number): number {
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  for (let i = off + digits - 1, t = v; i >= off; i--, t = Math.floor(t / 10)) b[i] = 0x30 + (t % 10);
  return off + digits;
}
