/**
 * Append-only journal of every order state change, one fixed-size binary record per change, so a
 * restarted router knows which orders are open, its positions, and the last sequence number it
 * processed from each venue session.
 *
 * Record (96 bytes, little endian):
 *
 *   0  u32 crc32 of bytes 4..95        56 char[14] clOrdId (NUL padded)
 *   4  u32 recordNo (1, 2, 3 ...)      70 char[14] refId: parent id (NEW_CHILD), old id (REPLACED)
 *   8  f64 time (ms since epoch)       84 char[8]  symbol
 *  16  u8 type  17 u8 state            92 u32 magic 'TPJ1'
 *  18  u8 side  19 u8 ordType  20 u8 tif  21 u8 reason (index in REJECT_REASONS, 255 none)
 *  22  i16 venue   24 u32 qty   28 u32 price   32 u32 cumFilled   36 u32 cancelledQty
 *  40  u32 lastQty 44 u32 lastPx 48 f64 venueSeq
 *
 * Each record is a snapshot of the order after the change, so recovery is "last record per id
 * wins" plus positions summed from FILL records. A record is accepted only with the right magic,
 * crc and the next recordNo: a torn or corrupt tail (the process died mid-write) is detected,
 * counted and cut off, never half-read.
 *
 * fsync policy: 'always' makes each record durable before `append*` returns (the router sends to
 * the venue after that); 'batch' writes and fsyncs every `batchRecords` records or at `flush()`
 * (end of the router's batch), so a crash can lose up to one unflushed batch; 'never' writes each
 * record at once (it survives a process crash, not a power loss) and leaves syncing to the OS.
 *
 * Threading: single writer, the router worker. All buffers are allocated at open.
 */
import { readAsciiZ, writeAsciiZ } from '../common/bytes';
import * as fs from 'fs';
import { TickpathError, invalidOption } from '../errors';
import type { OrderManager } from './order-manager';
import { REJECT_REASONS, OrderState, SIDE_CODES } from './types';
import type { OrdType, RejectReason, Side, TimeInForce } from './types';

export const RECORD_SIZE = 96;
const MAGIC = 0x314a5054;   // 'TPJ1' little endian
const NO_REASON = 255;

export const enum JournalRecordType {
  NEW_PARENT = 1,
  NEW_CHILD = 2,
  STATE = 3,        // ack, cancel, reject, pending cancel/replace ...
  FILL = 4,
  REPLACED = 5,     // clOrdId is the new id, refId the old one
  VENUE_SEQ = 6,    // clOrdId holds the venue name
  PARENT_STATE = 7,
  REQUEST_REJECTED = 8,   // a new order refused before it got a slot (risk, routing, validation)
}

export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface JournalOptions {
  fsync: FsyncPolicy;
  /** 'batch' only: records per write+fsync. Default 64. */
  batchRecords?: number;
  /** Clock for the record time field (tests). */
  now?: () => number;
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
}

export interface JournalRecovery {
  /** Every order seen, final snapshot, by id (terminal ones included). */
  orders: Map<string, JournalOrder>;
  /** Non-terminal parents and children, in journal order. */
  openParents: JournalOrder[];
  openChildren: JournalOrder[];
  /** Net shares per symbol from FILL records. */
  positions: Map<string, number>;
  /** Last sequence number recorded per venue name. */
  venueSeqs: Map<string, number>;
  /** `${venue}/${execIdKey(execId)}` of every journaled fill, to drop fills a venue replays. */
  fillExecIds: Set<string>;
  /** New orders refused before they existed (REQUEST_REJECTED records). */
  rejectedRequests: number;
  records: number;
  lastRecordNo: number;
  /** Bytes that make up whole, valid records; the rest is cut off on open. */
  validBytes: number;
  /** 1 if the tail was torn or corrupt (and ignored), else 0. */
  tornRecords: number;
  ignoredBytes: number;
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

const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'batch', 'never'];

export class OrderJournal {
  readonly path: string;
  readonly policy: FsyncPolicy;
  /** What was in the file when it was opened (empty result for a new file). */
  readonly recovered: JournalRecovery;

  private fd: number;
  private readonly batchRecords: number;
  private readonly buf: Buffer;
  private readonly view: DataView;
  private pending = 0;                 // records in buf not yet written
  private recordNo: number;
  private fileOffset: number;          // explicit write position: 'r+' opens at 0, not at the end
  private readonly now: () => number;

  records = 0;
  fsyncs = 0;
  writes = 0;
  /** Records not written because a write failed (or after it). */
  lostRecords = 0;
  private failed = false;

  /** Opens (creating if needed) a journal, recovering it and cutting off a torn tail first. */
  static open(path: string, opts: JournalOptions): OrderJournal {
    return new OrderJournal(path, opts);
  }

  private constructor(path: string, opts: JournalOptions) {
    if (!FSYNC_POLICIES.includes(opts.fsync)) {
      throw invalidOption('OrderJournal', 'fsync', opts.fsync, "'always', 'batch' or 'never'");
    }
    const batch = opts.batchRecords ?? 64;
    if (!Number.isInteger(batch) || batch < 1 || batch > 65536) {
      throw invalidOption('OrderJournal', 'batchRecords', batch, 'an integer from 1 to 65536');
    }
    this.path = path;
    this.policy = opts.fsync;
    this.batchRecords = opts.fsync === 'batch' ? batch : 1;
    this.now = opts.now ?? Date.now;
    this.recovered = fs.existsSync(path) ? OrderJournal.recover(path) : emptyRecovery();
    try {
      this.fd = fs.openSync(path, fs.existsSync(path) ? 'r+' : 'w+');
      // Cut a torn tail so the next record starts on a record boundary.
      if (fs.fstatSync(this.fd).size !== this.recovered.validBytes) {
        fs.ftruncateSync(this.fd, this.recovered.validBytes);
        fs.fsyncSync(this.fd);
      }
    } catch (e) {
      throw new TickpathError('ERR_JOURNAL_OPEN', `OrderJournal: cannot open ${path}: ${(e as Error).message}`,
        'check the journal path in routing_config.yml and that its directory is writable');
    }
    this.recordNo = this.recovered.lastRecordNo;
    this.fileOffset = this.recovered.validBytes;
    this.buf = Buffer.alloc(RECORD_SIZE * this.batchRecords);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /**
   * Journals the order in `slot` as it is now. `reason` for rejects, `lastQty`/`lastPx` for fills,
   * `refId` for NEW_CHILD (parent id) and REPLACED (old id).
   */
  appendOrder(type: JournalRecordType, om: OrderManager, slot: number, reason: RejectReason | null,
    lastQty: number, lastPx: number, refId: string): void {
    const off = this.begin(type);
    const v = this.view;
    const b = this.buf;
    b[off + 17] = om.state(slot);
    b[off + 18] = om.sideCodeOf(slot);
    b[off + 19] = om.ordTypeOf(slot) === 'LIMIT' ? 0 : 1;
    b[off + 20] = om.tifOf(slot) === 'DAY' ? 0 : 1;
    b[off + 21] = reason === null ? NO_REASON : REJECT_REASONS.indexOf(reason);
    v.setInt16(off + 22, om.venueOf(slot), true);
    v.setUint32(off + 24, om.qty(slot), true);
    v.setUint32(off + 28, om.price(slot), true);
    v.setUint32(off + 32, om.filled(slot), true);
    v.setUint32(off + 36, om.cancelledQty(slot), true);
    v.setUint32(off + 40, lastQty, true);
    v.setUint32(off + 44, lastPx, true);
    v.setFloat64(off + 48, 0, true);
    writeAsciiZ(b, off + 56, 14, om.idOf(slot));
    writeAsciiZ(b, off + 70, 14, refId);
    writeAsciiZ(b, off + 84, 8, om.symbolOf(slot));
    this.end(off);
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
  appendVenueSeq(venue: number, venueName: string, seq: number): void {
    const off = this.begin(JournalRecordType.VENUE_SEQ);
    const b = this.buf;
    b.fill(0, off + 17, off + 92);
    b[off + 21] = NO_REASON;
    this.view.setInt16(off + 22, venue, true);
    this.view.setFloat64(off + 48, seq, true);
    writeAsciiZ(b, off + 56, 14, venueName);
    this.end(off);
  }

  /** End of the caller's batch: writes (and for 'batch', fsyncs) whatever is buffered. */
  flush(): void {
    if (this.pending === 0) return;
    this.writeOut();
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    if (this.policy !== 'never') { fs.fsyncSync(this.fd); this.fsyncs++; }
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  stats(): Record<string, number> {
    return { records: this.records, writes: this.writes, fsyncs: this.fsyncs, recordNo: this.recordNo, lostRecords: this.lostRecords };
  }

  private begin(type: JournalRecordType): number {
    if (this.fd < 0) throw new TickpathError('ERR_JOURNAL_CLOSED', `OrderJournal: ${this.path} is closed`);
    const off = this.pending * RECORD_SIZE;
    this.view.setUint32(off + 4, ++this.recordNo, true);
    this.view.setFloat64(off + 8, this.now(), true);
    this.buf[off + 16] = type;
    return off;
  }

  private end(off: number): void {
    this.view.setUint32(off + 92, MAGIC, true);
    this.view.setUint32(off, crc32(this.buf, off + 4, off + RECORD_SIZE), true);
    this.records++;
    if (++this.pending === this.batchRecords) this.writeOut();
  }

  /** False once closed or after a failed write: the router then accepts nothing new. */
  get writable(): boolean {
    return this.fd >= 0 && !this.failed;
  }

  private writeOut(): void {
    if (this.failed) {
      // Failure mode: the first failure was thrown to the caller and the router's kill switch is
      // on; what is appended now (the kill switch's cancels) is counted, not written.
      this.lostRecords += this.pending;
      this.pending = 0;
      return;
    }
    const len = this.pending * RECORD_SIZE;
    try {
      let done = 0;
      while (done < len) done += fs.writeSync(this.fd, this.buf, done, len - done, this.fileOffset + done);
      this.fileOffset += len;
      this.writes++;
      if (this.policy !== 'never') {
        fs.fdatasyncSync(this.fd);
        this.fsyncs++;
      }
    } catch (e) {
      this.failed = true;
      this.lostRecords += this.pending;
      throw new TickpathError('ERR_JOURNAL_WRITE', `OrderJournal: write to ${this.path} failed: ${(e as Error).message}`,
        'free disk space or fix the journal path, then restart the router (it recovers from the journal)');
    } finally {
      this.pending = 0;
    }
  }

  /** Reads a journal file and rebuilds orders, positions and venue sequence numbers. Not a hot path. */
  static recover(path: string): JournalRecovery {
    const data = fs.readFileSync(path);
    const r = emptyRecovery();
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    for (; off + RECORD_SIZE <= data.length; off += RECORD_SIZE) {
      if (dv.getUint32(off + 92, true) !== MAGIC) break;
      if (dv.getUint32(off, true) !== crc32(data, off + 4, off + RECORD_SIZE)) break;
      const recordNo = dv.getUint32(off + 4, true);
      if (recordNo !== r.lastRecordNo + 1) break;
      r.lastRecordNo = recordNo;
      r.records++;
      applyRecord(r, data, dv, off);
    }
    r.validBytes = off;
    r.ignoredBytes = data.length - off;
    r.tornRecords = r.ignoredBytes > 0 ? 1 : 0;
    for (const o of r.orders.values()) {
      if (o.state === OrderState.FILLED || o.state === OrderState.CANCELLED ||
        o.state === OrderState.REJECTED || o.state === OrderState.REPLACED) continue;
      (o.kind === 'parent' ? r.openParents : r.openChildren).push(o);
    }
    return r;
  }
}

function emptyRecovery(): JournalRecovery {
  return {
    orders: new Map(), openParents: [], openChildren: [], positions: new Map(), venueSeqs: new Map(),
    fillExecIds: new Set(), rejectedRequests: 0, records: 0, lastRecordNo: 0, validBytes: 0, tornRecords: 0, ignoredBytes: 0,
  };
}

function applyRecord(r: JournalRecovery, data: Buffer, dv: DataView, off: number): void {
  const type = data[off + 16];
  const clOrdId = readAsciiZ(data, off + 56, 14);
  if (type === JournalRecordType.VENUE_SEQ) {
    const seq = dv.getFloat64(off + 48, true);
    if (seq > (r.venueSeqs.get(clOrdId) ?? -1)) r.venueSeqs.set(clOrdId, seq);
    return;
  }
  if (type === JournalRecordType.REQUEST_REJECTED) {
    // Never overwrite: a duplicate-id reject must not hide the order that owns the id.
    r.rejectedRequests++;
    if (r.orders.has(clOrdId)) return;
  }
  const refId = readAsciiZ(data, off + 70, 14);
  const prev = type === JournalRecordType.REPLACED ? r.orders.get(refId) : r.orders.get(clOrdId);
  const reasonCode = data[off + 21];
  const o: JournalOrder = {
    clOrdId,
    kind: type === JournalRecordType.NEW_PARENT || type === JournalRecordType.PARENT_STATE ||
      type === JournalRecordType.REQUEST_REJECTED ? 'parent'
      : type === JournalRecordType.NEW_CHILD ? 'child' : (prev?.kind ?? 'child'),
    parentId: type === JournalRecordType.NEW_CHILD ? refId : (prev?.parentId ?? ''),
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
    pendingId: '',
    pendingQty: 0,
    pendingPrice: 0,
  };
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
}
