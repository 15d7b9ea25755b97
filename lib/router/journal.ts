/**
 * Append-only journal of every order state change, one fixed-size binary record per change, so a
 * restarted router knows which orders are open, its positions, and the last sequence number it
 * processed from each venue session.
 *
 * File layout 3: fixed 96-byte slots. Slot 0 is the header, record N is in slot N (byte N * 96).
 * Layout 3 is layout 2's framing plus one record type, NEW_ORDER: a client order routed whole to
 * one venue, its parent and its only child in one record (before, NEW_PARENT then NEW_CHILD: two
 * records, both before the wire). Such a parent has no PARENT_STATE records either: its state is
 * its child's (recovery derives it as OrderManager does), so a send/ack/fill lifecycle is three
 * records, not five. Layout 2 files are read, and continued as layout 2 (no NEW_ORDER records), so
 * the build that wrote them can still read them.
 *
 *   header   0 u32 crc32 of bytes 4..95   4 u32 0   8 u16 layout version (3)   10 u16 record size
 *           16 f64 created (ms since epoch)   24 char[32] session identity (owner's choice, NUL
 *              padded: e.g. the OUCH username or FIX SenderCompID)   92 u32 magic 'TPJH'
 *
 *   record (little endian)
 *   0  u32 crc32 of bytes 4..95        56 char[14] clOrdId (NUL padded)
 *   4  u32 recordNo = slot index       70 char[14] refId: parent id (NEW_CHILD, NEW_ORDER), old id (REPLACED)
 *   8  f64 time (ms since epoch)       84 char[8]  symbol
 *  16  u8 type  17 u8 state            92 u32 magic 'TPJ2'
 *  18  u8 side  19 u8 ordType  20 u8 tif  21 u8 reason (index in REJECT_REASONS, 255 none)
 *  22  i16 venue   24 u32 qty   28 u32 price   32 u32 cumFilled   36 u32 cancelledQty
 *  40  u32 lastQty 44 u32 lastPx 48 f64 venueSeq (VENUE_SEQ: the sequence; an order record made by
 *      a venue message: that message's session sequence number, so a restart can tell a replay of
 *      it; 0 otherwise). VENUE_SEQ also holds, in the qty field (24), the session's next outbound
 *      sequence number where the connector has one (FIX MsgSeqNum out; 0 = not recorded): a hot
 *      standby, which has no copy of the FIX store, logs on from it (failover.ts)
 *
 * Each record is a snapshot of the order after the change, so recovery is "last record per id
 * wins" plus positions summed from FILL records. An EPOCH record (hot standby, failover.ts) holds
 * the failover term in the venueSeq field; recovery keeps the highest. A slot is a record iff magic, crc and
 * recordNo == slot index all hold; the fixed framing is what lets recovery resynchronise. Recovery
 * reads every slot: all-zero slots after the last record are free space (the file is allocated
 * ahead in chunks); anything else after the last record is a torn tail and is zeroed; a bad slot
 * with records after it is damage: skipped, reported in `recovered.damaged` with its byte offset
 * and cause, and never allowed to take the records after it along. A file of another layout is
 * refused (ERR_JOURNAL_VERSION), never rewritten.
 *
 * Writes: under 'group' and 'never' each append writes its record into a shared-memory ring, a
 * MAP_SHARED file on tmpfs (`ringDir`, default /dev/shm: tickpath-journal-<dev>-<inode>.ring;
 * slot 0 a header naming this journal's creation time and inode, record N in slot
 * 1 + (N & (ringRecords - 1))), its record number last and no crc (ring layout 3: the copier
 * computes it on the way into the file, ~45 ns a record off the router's thread; a slot holding
 * number N holds all of record N, so a kill -9 mid-record is not mistaken for one), and publishes
 * the written position with one Atomics.store. So a
 * record is in the page cache, and survives `kill -9` of the router, before `append*` returns and
 * therefore before the order is on the wire; and tmpfs pages are never write-protected by
 * writeback, so the router's stores do not fault (an ext4 mapping's pages are write-protected
 * again by every fdatasync, and the next store can wait for the jbd2 commit). The native commit
 * thread copies the published records from the ring into the file (pwrite) at every wake-up, at
 * least every millisecond; the writer never overtakes the copy by a whole ring (if the thread is
 * late it copies the ring itself). Opening a journal first copies a killed router's ring tail, the
 * valid records numbered on from the file's last, into the file (fdatasync) and removes the ring;
 * `recover` (read-only) includes them. 'always', and a journal whose `mapping` was read (the hot
 * standby shipper sends from it), write straight into the file's MAP_SHARED mapping instead.
 * Durability against power loss, per policy:
 *   'always' fdatasync before `append*` returns: a record is on disk before its order is sent;
 *   'group'  a native commit thread copies the ring and fdatasyncs what was published at most every
 *            groupCommitUs (default 1000 us) without blocking the router: a power loss loses at most
 *            the last groupCommitUs (plus one copy and fdatasync) of records, some possibly sent;
 *   'never'  the OS writes the page cache back when it likes (typically within 30 s).
 * `durablePosition` is the record number known to be on disk.
 *
 * The commit thread also keeps the writer's stores cheap. It stores the journal's clock (CLOCK_REALTIME
 * ms, read by every record instead of a clock call) every millisecond, and without a ring, after
 * each wake-up it makes the pages just ahead of the written position present and writable (MADV_POPULATE_WRITE): a
 * first store into a page of a MAP_SHARED ext4 file is a page fault that opens a jbd2 handle, and
 * during the group commit's fdatasync it waits for that commit. See journal_file.h. The file's creation is made durable
 * (directory fsync) under every policy.
 *
 * Threading: single writer, the router worker; the commit thread only reads the published
 * position. Nothing is allocated per record: the mapping, views and control block exist from open.
 */
import { readAsciiZ, writeAsciiZ } from '../common/bytes';
import * as fs from 'fs';
import { binding } from '../binding/native';
import { TickpathError, invalidOption } from '../errors';
import type { OrderManager } from './order-manager';
import { REJECT_REASONS, OrderState, SIDE_CODES } from './types';
import type { OrdType, RejectReason, Side, TimeInForce } from './types';

export const RECORD_SIZE = 96;
/** The file layout this build reads and writes. */
export const JOURNAL_LAYOUT_VERSION = 3;
/** Layouts this build reads: 2 (continued as 2) and 3. */
const READABLE_LAYOUTS: readonly number[] = [2, 3];
/** Slot 0 holds the header: record N starts at byte N * RECORD_SIZE. */
export const HEADER_SIZE = RECORD_SIZE;
const MAGIC = 0x324a5054;          // 'TPJ2' little endian: a layout 2 record
const HEADER_MAGIC = 0x484a5054;   // 'TPJH': the layout header
const V1_MAGIC = 0x314a5054;       // 'TPJ1': layout 1 had no header, a record at byte 0
const NO_REASON = 255;
const IDENTITY_BYTES = 32;

// Mirror of journal_file.h's control block (Int32 indices); checked against the addon at open.
const kWrittenI32 = 0;
const kDurableI32 = 16;
const kFileSlotsI32 = 32;
const kSyncsI32 = 48;
const kErrnoI32 = 49;
const kClockF64 = 32;
const kPrefaultedI32 = 80;
const kCopiedI32 = 96;

/** Ring file header (slot 0 of the ring): 'TPJR' at byte 92, like the journal's own header. */
const RING_MAGIC = 0x524a5054;     // 'TPJR' little endian
/**
 * Ring layout 3: records in the ring carry no crc from the router; the copier (journal_file.cc)
 * seals each one as it copies it into the file, and the router stores a record's number last,
 * which is what makes a ring slot a record. Layout 2 rings (an older build's, crc written by the
 * router) are still read.
 */
const RING_VERSION = 3;
/**
 * The ring file's first page: bytes 0..95 the header (crc of 4..95 at 0, version 8, record size 10,
 * ring records 12, the journal's creation time 16 (f64), its inode 24 (f64), the owner's pid 32,
 * the journal path's length 36 (u16), magic 'TPJR' 92), the journal's absolute path from byte 96
 * (so a ring whose journal is gone can be removed). Record N follows at RING_HEADER_BYTES +
 * (N & (ringRecords - 1)) * RECORD_SIZE.
 */
const RING_HEADER_BYTES = 4096;
const RING_PATH_MAX = RING_HEADER_BYTES - RECORD_SIZE;
const RING_NAME = /^tickpath-journal-(\d+)-(\d+)\.ring$/;
/** Where the ring lives unless `ringDir` says otherwise: tmpfs, so its pages are never written back. */
const DEFAULT_RING_DIR = '/dev/shm';
/** Slots of the writer's `off` arithmetic when there is no ring: every slot below 2^31 maps to itself. */
const DIRECT_MASK = 0x7fffffff;

export const enum JournalRecordType {
  NEW_PARENT = 1,
  NEW_CHILD = 2,
  STATE = 3,        // ack, cancel, reject, pending cancel/replace ...
  FILL = 4,
  REPLACED = 5,     // clOrdId is the new id, refId the old one
  VENUE_SEQ = 6,    // clOrdId holds the venue name
  PARENT_STATE = 7,
  REQUEST_REJECTED = 8,   // a new order refused before it got a slot (risk, routing, validation)
  VENUE_SESSION = 9,      // clOrdId holds the venue name, refId the venue's session identity
  NEW_ORDER = 10,   // layout 3: a child and its parent, whose only child it is (same qty, price,
                    // symbol, side, type, tif and state); refId the parent's id
  EPOCH = 11,             // failover: the term under which later records were written (venueSeq field)
}

export type FsyncPolicy = 'always' | 'group' | 'never';

export interface JournalOptions {
  fsync: FsyncPolicy;
  /** 'group' only: longest wait of a published record for the commit thread's fdatasync. Default 1000. */
  groupCommitUs?: number;
  /** Most records the file may hold (the size of its mapping). Default 8M (768 MiB). */
  capacityRecords?: number;
  /** Records allocated per growth step, ahead of the writer. Default 16384 (1.5 MiB). */
  growRecords?: number;
  /** Written into a new file's header (at most 32 ASCII characters): who owns this journal. */
  identity?: string;
  /**
   * Clock for the record time field, read once per record (tests). Default: the journal's clock,
   * CLOCK_REALTIME ms that the commit thread stores every millisecond (no clock call per record;
   * a record's time is at most ~1 ms plus a scheduling delay early).
   */
  now?: () => number;
  /**
   * Most bytes the commit thread makes present and writable ahead of the written position every
   * period (MADV_POPULATE_WRITE; the window is four periods of the recent peak write rate, capped
   * here), so the router's stores need not take the page fault. Default 1048576; 0 off.
   */
  prefaultBytes?: number;
  /**
   * Records the shared-memory ring holds (a power of two from 16 to 4194304; 0: no ring, the router
   * writes straight into the journal file's mapping). Default 16384 (1.5 MiB: 5 ms of records at
   * 3 M records/s, five commit periods) under 'group' and 'never' when /dev/shm exists, 0 under 'always' (it fdatasyncs on the router's thread anyway). With a ring each record
   * is written into a MAP_SHARED file in `ringDir` (tmpfs), in the page cache before the wire as
   * without it, and the commit thread copies it into the journal file at its next wake-up (at most
   * every millisecond, before its fdatasync). A restart copies what a killed router left in the
   * ring into the file before reading it.
   */
  ringRecords?: number;
  /** Directory of the ring file (tmpfs; must survive the router process, not the machine). Default /dev/shm. */
  ringDir?: string;
  /**
   * Who computes a ring record's crc: 'copier' (default; the commit thread, as it copies the record
   * into the file) or 'writer' (the router's thread, as before ring layout 3: ~45 ns a record).
   * 'writer' exists so perf:router can measure the previous path beside the shipped one.
   */
  ringCrcBy?: 'copier' | 'writer';
}

/** One skipped slot between valid records: where it is and why it is not a record. */
export interface JournalDamage {
  offset: number;
  cause: 'bad crc' | 'bad magic' | 'wrong record number' | 'empty';
}

/** The last known state of one order, rebuilt from the journal. */
export interface JournalOrder {
  clOrdId: string;
  kind: 'parent' | 'child';
  parentId: string;      // '' for parents
  symbol: string;
  side: Side;
  ordType: OrdType;
  tif: TimeInForce;
  venue: number;
  qty: number;
  price: number;
  filled: number;
  cancelled: number;
  state: number;         // OrderState
  reason: RejectReason | '';
  /** PENDING_REPLACE only: the id, qty and price the replace asked for ('' / 0 otherwise). */
  pendingId: string;
  pendingQty: number;
  pendingPrice: number;
  /** Highest venue sequence number of a venue message applied to this order (0 none journaled). */
  venueSeq: number;
}

export interface JournalRecovery {
  /** Every order seen, final snapshot, by id (terminal ones included). */
  orders: Map<string, JournalOrder>;
  /** Non-terminal parents and children, in journal order. */
  openParents: JournalOrder[];
  openChildren: JournalOrder[];
  /** Net shares per symbol from FILL records. */
  positions: Map<string, number>;
  /** Last sequence number recorded per venue name, in the venue session last recorded. */
  venueSeqs: Map<string, number>;
  /** Highest next outbound sequence number recorded per venue name (FIX), in the session last recorded. */
  venueOutSeqs: Map<string, number>;
  /**
   * Per venue name: order records (each one a message the router may have put on the wire) written
   * after the last outbound sequence number was recorded, an upper bound on the application
   * messages sent since.
   */
  venueSendsAfterOutSeq: Map<string, number>;
  /**
   * The venue session identity last recorded per venue name (SoupBinTCP session name, FIX session
   * start): a restart that finds another one at login knows the venue began a new session.
   */
  venueSessions: Map<string, string>;
  /** Venue number -> name, from the sequence records (a report names venues with it). */
  venueNames: Map<number, string>;
  /** `${venue}/${execIdKey(execId)}` of every journaled fill, to drop fills a venue replays. */
  fillExecIds: Set<string>;
  /** New orders refused before they existed (REQUEST_REJECTED records). */
  rejectedRequests: number;
  records: number;
  lastRecordNo: number;
  /** Bytes up to the end of the last valid record (header included). */
  validBytes: number;
  /** Slots after the last record that held neither a record nor zeros (torn tail, zeroed on open). */
  tornRecords: number;
  ignoredBytes: number;
  /** Bad slots before the last record: skipped and reported, their neighbours kept. */
  damaged: JournalDamage[];
  /** From the header ('' / 0 for a new file). */
  identity: string;
  createdMs: number;
  /** Highest failover epoch recorded (EPOCH records; 0 when the journal never took part in a failover). */
  epoch: number;
  /** The header's layout version (0 without a valid header). */
  layout: number;
  /** Records found only in the shared-memory ring of a killed router (copied into the file on open). */
  fromRing: number;
}

// ---------------------------------------------------------------- crc32 (IEEE), tables built once
// Slicing-by-4: four table lookups per 32-bit word. About twice as fast as one byte per step,
// and it runs for every journal record (several per order).

const CRC_T0 = new Uint32Array(256);
const CRC_T1 = new Uint32Array(256);
const CRC_T2 = new Uint32Array(256);
const CRC_T3 = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_T0[n] = c >>> 0;
}
for (let n = 0; n < 256; n++) {
  CRC_T1[n] = (CRC_T0[CRC_T0[n] & 0xff] ^ (CRC_T0[n] >>> 8)) >>> 0;
  CRC_T2[n] = (CRC_T0[CRC_T1[n] & 0xff] ^ (CRC_T1[n] >>> 8)) >>> 0;
  CRC_T3[n] = (CRC_T0[CRC_T2[n] & 0xff] ^ (CRC_T2[n] >>> 8)) >>> 0;
}

// The writer's path checksums aligned words with slicing-by-16: one table of 16 x 256 entries
// (table t folds a byte that has t bytes after it in the block), four words per step. A record's
// 23 words take 6 dependent steps instead of 12 (slicing-by-8) or 92 (byte-wise): the crc was the
// largest single cost of an order lifecycle (three records each), ~17 % byte-wise, ~13 % by 8.
// One Int32Array instead of several keeps the step's loads on one base register.
const CRC_T16 = new Int32Array(16 * 256);
CRC_T16.set(CRC_T0);
for (let t = 1; t < 16; t++) {
  for (let n = 0; n < 256; n++) {
    const p = CRC_T16[(t - 1) * 256 + n];
    CRC_T16[t * 256 + n] = CRC_T16[p & 0xff] ^ (p >>> 8);
  }
}

/**
 * crc32 of the 32-bit words `u32[from..to)` taken as little-endian bytes: on a little-endian host
 * (checked at open) the same value `crc32` gives over those bytes.
 */
export function crc32Words(u32: Uint32Array, from: number, to: number): number {
  const T = CRC_T16;
  let c = ~0;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const a = u32[i] ^ c;
    const b = u32[i + 1];
    const d = u32[i + 2];
    const e = u32[i + 3];
    c = T[3840 + (a & 0xff)] ^ T[3584 + ((a >>> 8) & 0xff)] ^ T[3328 + ((a >>> 16) & 0xff)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^ T[2560 + ((b >>> 8) & 0xff)] ^ T[2304 + ((b >>> 16) & 0xff)] ^ T[2048 + (b >>> 24)] ^
      T[1792 + (d & 0xff)] ^ T[1536 + ((d >>> 8) & 0xff)] ^ T[1280 + ((d >>> 16) & 0xff)] ^ T[1024 + (d >>> 24)] ^
      T[768 + (e & 0xff)] ^ T[512 + ((e >>> 8) & 0xff)] ^ T[256 + ((e >>> 16) & 0xff)] ^ T[e >>> 24];
  }
  for (; i < to; i++) {
    const a = u32[i] ^ c;
    c = T[768 + (a & 0xff)] ^ T[512 + ((a >>> 8) & 0xff)] ^ T[256 + ((a >>> 16) & 0xff)] ^ T[a >>> 24];
  }
  return ~c >>> 0;
}

export function crc32(buf: Uint8Array, start: number, end: number): number {
  let c = ~0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c = CRC_T3[c & 0xff] ^ CRC_T2[(c >>> 8) & 0xff] ^ CRC_T1[(c >>> 16) & 0xff] ^ CRC_T0[c >>> 24];
  }
  for (; i < end; i++) c = CRC_T0[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The key under which a fill's exec id is journaled and de-duplicated: the id itself when it fits
 * the 14-character field, else two independent 32-bit FNV-1a hashes in base 36 (14 characters;
 * a false match needs a 64-bit collision). Venue exec ids are often longer (OUCH match number plus
 * sequence), and a restarted router must still recognise a fill the venue replays.
 */
export function execIdKey(execId: string): string {
  if (execId.length <= 14) return execId;
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < execId.length; i++) {
    const ch = execId.charCodeAt(i);
    a = Math.imul(a ^ ch, 0x01000193);
    b = Math.imul(b ^ ch, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(36).padStart(7, '0') + (b >>> 0).toString(36).padStart(7, '0');
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'group', 'never'];

/** The addon's journal calls (dpdk-binding/src/journal_glue.cc). */
interface JournalNative {
  journalOpen(path: string, slotBytes: number, capacitySlots: number, growSlots: number, groupCommitUs: number,
    groupCommit: boolean, prefaultBytes: number): { id: number; created: boolean; map: SharedArrayBuffer; control: SharedArrayBuffer };
  journalEnsure(id: number, slots: number): void;
  journalSync(id: number): void;
  journalClose(id: number, keepSlots: number, sync: boolean): void;
  journalAttachRing(id: number, ringPath: string, ringSlots: number, firstSlot: number): SharedArrayBuffer;
  journalDrainRing(id: number): void;
  journalDetachRing(id: number): void;
  journalHoldCopy(id: number, held: boolean): void;
  journalLayout: { writtenI32: number; durableI32: number; fileSlotsI32: number; syncsI32: number; errnoI32: number;
    clockF64: number; prefaultedI32: number; copiedI32: number; ringHeaderBytes: number; ringSealsCrc?: number };
}

let layoutChecked = false;

function journalNative(): JournalNative {
  const b = binding() as unknown as JournalNative;
  if (!layoutChecked) {
    const l = b.journalLayout;
    if (!l || l.writtenI32 !== kWrittenI32 || l.durableI32 !== kDurableI32 || l.fileSlotsI32 !== kFileSlotsI32 ||
      l.syncsI32 !== kSyncsI32 || l.errnoI32 !== kErrnoI32 || l.clockF64 !== kClockF64 || l.prefaultedI32 !== kPrefaultedI32 ||
      l.copiedI32 !== kCopiedI32 || l.ringHeaderBytes !== RING_HEADER_BYTES || l.ringSealsCrc !== 1) {
      throw new TickpathError('ERR_ADDON_MISMATCH', 'OrderJournal: the native addon\'s journal control block differs from journal.ts',
        'rebuild the addon: npm run build:native');
    }
    layoutChecked = true;
  }
  return b;
}

function journalError(code: string, path: string, what: string, e: unknown, fix: string): TickpathError {
  const errno = (e as { errno?: number }).errno;
  return new TickpathError(code, `OrderJournal: ${what} ${path} failed: ${(e as Error).message}`, fix, errno);
}

/**
 * Journals open in this thread, closed when it exits normally (process.exit, the end of the event
 * loop, an uncaught exception, a worker's end): their rings are copied into their files and
 * removed. A router killed by a signal leaves its ring for the next open.
 */
const openJournals = new Set<OrderJournal>();
let exitHookInstalled = false;

function closeOpenJournalsAtExit(): void {
  for (const j of [...openJournals]) {
    try { j.close(); } catch { /* exiting: nothing to report to */ }
  }
}

const WRITE_FIX = 'free disk space or fix the journal path, then restart the router (it recovers from the journal)';

export class OrderJournal {
  readonly path: string;
  readonly policy: FsyncPolicy;
  /** What was in the file when it was opened (empty result for a new file). */
  readonly recovered: JournalRecovery;

  private readonly native: JournalNative;
  private id: number;
  /** The MAP_SHARED mapping of the whole file capacity; `buf`/`view` point here unless failed. */
  private readonly map: Uint8Array;
  private readonly mapView: DataView;
  private buf!: Uint8Array;
  private view!: DataView;
  /** `buf` as words (the record crc and its 32-bit fields), half-words (ids) and doubles (time, venueSeq). */
  private words!: Uint32Array;
  private halves!: Uint16Array;
  private doubles!: Float64Array;
  private readonly scratch = new Uint8Array(RECORD_SIZE);
  /** Control block shared with the commit thread (journal_file.h). */
  private readonly ctl: Int32Array;
  /** The same block as doubles: the commit thread's clock at kClockF64. */
  private readonly ctlF64: Float64Array;
  /** True when the caller gave a clock (`now`): read per record instead of the journal's clock. */
  private readonly ownClock: boolean;
  private readonly capacitySlots: number;
  private fileSlots: number;
  private recordNo: number;
  private replicaSink: ((map: Uint8Array, offset: number) => void) | null = null;
  private readonly now: () => number;
  /**
   * Where record `slot` goes in `buf`: byte (slot & slotMask) * RECORD_SIZE + byteBase. In the
   * ring: slotMask = ringSlots - 1, byteBase RING_HEADER_BYTES; straight into the
   * file mapping: DIRECT_MASK and 0.
   */
  private slotMask = DIRECT_MASK;
  private byteBase = 0;
  /** First slot the ring cannot take yet (copied position + ringSlots); 2^31 without a ring. */
  private ringLimit = 0x7fffffff;
  private ringSlots = 0;
  private ringMap: Uint8Array | null = null;
  /** True: ring records get their crc from the copier (ringCrcBy 'copier'), not from end(). */
  private copierSeals = true;

  /**
   * The layout this journal writes: 3 for a new file, the file's own for an existing one (a layout 2
   * file is continued as layout 2). NEW_ORDER records only when 3.
   */
  readonly layout: number;

  records = 0;
  /** fdatasyncs made by `append*` itself ('always'). */
  syncs = 0;
  /** Records not written because the journal failed (or after it). */
  lostRecords = 0;
  /** Times the writer found the ring full and copied it into the file itself (the commit thread was late). */
  ringFullCopies = 0;
  private failed = false;

  /** Opens (creating if needed) a journal, recovering it and zeroing a torn tail first. */
  static open(path: string, opts: JournalOptions): OrderJournal {
    return new OrderJournal(path, opts);
  }

  private constructor(path: string, opts: JournalOptions) {
    if ((opts.fsync as string) === 'batch') {
      throw new TickpathError('ERR_INVALID_OPTION', "OrderJournal: option 'fsync' is \"batch\", which was removed: it held " +
        'records in memory, so a killed router lost orders already on the wire',
      "use 'group' (each record in the page cache before the wire, fdatasync every groupCommitUs by a commit thread)");
    }
    if (!FSYNC_POLICIES.includes(opts.fsync)) {
      throw invalidOption('OrderJournal', 'fsync', opts.fsync, "'always', 'group' or 'never'");
    }
    const groupCommitUs = opts.groupCommitUs ?? 1000;
    if (!Number.isInteger(groupCommitUs) || groupCommitUs < 50 || groupCommitUs > 1_000_000) {
      throw invalidOption('OrderJournal', 'groupCommitUs', groupCommitUs, 'an integer from 50 to 1000000');
    }
    const capacity = opts.capacityRecords ?? 8 * 1024 * 1024;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 20_000_000) {
      throw invalidOption('OrderJournal', 'capacityRecords', capacity, 'an integer from 1 to 20000000');
    }
    const grow = opts.growRecords ?? 16384;
    if (!Number.isInteger(grow) || grow < 16 || grow > 1 << 20) {
      throw invalidOption('OrderJournal', 'growRecords', grow, 'an integer from 16 to 1048576');
    }
    const identity = opts.identity ?? '';
    if (identity.length > IDENTITY_BYTES || !/^[\x20-\x7e]*$/.test(identity)) {
      throw invalidOption('OrderJournal', 'identity', identity, `at most ${IDENTITY_BYTES} printable ASCII characters`);
    }
    if (!LITTLE_ENDIAN_HOST) {
      throw new TickpathError('ERR_UNSUPPORTED_PLATFORM', 'OrderJournal: this host is big endian; the journal writer ' +
        'checksums its little-endian records as native-order words', 'run the router on a little-endian host (x86-64, arm64)');
    }
    if (opts.ringCrcBy !== undefined && opts.ringCrcBy !== 'copier' && opts.ringCrcBy !== 'writer') {
      throw invalidOption('OrderJournal', 'ringCrcBy', opts.ringCrcBy, "'copier' or 'writer'");
    }
    this.copierSeals = opts.ringCrcBy !== 'writer';
    this.path = path;
    this.policy = opts.fsync;
    this.now = opts.now ?? Date.now;
    this.ownClock = opts.now !== undefined;
    const prefaultBytes = opts.prefaultBytes ?? 1024 * 1024;
    if (!Number.isInteger(prefaultBytes) || prefaultBytes < 0 || prefaultBytes > 64 * 1024 * 1024) {
      throw invalidOption('OrderJournal', 'prefaultBytes', prefaultBytes, 'an integer from 0 to 67108864');
    }
    const ringDir = opts.ringDir ?? DEFAULT_RING_DIR;
    // 'always' syncs on the router's thread anyway: a ring would only add a copy before each sync.
    const ringRecords = opts.ringRecords ?? (opts.fsync !== 'always' && (opts.ringDir !== undefined || fs.existsSync(DEFAULT_RING_DIR)) ? 16384 : 0);
    if (!Number.isInteger(ringRecords) || (ringRecords !== 0 && (ringRecords < 16 || ringRecords > 1 << 22 ||
      (ringRecords & (ringRecords - 1)) !== 0))) {
      throw invalidOption('OrderJournal', 'ringRecords', ringRecords, '0 or a power of two from 16 to 4194304');
    }
    // Recovery reads the file as it is, before anything maps or grows it: a file this build must
    // refuse is left exactly as found. A killed router's ring tail is copied into the file first.
    this.recovered = fs.existsSync(path) ? recoverWithRing(path, ringDir, true) : emptyRecovery();
    this.native = journalNative();
    this.capacitySlots = capacity + 1;
    try {
      const h = this.native.journalOpen(path, RECORD_SIZE, this.capacitySlots, Math.min(grow, this.capacitySlots),
        groupCommitUs, opts.fsync === 'group', prefaultBytes);
      this.id = h.id;
      this.map = new Uint8Array(h.map);
      this.ctl = new Int32Array(h.control);
      this.ctlF64 = new Float64Array(h.control);
    } catch (e) {
      throw journalError('ERR_JOURNAL_OPEN', path, 'opening', e,
        'check the journal path in routing_config.yml and that its directory is writable');
    }
    this.mapView = new DataView(this.map.buffer, this.map.byteOffset, this.map.byteLength);
    this.useBuffer(this.map);
    this.fileSlots = Atomics.load(this.ctl, kFileSlotsI32);
    const r = this.recovered;
    this.recordNo = r.lastRecordNo;
    // A torn tail is zeroed in place (the file keeps its allocated length): the next record goes
    // to slot lastRecordNo + 1 and nothing after it may look like a record.
    if (r.tornRecords > 0) this.map.fill(0, r.validBytes, Math.min(this.fileSlots * RECORD_SIZE, r.validBytes + r.ignoredBytes));
    if (r.createdMs === 0) this.writeHeader(identity);
    this.layout = r.createdMs === 0 ? JOURNAL_LAYOUT_VERSION : r.layout;
    Atomics.store(this.ctl, kWrittenI32, this.recordNo + 1);
    // Header and tail repairs are made durable under every policy: they happen once per open.
    if (r.createdMs === 0 || r.tornRecords > 0) this.syncNow();
    if (ringRecords > 0) this.attachRing(ringDir, ringRecords);
    openJournals.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', closeOpenJournalsAtExit);
    }
  }

  /** Where records are written from now on: the file mapping, the ring, or scratch (failed, closed). */
  private useBuffer(b: Uint8Array): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.words = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
    this.halves = new Uint16Array(b.buffer, b.byteOffset, b.byteLength >>> 1);
    this.doubles = new Float64Array(b.buffer, b.byteOffset, b.byteLength >>> 3);
  }

  /** From now on records are written into a new ring file in `dir` (see journal_file.h). */
  private attachRing(dir: string, ringSlots: number): void {
    const st = fs.statSync(this.path);
    const ringPath = ringPathFor(dir, st);
    removeOrphanRings(dir, ringPath);
    let ring: Uint8Array;
    try {
      ring = new Uint8Array(this.native.journalAttachRing(this.id, ringPath, ringSlots, this.recordNo + 1));
    } catch (e) {
      this.native.journalClose(this.id, this.recordNo + 1, this.policy !== 'never');
      this.id = -1;
      throw journalError('ERR_JOURNAL_OPEN', this.path, `creating the ring ${ringPath} of`, e,
        `make ${dir} writable (tmpfs, e.g. /dev/shm), or set routing.journal.ring_records: 0 in routing_config.yml (OrderJournal option ringRecords: 0)`);
    }
    // The header ties the ring to this journal: its creation time and inode.
    const v = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
    ring.fill(0, 0, RECORD_SIZE);
    v.setUint16(8, RING_VERSION, true);
    v.setUint16(10, RECORD_SIZE, true);
    v.setUint32(12, ringSlots, true);
    v.setFloat64(16, this.mapView.getFloat64(16, true), true);
    v.setFloat64(24, st.ino, true);
    v.setUint32(32, process.pid, true);
    const abs = Buffer.from(fs.realpathSync(this.path), 'utf8');
    const pathLen = abs.length <= RING_PATH_MAX ? abs.length : 0;     // too long: not removable as an orphan
    v.setUint16(36, pathLen, true);
    ring.set(abs.subarray(0, pathLen), RECORD_SIZE);
    v.setUint32(92, RING_MAGIC, true);
    v.setUint32(0, crc32(ring, 4, RECORD_SIZE), true);
    this.ringMap = ring;
    this.ringSlots = ringSlots;
    this.useBuffer(ring);
    this.slotMask = ringSlots - 1;
    this.byteBase = RING_HEADER_BYTES;
    this.ringLimit = this.recordNo + 1 + ringSlots;
    // The router no longer stores into the file: the commit thread grows it ahead of its copies
    // (and pwrite extends it anyway), so the writer only checks the capacity.
    this.fileSlots = this.capacitySlots;
  }

  /**
   * Copies the ring into the file and writes straight into the file mapping from now on (no-op
   * without a ring). The failover shipper sends records from that mapping.
   */
  private detachRing(): void {
    if (this.ringMap === null || this.id < 0) return;
    try {
      this.native.journalDetachRing(this.id);
    } catch (e) {
      throw journalError('ERR_JOURNAL_WRITE', this.path, 'copying the ring into', e, WRITE_FIX);
    }
    this.ringMap = null;
    this.fileSlots = Atomics.load(this.ctl, kFileSlotsI32);
    this.slotMask = DIRECT_MASK;
    this.byteBase = 0;
    this.ringLimit = 0x7fffffff;
    if (!this.failed) this.useBuffer(this.map);
  }

  /** Rare: the writer is a whole ring ahead of the copier. Copies on this thread if the copier is late. */
  private ringFull(slot: number): void {
    this.ringLimit = Atomics.load(this.ctl, kCopiedI32) + this.ringSlots;
    if (slot < this.ringLimit) return;
    this.ringFullCopies++;
    try {
      this.native.journalDrainRing(this.id);
    } catch (e) {
      this.fail();
      this.lostRecords++;
      throw journalError('ERR_JOURNAL_WRITE', this.path, 'copying the ring into', e, WRITE_FIX);
    }
    this.ringLimit = Atomics.load(this.ctl, kCopiedI32) + this.ringSlots;
    if (slot >= this.ringLimit) {
      this.fail();
      this.lostRecords++;
      throw new TickpathError('ERR_JOURNAL_WRITE', `OrderJournal: the ring of ${this.path} is full and its copy is held`,
        'release the copy (holdFileCopy(false)); only tests hold it');
    }
  }

  /**
   * Tests and drills: while held, nothing is copied from the ring into the file (and nothing more
   * becomes durable), so the ring holds records the file lacks, as after a `kill -9` between two
   * wake-ups of the commit thread. close() copies whatever is held.
   */
  holdFileCopy(held: boolean): void {
    if (this.id >= 0 && this.ringMap !== null) this.native.journalHoldCopy(this.id, held);
  }

  /**
   * Journals the order in `slot` as it is now. `reason` for rejects, `lastQty`/`lastPx` for fills,
   * `refId` for NEW_CHILD (parent id) and REPLACED (old id): a string, or a number naming the
   * OrderManager slot whose id goes there (written from the slot, no string made).
   */
  appendOrder(type: JournalRecordType, om: OrderManager, slot: number, reason: RejectReason | null,
    lastQty: number, lastPx: number, refId: string | number, venueSeq = 0): void {
    if (type === JournalRecordType.NEW_ORDER && this.layout < 3) this.refuseNewOrder();
    const off = this.writeOrder(type, om, slot, reason, lastQty, lastPx, venueSeq);
    if (typeof refId === 'number') om.writeJournalId(refId, this.halves, (off + 70) >>> 1);
    else writeAsciiZ(this.buf, off + 70, 14, refId);
    this.end(off);
  }

  /**
   * A FILL whose exec id is a number (an OUCH match number): its refId is the number's decimal
   * digits, the same key `execIdKey(String(execNo))` gives, so restart de-duplicates it as before.
   */
  appendFillNo(om: OrderManager, slot: number, lastQty: number, lastPx: number, execNo: number, venueSeq = 0): void {
    const off = this.writeOrder(JournalRecordType.FILL, om, slot, null, lastQty, lastPx, venueSeq);
    const b = this.buf;
    const o = off + 70;
    if (execNo < 0x80000000) {
      // Small integers (the usual match numbers): int32 arithmetic, one pass from the right.
      let nd = 1;
      for (let t = execNo; t >= 10; t = (t / 10) | 0) nd++;
      let n = execNo | 0;
      for (let i = nd - 1; i >= 0; i--) { const q = (n / 10) | 0; b[o + i] = 0x30 + (n - q * 10); n = q; }
      for (let i = nd; i < 14; i++) b[o + i] = 0;
    } else {
      let n = execNo, nd = 0;
      do { nd++; n = Math.floor(n / 10); } while (n > 0);
      n = execNo;
      for (let i = 13; i >= 0; i--) {
        if (i >= nd) { b[o + i] = 0; continue; }
        b[o + i] = 0x30 + (n % 10);
        n = Math.floor(n / 10);
      }
    }
    this.end(off);
  }

  private writeOrder(type: JournalRecordType, om: OrderManager, slot: number, reason: RejectReason | null,
    lastQty: number, lastPx: number, venueSeq: number): number {
    const off = this.begin(type);
    const w = this.words;
    const i = off >>> 2;
    // Bytes 16..23 as two words: type, state, side, ordType (0 LIMIT, 1 MARKET); tif (0 DAY, 1 IOC),
    // reason, venue (i16).
    w[i + 4] = type | (om.state(slot) << 8) | (om.sideCodeOf(slot) << 16) | (om.ordTypeCodeOf(slot) << 24);
    w[i + 5] = om.tifCodeOf(slot) | ((reason === null ? NO_REASON : REJECT_REASONS.indexOf(reason)) << 8) |
      ((om.venueOf(slot) & 0xffff) << 16);
    w[i + 6] = om.qty(slot);
    w[i + 7] = om.price(slot);
    w[i + 8] = om.filled(slot);
    w[i + 9] = om.cancelledQty(slot);
    w[i + 10] = lastQty;
    w[i + 11] = lastPx;
    this.doubles[(off >>> 3) + 6] = venueSeq;
    om.writeJournalId(slot, this.halves, (off + 56) >>> 1);
    om.writeJournalSymbol(slot, w, i + 21);
    return off;
  }

  /** Journals a new order the router refused before it existed (audit trail of every reject). */
  appendRequestRejected(clOrdId: string, symbol: string, side: number, qty: number, price: number,
    reason: RejectReason): void {
    const off = this.begin(JournalRecordType.REQUEST_REJECTED);
    const b = this.buf;
    const v = this.view;
    b.fill(0, off + 17, off + 92);
    b[off + 17] = OrderState.REJECTED;
    b[off + 18] = side;
    b[off + 21] = REJECT_REASONS.indexOf(reason);
    v.setInt16(off + 22, -1, true);
    v.setUint32(off + 24, qty >>> 0, true);
    v.setUint32(off + 28, price >>> 0, true);
    writeAsciiZ(b, off + 56, 14, clOrdId);
    writeAsciiZ(b, off + 84, 8, symbol);
    this.end(off);
  }

  /**
   * Records the last sequence number processed from a venue session (SoupBinTCP sequenced
   * message number, FIX MsgSeqNum in). Recovery returns the highest per venue name.
   */
  appendVenueSeq(venue: number, venueName: string, seq: number, nextOutSeq = 0): void {
    this.appendVenueRecord(JournalRecordType.VENUE_SEQ, venue, venueName, seq, '', nextOutSeq);
  }

  /**
   * Records the session identity a venue answered the login with (at most 14 characters). Sequence
   * numbers recorded after it belong to that session; recovery forgets the previous session's.
   */
  appendVenueSession(venue: number, venueName: string, session: string): void {
    this.appendVenueRecord(JournalRecordType.VENUE_SESSION, venue, venueName, 0, session);
  }

  private appendVenueRecord(type: JournalRecordType, venue: number, venueName: string, seq: number, ref: string, nextOutSeq = 0): void {
    const off = this.begin(type);
    const b = this.buf;
    b.fill(0, off + 17, off + 92);
    b[off + 21] = NO_REASON;
    this.view.setInt16(off + 22, venue, true);
    this.view.setUint32(off + 24, nextOutSeq >>> 0, true);
    this.view.setFloat64(off + 48, seq, true);
    writeAsciiZ(b, off + 56, 14, venueName);
    writeAsciiZ(b, off + 70, 14, ref);
    this.end(off);
  }

  /**
   * Failover: records the epoch (term) under which this journal's owner routes from now on. A
   * standby that takes over writes its predecessor's epoch + 1 before it logs in to any venue.
   */
  appendEpoch(epoch: number): void {
    const off = this.begin(JournalRecordType.EPOCH);
    const b = this.buf;
    b.fill(0, off + 17, off + 92);
    b[off + 21] = NO_REASON;
    this.view.setInt16(off + 22, -1, true);
    this.view.setFloat64(off + 48, epoch, true);
    writeAsciiZ(b, off + 56, 14, 'epoch');
    this.end(off);
  }

  /**
   * Failover, standby side: appends a record received from the primary, byte for byte (the slot's
   * CRC, magic and record number are the primary's). Returns false, writing nothing, unless it is
   * a valid record numbered exactly one after the last one here: the standby's file stays a prefix
   * of the primary's, slot for slot, so restart recovery reads it unchanged.
   */
  appendReplica(src: Uint8Array, srcOff: number): boolean {
    if (u32le(src, srcOff + 92) !== MAGIC || u32le(src, srcOff + 4) !== this.recordNo + 1 ||
      u32le(src, srcOff) !== crc32(src, srcOff + 4, srcOff + RECORD_SIZE)) return false;
    const off = this.begin(src[srcOff + 16]);
    if (this.failed) { this.lostRecords++; return false; }
    // Time and body as the primary wrote them: end() then computes the primary's CRC again.
    for (let i = 8; i < 92; i++) this.buf[off + i] = src[srcOff + i];
    this.end(off);
    return true;
  }

  /**
   * Failover, primary side: `sink(map, offset)` is called with every record this journal writes
   * from now on, after it is in the mapping and before `append*` returns (so before the order it
   * describes is on the wire). null removes it. Single writer: the router's thread.
   */
  setReplicaSink(sink: ((map: Uint8Array, offset: number) => void) | null): void {
    this.replicaSink = sink;
  }

  /**
   * CLOCK_REALTIME in ms as the journal stamps records: the commit thread's clock (one load, at
   * most about a millisecond old), or the `now` option's reading. OrderRouter's throttle uses it.
   */
  get clockMs(): number {
    return this.ownClock ? this.now() : this.ctlF64[kClockF64];
  }

  /**
   * The file's mapping, holding every record written (a catch-up reads slots 1..lastRecordNo). A
   * journal writing through its ring copies the ring into the file first and from then on writes
   * straight into this mapping, so it stays whole: the failover shipper sends from it.
   */
  get mapping(): Uint8Array {
    this.detachRing();
    return this.map;
  }
  get lastRecordNo(): number { return this.recordNo; }

  /**
   * Keep-warm (the router stage's OrderPathWarmer): reads the slot the next record will be written
   * into, so its cache lines and page are at hand when an order comes. Reads only: the slot is the
   * next record's (a ring slot the copier has passed, or the file's next one) and nothing is
   * stored. Returns a sum of what it read (the caller keeps it so the loads are not dropped); 0
   * when the slot is not mapped yet (the file still has to grow to it) or the journal is closed.
   */
  touchNextSlot(): number {
    if (this.id < 0 || this.failed) return 0;
    const slot = this.recordNo + 1;
    if (slot >= this.fileSlots || slot >= this.ringLimit) return 0;
    const i = (((slot & this.slotMask) * RECORD_SIZE + this.byteBase) >>> 2);
    const w = this.words;
    if (i + (RECORD_SIZE >>> 2) > w.length) return 0;
    // One load per cache line the 96-byte slot spans (16 words = 64 bytes apart), and its last word.
    return w[i] + w[i + 16] + w[i + (RECORD_SIZE >>> 2) - 1];
  }

  /**
   * Keep-warm, writing: makes this thread's cache own (Modified) the lines the next record will be
   * stored into, so the order's stores do not wait for the copier's CPU to give them up: the two
   * cache lines the next ring slot spans (the copier on the other CPU read the line a record shares
   * with the one before it, and wrote each copied record's crc word) and the written-position line
   * (the copier reads it at every wake-up). Also reads the clock line (the commit thread stores it
   * every millisecond; each record reads it). Returns a sum of what it read; 0 (nothing done)
   * without a ring, or when the next slot is not free yet.
   *
   * Why this cannot change what a reader or a restart sees: every store puts back the value just
   * read, on the ring's single writer's thread (this one), so the bytes never change, even torn.
   * The slot is the next record's: its previous lap's record is below the copied position (checked
   * against `ringLimit`, the copied position as last read plus the ring's size, which only lags),
   * and the copier reads and seals only slots in [copied, written), finishing its crc stores before
   * it publishes copied (release; read here with Atomics.load), so nobody else stores into this
   * slot. A restart copies from the ring only records numbered on from the file's last, which this
   * slot's old record is not. The written position is stored back equal to what `end()` published.
   */
  /** warmNextSlot calls that stored (tests check the keep-warm still runs it). */
  warmedSlots = 0;

  warmNextSlot(): number {
    if (this.id < 0 || this.failed || this.ringMap === null) return 0;
    const slot = this.recordNo + 1;
    if (slot >= this.ringLimit) return 0;
    const i = (((slot & this.slotMask) * RECORD_SIZE + this.byteBase) >>> 2);
    const w = this.words;
    // Slots are 96 bytes from a page-aligned base: the first and last words lie in the two lines.
    const a = w[i];
    w[i] = a;
    const b = w[i + (RECORD_SIZE >>> 2) - 1];
    w[i + (RECORD_SIZE >>> 2) - 1] = b;
    const written = this.recordNo + 1;
    Atomics.store(this.ctl, kWrittenI32, written);
    this.warmedSlots++;
    const clock = this.ownClock ? 0 : this.ctlF64[kClockF64];
    return ((a ^ b) & 0xffff) + (clock > 0 ? 1 : 0);
  }

  /**
   * End of the caller's batch. Nothing is buffered in JS (every record is in the page cache when
   * its append returns) and durability is the commit thread's job, so there is nothing to do: kept
   * so callers need not know the policy. A commit-thread failure surfaces at the next append.
   */
  flush(): void {
    // intentionally empty
  }

  /** Syncs (unless 'never'), stops the commit thread and cuts the file to the records it holds. */
  close(): void {
    if (this.id < 0) return;
    openJournals.delete(this);
    const id = this.id;
    this.id = -1;
    this.useBuffer(this.scratch);
    try {
      this.native.journalClose(id, this.recordNo + 1, this.policy !== 'never');
    } catch (e) {
      throw journalError('ERR_JOURNAL_WRITE', this.path, 'closing', e, WRITE_FIX);
    }
  }

  /** Record number known to be on disk (fdatasync returned after it was published). */
  get durablePosition(): number {
    return this.id < 0 && this.policy !== 'never' && !this.failed ? this.recordNo : Math.max(0, Atomics.load(this.ctl, kDurableI32) - 1);
  }

  stats(): Record<string, number> {
    return {
      records: this.records, recordNo: this.recordNo, durableRecordNo: this.durablePosition,
      syncs: this.syncs, groupSyncs: Atomics.load(this.ctl, kSyncsI32), damagedRecords: this.recovered.damaged.length,
      prefaultedPages: Atomics.load(this.ctl, kPrefaultedI32),
      lostRecords: this.lostRecords,
      ringRecords: this.ringMap !== null ? this.ringSlots : 0,
      ringFullCopies: this.ringFullCopies,
      copiedRecordNo: this.ringMap !== null ? Math.max(0, Atomics.load(this.ctl, kCopiedI32) - 1) : this.recordNo,
    };
  }

  /** False once closed or after a failed write or sync: the router then accepts nothing new. */
  get writable(): boolean {
    return this.id >= 0 && !this.failed;
  }

  private begin(type: JournalRecordType): number {
    if (this.id < 0) throw new TickpathError('ERR_JOURNAL_CLOSED', `OrderJournal: ${this.path} is closed`);
    if (this.failed) return 0;              // into scratch: counted in end(), never written
    // One load per record: the commit thread's first failure stops the journal before the next order.
    if (this.ctl[kErrnoI32] !== 0) { this.failCommit(); return 0; }
    const slot = this.recordNo + 1;
    if (slot >= this.fileSlots) this.growNow(slot);
    if (slot >= this.ringLimit) this.ringFull(slot);
    if (this.failed) return 0;
    const off = (slot & this.slotMask) * RECORD_SIZE + this.byteBase;
    // Typed-array stores at the record's aligned offsets (slots are 96 bytes, buffers start page
    // aligned; little-endian host, checked at open): no DataView call per field. The record number
    // is stored last, in end().
    // The journal's clock, one typed-array load: a clock call per record cost ~40-100 ns (5 records a lifecycle).
    this.doubles[(off >>> 3) + 1] = this.ownClock ? this.now() : this.ctlF64[kClockF64];
    this.buf[off + 16] = type;
    return off;
  }

  private end(off: number): void {
    if (this.failed) {
      // Failure mode: the first failure was thrown to the caller and the router's kill switch is
      // on; what is appended now (the kill switch's cancels) is counted, not written.
      this.lostRecords++;
      return;
    }
    const w = this.words;
    const i = off >>> 2;
    w[i + 23] = MAGIC;
    if (this.ringMap !== null && this.copierSeals) {
      // In the ring the record number goes last: a slot whose number is N holds all of record N
      // (a kill -9 mid-record leaves the previous lap's number there), and the copier seals it
      // with its crc on the way into the file, off this thread (~45 ns a record here).
      w[i + 1] = this.recordNo + 1;
    } else {
      w[i + 1] = this.recordNo + 1;
      w[i] = crc32Words(w, i + 1, i + (RECORD_SIZE >>> 2));
    }
    this.records++;
    this.recordNo++;
    Atomics.store(this.ctl, kWrittenI32, this.recordNo + 1);
    if (this.policy === 'always') {
      try {
        this.native.journalSync(this.id);
        this.syncs++;
      } catch (e) {
        this.fail();
        this.lostRecords++;
        throw journalError('ERR_JOURNAL_WRITE', this.path, 'fdatasync of', e, WRITE_FIX);
      }
    }
    if (this.replicaSink !== null) this.replicaSink(this.buf, off);
  }

  /** Rare: the writer caught up with the commit thread's growth (or the file is full). */
  private growNow(slot: number): void {
    this.fileSlots = Atomics.load(this.ctl, kFileSlotsI32);
    if (slot < this.fileSlots) return;
    try {
      if (slot >= this.capacitySlots) {
        throw Object.assign(new Error(`the journal is full (${this.capacitySlots - 1} records)`), { errno: 28 });
      }
      this.native.journalEnsure(this.id, slot + 1);
      this.fileSlots = Atomics.load(this.ctl, kFileSlotsI32);
    } catch (e) {
      this.fail();
      this.lostRecords++;
      throw journalError('ERR_JOURNAL_WRITE', this.path, 'growing', e, WRITE_FIX);
    }
  }

  private refuseNewOrder(): never {
    throw new TickpathError('ERR_JOURNAL_VERSION', `OrderJournal: ${this.path} is a layout ${this.layout} journal, which has no ` +
      'NEW_ORDER records', 'journal the order as NEW_PARENT and NEW_CHILD (OrderRouter does when journal.layout < 3)');
  }

  private failCommit(): never {
    const errno = this.ctl[kErrnoI32];
    this.fail();
    this.lostRecords++;
    throw new TickpathError('ERR_JOURNAL_WRITE', `OrderJournal: the commit thread's fdatasync or growth of ${this.path} ` +
      `failed with errno ${errno}`, WRITE_FIX, errno);
  }

  private fail(): void {
    this.failed = true;
    this.useBuffer(this.scratch);
  }

  private syncNow(): void {
    try {
      this.native.journalSync(this.id);
    } catch (e) {
      throw journalError('ERR_JOURNAL_WRITE', this.path, 'fdatasync of', e, WRITE_FIX);
    }
  }

  private writeHeader(identity: string): void {
    const b = this.map;
    const v = this.mapView;
    b.fill(0, 0, HEADER_SIZE);
    v.setUint16(8, JOURNAL_LAYOUT_VERSION, true);
    v.setUint16(10, RECORD_SIZE, true);
    v.setFloat64(16, Date.now(), true);
    writeAsciiZ(b, 24, IDENTITY_BYTES, identity);
    v.setUint32(92, HEADER_MAGIC, true);
    v.setUint32(0, crc32(b, 4, HEADER_SIZE), true);
  }

  /**
   * Reads a journal file and rebuilds orders, positions and venue sequence numbers; refuses a file
   * of another layout (ERR_JOURNAL_VERSION). Not a hot path.
   */
  static recover(path: string, opts: { ringDir?: string; ring?: boolean } = {}): JournalRecovery {
    if (opts.ring === false) return scanJournal(fs.readFileSync(path), path);
    return recoverWithRing(path, opts.ringDir ?? DEFAULT_RING_DIR, false);
  }

  /** The ring file a journal at `path` writes through (it exists while the journal is open or after a crash). */
  static ringPath(path: string, ringDir = DEFAULT_RING_DIR): string {
    return ringPathFor(ringDir, fs.statSync(path));
  }
}

function ringPathFor(dir: string, st: fs.Stats): string {
  return `${dir}/tickpath-journal-${st.dev}-${st.ino}.ring`;
}

/**
 * Removes the rings in `dir` that nobody can need: their owner process is gone and their journal
 * file is gone too (or the path names another file now). A ring whose journal still exists is left
 * for that journal's next open, which takes what the file lacks from it. Runs when a journal
 * attaches its ring: routers killed on purpose (tests, drills) leave rings behind.
 */
function removeOrphanRings(dir: string, own: string): void {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return; }
  const head = Buffer.alloc(RING_HEADER_BYTES);
  for (const name of names) {
    const m = RING_NAME.exec(name);
    const file = `${dir}/${name}`;
    if (m === null || file === own) continue;
    try {
      const fd = fs.openSync(file, 'r');
      let got = 0;
      try { got = fs.readSync(fd, head, 0, RING_HEADER_BYTES, 0); } finally { fs.closeSync(fd); }
      if (got < RING_HEADER_BYTES || head.readUInt32LE(92) !== RING_MAGIC || head.readUInt32LE(0) !== crc32(head, 4, RECORD_SIZE)) continue;
      if (processAlive(head.readUInt32LE(32))) continue;
      const len = head.readUInt16LE(36);
      if (len === 0) continue;
      const journalPath = head.toString('utf8', RECORD_SIZE, RECORD_SIZE + len);
      let st: fs.Stats | null = null;
      try { st = fs.statSync(journalPath); } catch { st = null; }
      if (st !== null && String(st.dev) === m[1] && String(st.ino) === m[2]) continue;   // its journal recovers it
      fs.rmSync(file, { force: true });
    } catch {
      // Unreadable or raced with another process's cleanup: leave it.
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Reads the journal file and, when a ring of this journal is left in `ringDir` (a router killed
 * before its commit thread copied the last records), the records it holds after the file's last
 * one, numbered on from it. `write`: copy them into the file (fdatasync) and remove the ring, as
 * open does; otherwise only the result includes them (`tickpath journal`, read-only). A ring of
 * another journal (another creation time: a reused inode) is ignored.
 */
function recoverWithRing(path: string, ringDir: string, write: boolean): JournalRecovery {
  let data = fs.readFileSync(path);
  const fromFile = scanJournal(data, path);
  let ringPath = '';
  try { ringPath = ringPathFor(ringDir, fs.statSync(path)); } catch { return fromFile; }
  if (!fs.existsSync(ringPath)) return fromFile;
  const ring = fs.readFileSync(ringPath);
  const rv = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  const ringSlots = ring.length >= RECORD_SIZE ? rv.getUint32(12, true) : 0;
  const ringVersion = ring.length >= RECORD_SIZE ? rv.getUint16(8, true) : 0;
  const headerOk = ring.length >= RECORD_SIZE && rv.getUint32(92, true) === RING_MAGIC && (ringVersion === 2 || ringVersion === RING_VERSION) &&
    rv.getUint32(0, true) === crc32(ring, 4, RECORD_SIZE) && rv.getUint16(10, true) === RECORD_SIZE &&
    ringSlots >= 16 && (ringSlots & (ringSlots - 1)) === 0 && ring.length >= RING_HEADER_BYTES + ringSlots * RECORD_SIZE &&
    fromFile.createdMs !== 0 && rv.getFloat64(16, true) === fromFile.createdMs;
  const tail: number[] = [];
  if (headerOk) {
    for (let n = fromFile.lastRecordNo + 1; ; n++) {
      const off = RING_HEADER_BYTES + (n & (ringSlots - 1)) * RECORD_SIZE;
      if (rv.getUint32(off + 92, true) !== MAGIC || rv.getUint32(off + 4, true) !== n) break;
      const crc = crc32(ring, off + 4, off + RECORD_SIZE);
      if (ringVersion === 2) {
        if (rv.getUint32(off, true) !== crc) break;
      } else {
        // Layout 3: the record number was stored last, so the record is whole; seal it as the
        // copier would have.
        rv.setUint32(off, crc, true);
      }
      tail.push(off);
    }
  }
  if (tail.length === 0) {
    if (write) fs.rmSync(ringPath, { force: true });
    return fromFile;
  }
  const first = fromFile.lastRecordNo + 1;
  const end = (first + tail.length) * RECORD_SIZE;
  if (write) {
    const fd = fs.openSync(path, 'r+');
    try {
      for (let i = 0; i < tail.length; i++) fs.writeSync(fd, ring, tail[i], RECORD_SIZE, (first + i) * RECORD_SIZE);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync(ringPath, { force: true });
    data = fs.readFileSync(path);
  } else {
    const merged = Buffer.alloc(Math.max(data.length, end));
    data.copy(merged, 0, 0, Math.min(data.length, first * RECORD_SIZE));
    for (let i = 0; i < tail.length; i++) ring.copy(merged, (first + i) * RECORD_SIZE, tail[i], tail[i] + RECORD_SIZE);
    if (data.length > end) data.copy(merged, end, end);
    data = merged;
  }
  const r = scanJournal(data, path);
  r.fromRing = tail.length;
  return r;
}

function versionError(path: string, found: string): TickpathError {
  return new TickpathError('ERR_JOURNAL_VERSION',
    `OrderJournal: ${path} is ${found}; this build reads journal layouts ${READABLE_LAYOUTS.join(' and ')} only`,
    `finish the trading day on the tickpath version that wrote it, or move ${path} away to start a new journal ` +
    '(a new journal recovers none of its orders)');
}

/** Classifies every slot of a layout 2 journal; see the file comment for the rules. */
function scanJournal(data: Buffer, path: string): JournalRecovery {
  const r = emptyRecovery();
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const slots = Math.floor(data.length / RECORD_SIZE);
  const isZero = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) if (data[i] !== 0) return false;
    return true;
  };
  const recordAt = (slot: number): JournalDamage['cause'] | null => {
    const off = slot * RECORD_SIZE;
    if (dv.getUint32(off + 92, true) !== MAGIC) return isZero(off, off + RECORD_SIZE) ? 'empty' : 'bad magic';
    if (dv.getUint32(off, true) !== crc32(data, off + 4, off + RECORD_SIZE)) return 'bad crc';
    if (dv.getUint32(off + 4, true) !== slot) return 'wrong record number';
    return null;
  };
  let last = 0;
  for (let s = slots - 1; s >= 1; s--) if (recordAt(s) === null) { last = s; break; }

  // The header decides whether this is a file this build may touch at all.
  if (data.length >= 4 && data.length < RECORD_SIZE && !isZero(0, data.length)) {
    throw versionError(path, `${data.length} bytes of something that is not a tickpath journal`);
  }
  if (data.length >= RECORD_SIZE) {
    const magic = dv.getUint32(92, true);
    const headerOk = magic === HEADER_MAGIC && dv.getUint32(0, true) === crc32(data, 4, RECORD_SIZE);
    if (magic === V1_MAGIC) throw versionError(path, 'a layout 1 journal (no header, first record \'TPJ1\' at byte 92)');
    if (headerOk && !READABLE_LAYOUTS.includes(dv.getUint16(8, true))) {
      throw versionError(path, `a layout ${dv.getUint16(8, true)} journal (header version ${dv.getUint16(8, true)})`);
    }
    if (headerOk && dv.getUint16(10, true) !== RECORD_SIZE) {
      throw versionError(path, `a journal of ${dv.getUint16(10, true)}-byte records`);
    }
    if (headerOk) {
      r.createdMs = dv.getFloat64(16, true);
      r.layout = dv.getUint16(8, true);
      r.identity = readAsciiZ(data, 24, IDENTITY_BYTES);
    } else if (last > 0) {
      // A damaged header in front of valid records: the records are what matters; keep them and
      // report it. The header is rewritten on open.
      r.damaged.push({ offset: 0, cause: magic === HEADER_MAGIC ? 'bad crc' : isZero(0, RECORD_SIZE) ? 'empty' : 'bad magic' });
    } else if (!isZero(0, data.length)) {
      throw versionError(path, 'not a tickpath journal (no layout header and no layout 2 records)');
    }
  }

  const whole = new Set<string>();
  for (let s = 1; s <= last; s++) {
    const cause = recordAt(s);
    if (cause !== null) { r.damaged.push({ offset: s * RECORD_SIZE, cause }); continue; }
    r.records++;
    applyRecord(r, data, dv, s * RECORD_SIZE, whole);
  }
  r.lastRecordNo = last;
  r.validBytes = last > 0 || r.createdMs !== 0 ? (last + 1) * RECORD_SIZE : 0;
  // After the last record: zeros are free space, anything else is a torn tail.
  let tornEnd = r.validBytes;
  for (let s = last + 1; s < slots; s++) if (!isZero(s * RECORD_SIZE, (s + 1) * RECORD_SIZE)) { r.tornRecords++; tornEnd = (s + 1) * RECORD_SIZE; }
  if (slots * RECORD_SIZE < data.length && !isZero(slots * RECORD_SIZE, data.length)) { r.tornRecords++; tornEnd = data.length; }
  r.ignoredBytes = tornEnd - r.validBytes;
  for (const o of r.orders.values()) {
    if (o.state === OrderState.FILLED || o.state === OrderState.CANCELLED ||
      o.state === OrderState.REJECTED || o.state === OrderState.REPLACED) continue;
    (o.kind === 'parent' ? r.openParents : r.openChildren).push(o);
  }
  return r;
}

function u32le(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

function emptyRecovery(): JournalRecovery {
  return {
    orders: new Map(), openParents: [], openChildren: [], positions: new Map(), venueSeqs: new Map(), venueOutSeqs: new Map(), venueSendsAfterOutSeq: new Map(), venueSessions: new Map(), venueNames: new Map(),
    fillExecIds: new Set(), rejectedRequests: 0, records: 0, lastRecordNo: 0, validBytes: 0, tornRecords: 0, ignoredBytes: 0,
    damaged: [], identity: '', createdMs: 0, layout: 0, epoch: 0, fromRing: 0,
  };
}

/** An order snapshot from a record's fields (no pending replace). */
function readOrderFields(data: Buffer, dv: DataView, off: number, clOrdId: string, kind: 'parent' | 'child',
  parentId: string): JournalOrder {
  const reasonCode = data[off + 21];
  return {
    clOrdId, kind, parentId,
    symbol: readAsciiZ(data, off + 84, 8),
    side: SIDE_CODES[data[off + 18]] ?? 'B',
    ordType: data[off + 19] === 0 ? 'LIMIT' : 'MARKET',
    tif: data[off + 20] === 0 ? 'DAY' : 'IOC',
    venue: dv.getInt16(off + 22, true),
    qty: dv.getUint32(off + 24, true),
    price: dv.getUint32(off + 28, true),
    filled: dv.getUint32(off + 32, true),
    cancelled: dv.getUint32(off + 36, true),
    state: data[off + 17],
    reason: reasonCode === NO_REASON ? '' : (REJECT_REASONS[reasonCode] ?? ''),
    pendingId: '', pendingQty: 0, pendingPrice: 0,
    venueSeq: dv.getFloat64(off + 48, true),
  };
}

/**
 * A parent journaled by NEW_ORDER has one child for life (replaces keep it under a new id) and no
 * PARENT_STATE records of its own: its state is its child's, as OrderManager derives it.
 */
function mirrorWholeParent(r: JournalRecovery, child: JournalOrder): void {
  const parent = r.orders.get(child.parentId);
  if (parent === undefined) return;
  parent.qty = child.qty;
  parent.price = child.price;
  parent.filled = child.filled;
  parent.cancelled = child.cancelled;
  parent.reason = child.reason;
  const st = child.state;
  if (st === OrderState.REPLACED) return;       // the old id's end: the order lives on under the new one
  // Ended: as OrderManager.refreshParent decides for a parent whose children have all ended.
  if (st === OrderState.FILLED || st === OrderState.CANCELLED || st === OrderState.REJECTED) {
    parent.state = child.filled === child.qty ? OrderState.FILLED
      : child.filled === 0 && st === OrderState.REJECTED ? OrderState.REJECTED : OrderState.CANCELLED;
  } else {
    parent.state = st;
  }
}

/** `whole`: ids of parents journaled by NEW_ORDER (their state follows their child's). */
function applyRecord(r: JournalRecovery, data: Buffer, dv: DataView, off: number, whole: Set<string>): void {
  const type = data[off + 16];
  const clOrdId = readAsciiZ(data, off + 56, 14);
  if (type === JournalRecordType.VENUE_SEQ) {
    const seq = dv.getFloat64(off + 48, true);
    if (seq > (r.venueSeqs.get(clOrdId) ?? -1)) r.venueSeqs.set(clOrdId, seq);
    const out = dv.getUint32(off + 24, true);
    if (out > 0 && out >= (r.venueOutSeqs.get(clOrdId) ?? 0)) {
      r.venueOutSeqs.set(clOrdId, out);
      r.venueSendsAfterOutSeq.set(clOrdId, 0);
    }
    r.venueNames.set(dv.getInt16(off + 22, true), clOrdId);
    return;
  }
  if (type === JournalRecordType.EPOCH) {
    r.epoch = Math.max(r.epoch, dv.getFloat64(off + 48, true));
    return;
  }
  if (type === JournalRecordType.VENUE_SESSION) {
    const session = readAsciiZ(data, off + 70, 14);
    const venue = dv.getInt16(off + 22, true);
    r.venueNames.set(venue, clOrdId);
    if (r.venueSessions.get(clOrdId) === session) return;
    // A new venue session: its sequence numbers start again, and the exec ids of the old session
    // (match numbers the venue may hand out again) no longer identify a replayed fill.
    r.venueSessions.set(clOrdId, session);
    r.venueSeqs.delete(clOrdId);
    r.venueOutSeqs.delete(clOrdId);
    r.venueSendsAfterOutSeq.delete(clOrdId);
    const prefix = `${venue}/`;
    for (const k of r.fillExecIds) if (k.startsWith(prefix)) r.fillExecIds.delete(k);
    return;
  }
  if (type === JournalRecordType.REQUEST_REJECTED) {
    // Never overwrite: a duplicate-id reject must not hide the order that owns the id.
    r.rejectedRequests++;
    if (r.orders.has(clOrdId)) return;
  }
  if (type === JournalRecordType.NEW_CHILD || type === JournalRecordType.NEW_ORDER || type === JournalRecordType.STATE) {
    // Possibly a message on the wire after the last recorded outbound sequence (an overestimate:
    // acks are STATE records too), for a standby that must log on above what the primary used.
    const name = r.venueNames.get(dv.getInt16(off + 22, true));
    if (name !== undefined && r.venueOutSeqs.has(name)) r.venueSendsAfterOutSeq.set(name, (r.venueSendsAfterOutSeq.get(name) ?? 0) + 1);
  }
  const refId = readAsciiZ(data, off + 70, 14);
  if (type === JournalRecordType.NEW_ORDER) {
    // The parent: the child's terms and state (SENT, as OrderManager holds it), no venue.
    const parent = readOrderFields(data, dv, off, refId, 'parent', '');
    parent.venue = -1;
    r.orders.set(refId, parent);
    r.orders.set(clOrdId, readOrderFields(data, dv, off, clOrdId, 'child', refId));
    whole.add(refId);
    return;
  }
  const prev = type === JournalRecordType.REPLACED ? r.orders.get(refId) : r.orders.get(clOrdId);
  const kind = type === JournalRecordType.NEW_PARENT || type === JournalRecordType.PARENT_STATE ||
    type === JournalRecordType.REQUEST_REJECTED ? 'parent'
    : type === JournalRecordType.NEW_CHILD ? 'child' : (prev?.kind ?? 'child');
  const o = readOrderFields(data, dv, off, clOrdId, kind, type === JournalRecordType.NEW_CHILD ? refId : (prev?.parentId ?? ''));
  o.venueSeq = Math.max(prev?.venueSeq ?? 0, o.venueSeq);
  // A replace request carries its new id in refId and its qty/price in lastQty/lastPx.
  if (type === JournalRecordType.STATE && o.state === OrderState.PENDING_REPLACE) {
    o.pendingId = refId;
    o.pendingQty = dv.getUint32(off + 40, true);
    o.pendingPrice = dv.getUint32(off + 44, true);
  }
  // The old id of a replaced order is finished; the order lives on under clOrdId.
  if (type === JournalRecordType.REPLACED && prev) r.orders.set(refId, { ...prev, state: OrderState.REPLACED });
  r.orders.set(clOrdId, o);
  if (type === JournalRecordType.FILL) {
    const lastQty = dv.getUint32(off + 40, true);
    const signed = o.side === 'B' ? lastQty : -lastQty;
    r.positions.set(o.symbol, (r.positions.get(o.symbol) ?? 0) + signed);
    if (refId.length > 0) r.fillExecIds.add(`${o.venue}/${refId}`);
  }
  if (o.kind === 'child' && whole.has(o.parentId)) mirrorWholeParent(r, o);
}
