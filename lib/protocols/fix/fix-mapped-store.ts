/**
 * FIX session store in one memory-mapped file: the two sequence numbers, the session's creation
 * time and every application message sent, written with plain stores into a MAP_SHARED mapping
 * (the addon's JournalFile, the order journal's file: grown ahead in chunks by its own thread,
 * which also runs the group commit). No system call per message.
 *
 * Why: the three-file `FixFileStore` made four `pwrite`s per round trip and side (body, index and
 * sequence numbers for a message sent, sequence numbers for one received), ~2.4 us each on this
 * machine, which was most of what FIX cost over OUCH on the order round trip.
 *
 * Layout of `<dir>/<id>.fixlog`, 64-byte slots (little endian):
 *   slot 0   0 u32 magic 'TPFS'   4 u16 layout (1)   8 f64 createdMs (ms since epoch: when these
 *            numbers started at 1)   16 f64 next sender MsgSeqNum   24 f64 next target MsgSeqNum
 *            32 u32 generation (bumped by reset/adopt: records of an older generation are dead)
 *   slot 1.. records, each starting on a slot: 0 u32 magic 'TPFM'  4 u32 MsgSeqNum  8 u32 length
 *            12 u32 generation  16.. the message's bytes, padded to the next slot.
 * A record's magic is stored last, so a process killed in the middle of an append leaves a slot
 * that open() does not take for a record; open() reads records from slot 1 up to the first slot
 * that is not a record of the header's generation.
 *
 * Crash safety: every store lands in the page cache, so what `append`/`setSeqs` stored survives
 * `kill -9` before the session puts the message on the wire. Against power loss the store follows
 * the order journal's policy (routing_config.yml `journal.fsync`):
 *   'always' fdatasync before `append`/`setSeqs` returns;
 *   'group'  the file's commit thread fdatasyncs at most every groupCommitUs when something was
 *            stored (a sequence-number-only change marks the file dirty too; one racing the commit
 *            may wait for the next change to be synced, which only makes a restart ask for
 *            resends it did not need);
 *   'never'  the OS writes back when it likes.
 * The file's creation is made durable (directory fsync) under every policy.
 *
 * A directory holding a store of the three-file format (`.seqnums`, `.body`, `.header`) and no
 * `.fixlog` is imported on open: numbers, creation time and messages; the old files are renamed
 * `*.imported`.
 *
 * Single writer: the session's thread. The commit thread only reads the published position.
 */
import * as fs from 'fs';
import * as path from 'path';
import { binding } from '../../binding/native';
import { TickpathError, invalidOption } from '../../errors';
import { FixFileStore, type FixStore, type FixStoreFsync } from './fix-store';

/**
 * MsgSeqNum -> first slot of its record: an Int32Array indexed from the first number stored this
 * generation, grown by doubling. Why: a Map entry per message sent cost a hash insert (and a
 * rehash now and then) on every send; numbers are dense from the session's start. A number far
 * outside the array (below its base, or over 2^24 past it) goes to a Map instead.
 */
class SeqSlotIndex {
  private slots = new Int32Array(1024).fill(-1);
  private base = -1;
  private readonly sparse = new Map<number, number>();

  set(seq: number, slot: number): void {
    if (this.base < 0) this.base = seq;
    const i = seq - this.base;
    if (i < 0 || i >= 1 << 24) { this.sparse.set(seq, slot); return; }
    if (i >= this.slots.length) {
      let n = this.slots.length * 2;
      while (n <= i) n *= 2;
      const grown = new Int32Array(n).fill(-1);
      grown.set(this.slots);
      this.slots = grown;
    }
    this.slots[i] = slot;
  }

  /** The slot, or -1 when `seq` was not stored. */
  get(seq: number): number {
    const i = seq - this.base;
    if (this.base >= 0 && i >= 0 && i < this.slots.length) {
      const s = this.slots[i];
      if (s >= 0) return s;
    }
    return this.sparse.size === 0 ? -1 : (this.sparse.get(seq) ?? -1);
  }

  clear(): void {
    if (this.base >= 0) this.slots.fill(-1);
    this.base = -1;
    this.sparse.clear();
  }
}

const kSlot = 64;
const kRecordHeader = 16;
const kHeaderMagic = 0x53465054; // 'TPFS'
const kRecordMagic = 0x4d465054; // 'TPFM'
const kLayout = 1;
// Control block indices (journal_file.h); checked against the addon's journalLayout at first use.
const kWrittenI32 = 0;
const kDurableI32 = 16;
const kFileSlotsI32 = 32;

interface JournalFileNative {
  journalOpen(path: string, slotBytes: number, capacitySlots: number, growSlots: number, groupCommitUs: number,
    groupCommit: boolean, prefaultBytes: number): { id: number; created: boolean; map: SharedArrayBuffer; control: SharedArrayBuffer };
  journalEnsure(id: number, slots: number): void;
  journalSync(id: number): void;
  journalClose(id: number, keepSlots: number, sync: boolean): void;
  journalLayout: { writtenI32: number; durableI32: number; fileSlotsI32: number };
}

export interface FixMappedStoreOptions {
  /** Default 'group'. */
  fsync?: FixStoreFsync;
  /** 'group' only; default 1000. */
  groupCommitUs?: number;
  /** Largest the file may grow (the mapping's size, reserved at open); default 1 GiB. */
  capacityBytes?: number;
  /** Clock for the creation time (tests). */
  now?: () => number;
  /** Told once when the store is full (messages from then on are not stored and would be gap-filled). */
  log?: (line: string) => void;
}

/** True when the addon that maps the store is built (else sessions use FixFileStore). */
export function mappedStoreAvailable(): boolean {
  try {
    return typeof (binding() as unknown as Partial<JournalFileNative>).journalOpen === 'function';
  } catch {
    return false;
  }
}

export class FixMappedStore implements FixStore {
  readonly kind = 'mapped' as const;
  nextSenderSeq = 1;
  nextTargetSeq = 1;
  createdMs = 0;
  creationMigrated = false;
  readonly fsync: FixStoreFsync;
  /** Messages not stored because the file was full. */
  fullDrops = 0;
  private readonly groupCommitUs: number;
  private readonly capacitySlots: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private native: JournalFileNative | null = null;
  /** The addon's journal id for the file; -1 when closed. */
  private jid = -1;
  private map: Buffer = Buffer.alloc(0);
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private ctl: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private header: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private fileSlots = 0;
  /** Next free slot (records occupy [1, nextSlot)). */
  private nextSlot = 1;
  private generation = 0;
  /** MsgSeqNum -> first slot of its record. */
  private readonly index = new SeqSlotIndex();
  readonly file: string;

  constructor(readonly dir: string, readonly id: string, options: FixMappedStoreOptions = {}) {
    this.fsync = options.fsync ?? 'group';
    if (!['always', 'group', 'never'].includes(this.fsync)) {
      throw invalidOption('FixMappedStore', 'fsync', this.fsync, "'always', 'group' or 'never'");
    }
    const cap = options.capacityBytes ?? 1 << 30;
    if (!Number.isInteger(cap) || cap < 1 << 20 || cap > 2 ** 37) throw invalidOption('FixMappedStore', 'capacityBytes', cap, 'an integer from 1 MiB to 128 GiB');
    this.capacitySlots = Math.floor(cap / kSlot);
    this.groupCommitUs = options.groupCommitUs ?? 1000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
    this.file = path.join(dir, `${id}.fixlog`);
  }

  get isOpen(): boolean { return this.jid >= 0; }

  /** Opens (creating, or importing a three-file store) and loads the numbers and the message index. */
  open(): void {
    this.index.clear();
    const native = binding() as unknown as JournalFileNative;
    const l = native.journalLayout;
    if (!l || l.writtenI32 !== kWrittenI32 || l.durableI32 !== kDurableI32 || l.fileSlotsI32 !== kFileSlotsI32) {
      throw new TickpathError('ERR_ADDON_MISMATCH', 'FixMappedStore: the native addon\'s journal control block differs from fix-mapped-store.ts',
        'rebuild the addon: npm run build:native');
    }
    this.native = native;
    const base = path.join(this.dir, this.id);
    let importFrom: FixFileStore | null = null;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      if (!fs.existsSync(this.file) && fs.existsSync(`${base}.seqnums`)) {
        importFrom = new FixFileStore(this.dir, this.id, { fsync: 'never', now: this.now });
        importFrom.open();
      }
      const h = native.journalOpen(this.file, kSlot, this.capacitySlots, Math.min(4096, this.capacitySlots),
        this.groupCommitUs, this.fsync === 'group', 256 * 1024);
      this.jid = h.id;
      this.map = Buffer.from(h.map);
      this.words = new Uint32Array(h.map);
      this.header = new Float64Array(h.map, 0, 8);
      this.ctl = new Int32Array(h.control);
      // The control line says the allocated length only once the file grew at open; a file already
      // longer than the first chunk is its own size.
      this.fileSlots = Math.max(Atomics.load(this.ctl, kFileSlotsI32), Math.floor(fs.statSync(this.file).size / kSlot));
    } catch (err) {
      importFrom?.close();
      if (err instanceof TickpathError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new TickpathError('ERR_FIX_STORE', `FIX store ${this.file}: ${e.message}`, e.errno === 24
        ? 'close the FIX sessions and order journals this process no longer uses (the addon maps at most 256 files per process), or use storeKind \'files\''
        : `make ${this.dir} writable or point the session's storeDir elsewhere`, e.errno);
    }
    const w = this.words;
    if (w[0] === 0) {
      // New file (or one created and killed before its header): a session starting at 1.
      this.createdMs = this.now();
      this.generation = 1;
      w[1] = kLayout;
      w[8] = this.generation;
      this.writeSeqs(1, 1);
      this.header[1] = this.createdMs;
      w[0] = kHeaderMagic;
    } else if (w[0] !== kHeaderMagic || (w[1] & 0xffff) !== kLayout) {
      this.closeNative(false);
      throw new TickpathError('ERR_FIX_STORE', `FIX store ${this.file} is not a layout ${kLayout} FIX store (magic 0x${w[0].toString(16)})`,
        `restore the file from a backup, or move ${this.file} away to start the session from sequence 1 (agree that with the venue)`);
    } else {
      this.createdMs = this.header[1];
      this.nextSenderSeq = this.header[2];
      this.nextTargetSeq = this.header[3];
      this.generation = w[8];
    }
    this.creationMigrated = false;
    // Records of this generation, in order, up to the first slot that is not one.
    let slot = 1;
    let lastSeq = 0;
    while (slot < this.fileSlots) {
      const i = slot * (kSlot >>> 2);
      if (w[i] !== kRecordMagic || w[i + 3] !== this.generation) break;
      const len = w[i + 2];
      const slots = (kRecordHeader + len + kSlot - 1) >>> 6;
      if (len === 0 || slot + slots > this.fileSlots) break;
      this.index.set(w[i + 1], slot);
      lastSeq = w[i + 1];
      slot += slots;
    }
    this.nextSlot = slot;
    // A slot that is not a record where the next one goes (a killed append) must not be read as one later.
    if (slot < this.fileSlots) this.words[slot * (kSlot >>> 2)] = 0;
    // The numbers are stored after the record: a kill between them leaves the record the newer.
    if (lastSeq + 1 > this.nextSenderSeq) this.writeSeqs(lastSeq + 1, this.nextTargetSeq);
    this.publish();
    if (importFrom) this.importFrom(importFrom, base);
    if (this.fsync !== 'never') this.syncNow();
  }

  private importFrom(old: FixFileStore, base: string): void {
    this.createdMs = old.createdMs;
    this.header[1] = this.createdMs;
    this.creationMigrated = old.creationMigrated;
    for (let seq = 1; seq < old.nextSenderSeq; seq++) {
      const m = old.get(seq);
      if (m) this.append(seq, m, 0, m.length);
    }
    this.writeSeqs(old.nextSenderSeq, old.nextTargetSeq);
    old.close();
    for (const ext of ['seqnums', 'body', 'header']) {
      if (fs.existsSync(`${base}.${ext}`)) fs.renameSync(`${base}.${ext}`, `${base}.${ext}.imported`);
    }
  }

  /** Stores both sequence numbers (two stores into the mapping). */
  setSeqs(nextSender: number, nextTarget: number): void {
    this.nextSenderSeq = nextSender;
    this.nextTargetSeq = nextTarget;
    if (this.jid < 0) return;
    this.header[2] = nextSender;
    this.header[3] = nextTarget;
    this.dirty();
  }

  private writeSeqs(nextSender: number, nextTarget: number): void {
    this.nextSenderSeq = nextSender;
    this.nextTargetSeq = nextTarget;
    this.header[2] = nextSender;
    this.header[3] = nextTarget;
  }

  /** Stores message `seq` = buf[start, end): copied into the mapping, published, no system call. */
  append(seq: number, buf: Buffer, start: number, end: number): void {
    if (this.jid < 0) return;
    const len = end - start;
    const slots = (kRecordHeader + len + kSlot - 1) >>> 6;
    const slot = this.nextSlot;
    if (slot + slots + 1 > this.fileSlots && !this.grow(slot + slots + 1)) return;
    buf.copy(this.map, slot * kSlot + kRecordHeader, start, end);
    this.record(slot, seq, len);
  }

  /** The mapping, where a message reserved with `reserveInPlace` is encoded. */
  get bytes(): Buffer { return this.map; }

  /**
   * Room for the next record's message, up to `maxBytes`, to be encoded where the record keeps it:
   * returns the offset in `bytes` its first byte must land on, or -1 (closed, or no room left:
   * the caller encodes elsewhere and `append`s). Nothing is recorded until `commitInPlace`; bytes
   * encoded and never committed lie past every record, where open() does not look.
   * Why: the session encoded each message into its send ring and this store copied it; encoded
   * here, the copy is gone from every order and report (see fix-session.ts).
   */
  reserveInPlace(maxBytes: number): number {
    if (this.jid < 0) return -1;
    const slot = this.nextSlot;
    const need = slot + ((kRecordHeader + maxBytes + kSlot - 1) >>> 6) + 1;
    if (need > this.fileSlots && (need > this.capacitySlots || !this.grow(need))) return -1;
    return slot * kSlot + kRecordHeader;
  }

  /** Records message `seq`, encoded at bytes[at, end) where `reserveInPlace` said (at = what it returned). */
  commitInPlace(seq: number, at: number, end: number): void {
    if (this.jid < 0) return;
    this.record(Math.floor((at - kRecordHeader) / kSlot), seq, end - at);
  }

  /** Keep-warm: loads (no stores) of where the next record's message goes, one per cache line. */
  touchNext(bytes: number): number {
    if (this.jid < 0) return 0;
    const m = this.map;
    const from = this.nextSlot * kSlot;
    const end = Math.min(from + kRecordHeader + bytes, this.fileSlots * kSlot);
    let sum = 0;
    for (let i = from; i < end; i += 64) sum += m[i];
    return sum;
  }

  /** Writes the header of the record at `slot` (its message already in place), magic last, and publishes it. */
  private record(slot: number, seq: number, len: number): void {
    const slots = (kRecordHeader + len + kSlot - 1) >>> 6;
    const off = slot * kSlot;
    const w = this.words;
    const i = off >>> 2;
    w[i + 1] = seq;
    w[i + 2] = len;
    w[i + 3] = this.generation;
    w[i] = kRecordMagic;
    this.index.set(seq, slot);
    this.nextSlot = slot + slots;
    this.publish();
  }

  /** The stored message `seq` (a copy), or null (admin messages are not stored: they are gap-filled). */
  get(seq: number): Buffer | null {
    const slot = this.index.get(seq);
    if (slot < 0 || this.jid < 0) return null;
    const off = slot * kSlot;
    const len = this.words[(off >>> 2) + 2];
    return Buffer.from(this.map.subarray(off + kRecordHeader, off + kRecordHeader + len));
  }

  /** Forgets everything (ResetSeqNumFlag, new trading day): a new session, created now. */
  reset(): void {
    this.startGeneration(this.now(), 1, 1);
  }

  /** Takes over a session this store never held (hot standby): its start and numbers, no messages. */
  adopt(createdMs: number, nextSender: number, nextTarget: number): void {
    this.startGeneration(createdMs, nextSender, nextTarget);
  }

  private startGeneration(createdMs: number, nextSender: number, nextTarget: number): void {
    this.createdMs = createdMs;
    this.index.clear();
    this.nextSlot = 1;
    if (this.jid < 0) { this.nextSenderSeq = nextSender; this.nextTargetSeq = nextTarget; return; }
    // One store retires every record: they are of the old generation now.
    this.words[8] = ++this.generation;
    this.header[1] = createdMs;
    this.writeSeqs(nextSender, nextTarget);
    this.publish();
    if (this.fsync === 'group') this.syncNow();
  }

  /** Syncs (unless 'never'), trims the file to what it holds and closes it. */
  close(): void {
    this.closeNative(this.fsync !== 'never');
  }

  private closeNative(sync: boolean): void {
    if (this.jid < 0 || !this.native) return;
    const id = this.jid;
    this.jid = -1;
    // Drop the views first: the pages past the trimmed end must not be touched again.
    this.map = Buffer.alloc(0);
    this.words = new Uint32Array(0);
    this.header = new Float64Array(8);
    try {
      this.native.journalClose(id, this.nextSlot, sync);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new TickpathError('ERR_FIX_STORE', `FIX store ${this.file}: closing: ${e.message}`,
        `check the disk holding ${this.dir} (space, errors in dmesg)`, e.errno);
    }
  }

  /** Publishes the written position (what the commit thread syncs and grows ahead of). */
  private publish(): void {
    Atomics.store(this.ctl, kWrittenI32, this.nextSlot);
    this.dirty();
  }

  /** Something changed since the last sync: 'group' syncs at its next period, 'always' now. */
  private dirty(): void {
    if (this.fsync === 'group') {
      // The commit thread syncs when written > durable; a number-only change lowers durable.
      const w = this.nextSlot;
      if (Atomics.load(this.ctl, kDurableI32) >= w) Atomics.store(this.ctl, kDurableI32, w - 1);
    } else if (this.fsync === 'always') {
      this.syncNow();
    }
  }

  private syncNow(): void {
    try {
      this.native!.journalSync(this.jid);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new TickpathError('ERR_FIX_STORE', `FIX store ${this.file}: fdatasync: ${e.message}`,
        `check the disk holding ${this.dir} (space, errors in dmesg)`, e.errno);
    }
  }

  /** Rare: the writer caught up with the commit thread's growth, or the store is full. */
  private grow(slots: number): boolean {
    this.fileSlots = Math.max(this.fileSlots, Atomics.load(this.ctl, kFileSlotsI32));
    if (slots <= this.fileSlots) return true;
    if (slots > this.capacitySlots) {
      if (this.fullDrops++ === 0) {
        this.log(`FIX store ${this.file} is full (${this.capacitySlots * kSlot} bytes): messages are no longer stored and a ` +
          'resend of them is gap-filled; fix: reset the session (a new trading day) or raise the store capacity');
      }
      return false;
    }
    try {
      this.native!.journalEnsure(this.jid, slots);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new TickpathError('ERR_FIX_STORE', `FIX store ${this.file}: growing: ${e.message}`,
        `free space on the disk holding ${this.dir}`, e.errno);
    }
    this.fileSlots = Math.max(this.fileSlots, Atomics.load(this.ctl, kFileSlotsI32));
    return true;
  }
}
