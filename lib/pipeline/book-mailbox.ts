/**
 * The live book view's mailbox: a reader asks for one symbol's book, the book stage answers between
 * two of its slices. Lives in a MAP_SHARED file, /dev/shm/tickpath-<instance>.book, so another
 * process (`tickpath book --instance ID`) can ask as well as the instance's own dashboard
 * (`/api/book`); without an instance it is an ordinary SharedArrayBuffer.
 *
 * Layout (little-endian i32 words):
 *   byte 0    header line: [kBookMagicI32] 'TPBK', [kBookVersionI32], [kBookPidI32] the instance's pid,
 *             [kBookCapacityI32] JSON bytes available. Written once at creation.
 *   byte 64   request line (readers write): [kBookLockI32] token of the reader holding the slot (0 free),
 *             [kBookRequestI32] request number, bumped last; [kBookDepthI32]; [kBookKindI32] what is asked
 *             (kBookKindLadder: one symbol's book; kBookKindTop: the top of every book); symbol, up to
 *             kBookSymbolBytes (32) ASCII bytes at byte 80, space-padded (MOEX names such as
 *             CETS:USD000UTSTOM are longer than ITCH's 8)
 *   byte 128  answer line (the book worker writes): [kBookAnswerSeqI32] seqlock (odd while writing),
 *             [kBookAnsweredI32] the request number answered, [kBookLengthI32] JSON bytes
 *   byte 256  the answer: JSON of BookAnswer
 *
 * Cost on the hot path: the book worker calls `BookMailboxServer.poll()` once per slice (not per
 * message, not per batch): one Atomics.load of the request word and a compare. Only when a request
 * is pending does it build a snapshot (allocating: a request is a person's click or keystroke).
 *
 * Threading contract: one server (the book stage's worker). Readers, in any process or thread,
 * take the slot with a compare-and-swap on the lock word, so two readers never interleave their
 * symbol bytes; a reader that died holding it is overtaken after its timeout.
 */
import * as fs from 'fs';
import { binding } from '../binding/native';
import { TickpathError } from '../errors';
import type { BookSnapshot } from '../feed/book/book-snapshot';

export const kBookMagic = 0x4b425054; // 'TPBK'
export const kBookVersion = 1;
export const kBookMagicI32 = 0;
export const kBookVersionI32 = 1;
export const kBookPidI32 = 2;
export const kBookCapacityI32 = 3;
export const kBookLockI32 = 16;
export const kBookRequestI32 = 17;
export const kBookDepthI32 = 18;
export const kBookKindI32 = 19;
export const kBookKindLadder = 0;
export const kBookKindTop = 1;
export const kBookSymbolByte = 80;
export const kBookSymbolBytes = 32;
export const kBookAnswerSeqI32 = 32;
export const kBookAnsweredI32 = 33;
export const kBookLengthI32 = 34;
export const kBookHeaderBytes = 256;
export const kBookDefaultCapacity = 64 * 1024;
export const kBookMaxDepth = 1000;

/** What the book stage answers: the snapshot, or why there is none. */
export interface BookAnswer {
  symbol: string;
  /** False when no book has that symbol (not in the feed yet, or not subscribed). */
  found: boolean;
  snapshot?: BookSnapshot;
  /** Symbols with a book, when the asked one has none (at most 50, for the error message). */
  known?: string[];
  /** Wall clock of the answer (ms since the epoch). */
  atMs: number;
  /** For kBookKindTop: every book's best bid and ask with shares and orders there, by symbol. */
  top?: TopOfBookRow[];
  /** Rows left out of `top` because the answer would not fit the file. */
  topOmitted?: number;
  /**
   * Implied decimals of every price in this answer: 4 for ITCH Price(4) (also when absent, from an
   * older server), feed.fast.price_decimals for a MOEX FAST feed.
   */
  priceDecimals?: number;
}

/** One book's best level on each side (prices Price(4); 0 and 0 shares when that side is empty). */
export interface TopOfBookRow {
  symbol: string;
  bid: number; bidShares: number; bidOrders: number;
  ask: number; askShares: number; askOrders: number;
}

export function bookFilePath(instance: string, dir: string): string {
  return `${dir.replace(/\/$/, '')}/tickpath-${instance}.book`;
}

function checkCapacity(sab: SharedArrayBuffer): Int32Array {
  const h = new Int32Array(sab, 0, kBookHeaderBytes >> 2);
  if (Atomics.load(h, kBookMagicI32) !== kBookMagic) throw new TickpathError('ERR_BAD_BOOK_FILE', 'book mailbox: bad magic (not a tickpath book file)');
  return h;
}

/** Creates the mailbox: in a /dev/shm file when `file` is given (other processes can ask), else in memory. */
export function createBookMailbox(file?: string, capacity = kBookDefaultCapacity): SharedArrayBuffer {
  let sab: SharedArrayBuffer;
  if (file) {
    fs.rmSync(file, { force: true }); // a stale file of a dead instance: a reader still mapping it keeps the old inode
    sab = binding().mapSharedFile(file, kBookHeaderBytes + capacity, true);
  } else {
    sab = new SharedArrayBuffer(kBookHeaderBytes + capacity);
  }
  const h = new Int32Array(sab, 0, kBookHeaderBytes >> 2);
  Atomics.store(h, kBookVersionI32, kBookVersion);
  Atomics.store(h, kBookPidI32, process.pid);
  Atomics.store(h, kBookCapacityI32, capacity);
  Atomics.store(h, kBookMagicI32, kBookMagic);
  return sab;
}

/** The book stage's side. */
export class BookMailboxServer {
  /** Requests answered (tests, diagnostics). */
  answered = 0;
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly body: Uint8Array;
  private last: number;

  /**
   * `snapshot(symbol, depth)`: the answer for one symbol; `top()`: the top of every book. Both built
   * on this (the book's) thread, only when asked.
   */
  constructor(sab: SharedArrayBuffer, private readonly snapshot: (symbol: string, depth: number) => BookAnswer,
    private readonly top: () => TopOfBookRow[] = () => [], private readonly priceDecimals = 4) {
    this.header = checkCapacity(sab);
    this.bytes = new Uint8Array(sab);
    this.body = new Uint8Array(sab, kBookHeaderBytes, Math.min(Atomics.load(this.header, kBookCapacityI32), sab.byteLength - kBookHeaderBytes));
    this.last = Atomics.load(this.header, kBookRequestI32);
  }

  /** Once per slice: one atomic load when nobody asked. Returns 1 when it answered a request. */
  poll(): number {
    const q = takeRequest(this.header, this.bytes, this.last);
    if (q === undefined) return 0;
    this.last = q.request;
    const { request, symbol, depth, kind } = q;
    let answer: BookAnswer;
    try {
      if (kind === kBookKindTop) {
        const top = this.top();
        answer = { symbol: '', found: top.length > 0, top, atMs: Date.now() };
      } else {
        answer = this.snapshot(symbol, depth);
      }
    } catch (err) {
      answer = { symbol, found: false, atMs: Date.now(), known: [`error: ${(err as Error).message}`] };
    }
    answer.priceDecimals = this.priceDecimals;
    writeAnswer(this.header, this.body, request, answer);
    this.answered++;
    return 1;
  }
}

/** The request in the mailbox, if its number is not `last` (the one answered before). */
function takeRequest(h: Int32Array, bytes: Uint8Array, last: number): { request: number; symbol: string; depth: number; kind: number } | undefined {
  const request = Atomics.load(h, kBookRequestI32);
  if (request === last) return undefined;
  let symbol = '';
  for (let i = 0; i < kBookSymbolBytes; i++) {
    const ch = bytes[kBookSymbolByte + i];
    if (ch !== 0 && ch !== 0x20) symbol += String.fromCharCode(ch);
  }
  const depth = Math.max(1, Math.min(kBookMaxDepth, Atomics.load(h, kBookDepthI32)));
  return { request, symbol, depth, kind: Atomics.load(h, kBookKindI32) };
}

/** Writes `answer` to `request` under the seqlock, cut down (rows, then levels) until it fits. */
function writeAnswer(h: Int32Array, body: Uint8Array, request: number, answer: BookAnswer): void {
  {
    const symbol = answer.symbol;
    let json = Buffer.from(JSON.stringify(answer));
    // Too many symbols for the file: the first ones (by symbol) and how many were left out.
    while (json.length > body.length && answer.top && answer.top.length > 1) {
      const all = answer.top.length + (answer.topOmitted ?? 0);
      answer.top = answer.top.slice(0, Math.ceil(answer.top.length / 2));
      answer.topOmitted = all - answer.top.length;
      json = Buffer.from(JSON.stringify(answer));
    }
    // Too deep for the file: fewer levels until it fits.
    while (json.length > body.length && answer.snapshot && (answer.snapshot.bids.length > 1 || answer.snapshot.asks.length > 1)) {
      const s = answer.snapshot;
      s.bids = s.bids.slice(0, Math.ceil(s.bids.length / 2));
      s.asks = s.asks.slice(0, Math.ceil(s.asks.length / 2));
      json = Buffer.from(JSON.stringify(answer));
    }
    if (json.length > body.length) json = Buffer.from(JSON.stringify({ symbol, found: false, atMs: Date.now(), priceDecimals: answer.priceDecimals }));
    const seq = Atomics.load(h, kBookAnswerSeqI32);
    Atomics.store(h, kBookAnswerSeqI32, (seq + 1) | 0);
    body.set(json);
    Atomics.store(h, kBookLengthI32, json.length);
    Atomics.store(h, kBookAnsweredI32, request);
    Atomics.store(h, kBookAnswerSeqI32, (seq + 2) | 0);
  }
}

/**
 * The instance's mailbox when the books are sharded: each book shard answers its own in-memory
 * mailbox for its own books, and this relay, on the main thread, watches the instance's mailbox
 * (every `intervalMs`), asks every shard, and answers with the merge: the one shard that has the
 * symbol (or every shard's known symbols), or the top of every shard's books. Readers see one
 * mailbox whatever the layout.
 *
 * Threading contract: the main thread only; it is the instance mailbox's one server.
 */
export class BookMailboxRelay {
  answered = 0;
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly body: Uint8Array;
  private readonly shards: BookMailboxClient[];
  private last: number;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(sab: SharedArrayBuffer, shards: SharedArrayBuffer[], private readonly priceDecimals = 4) {
    this.header = checkCapacity(sab);
    this.bytes = new Uint8Array(sab);
    this.body = new Uint8Array(sab, kBookHeaderBytes, Math.min(Atomics.load(this.header, kBookCapacityI32), sab.byteLength - kBookHeaderBytes));
    this.shards = shards.map((b) => new BookMailboxClient(b));
    this.last = Atomics.load(this.header, kBookRequestI32);
  }

  start(intervalMs = 2): void {
    this.timer = setInterval(() => { if (!this.busy) void this.poll(); }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Answers a pending request from the shards' answers; resolves with 1 when it did. */
  async poll(): Promise<number> {
    const q = takeRequest(this.header, this.bytes, this.last);
    if (q === undefined) return 0;
    this.last = q.request;
    this.busy = true;
    let answer: BookAnswer;
    try {
      if (q.kind === kBookKindTop) {
        const parts = await Promise.all(this.shards.map((c) => c.askTop(1000)));
        const top = parts.flatMap((a) => a.top ?? []).sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0));
        const omitted = parts.reduce((n, a) => n + (a.topOmitted ?? 0), 0);
        answer = { symbol: '', found: top.length > 0, top, atMs: Date.now(), ...(omitted > 0 ? { topOmitted: omitted } : {}) };
      } else {
        const parts = await Promise.all(this.shards.map((c) => c.ask(q.symbol, q.depth, 1000)));
        answer = parts.find((a) => a.found) ?? { symbol: q.symbol, found: false, known: parts.flatMap((a) => a.known ?? []).sort().slice(0, 50), atMs: Date.now() };
      }
    } catch (err) {
      answer = { symbol: q.symbol, found: false, atMs: Date.now(), known: [`error: ${(err as Error).message}`] };
    } finally {
      this.busy = false;
    }
    answer.priceDecimals = this.priceDecimals;
    writeAnswer(this.header, this.body, q.request, answer);
    this.answered++;
    return 1;
  }
}

/** A reader's side: `ask('META', 10)` resolves with the book stage's answer. */
export class BookMailboxClient {
  readonly pid: number;
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly body: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.header = checkCapacity(sab);
    this.pid = Atomics.load(this.header, kBookPidI32);
    this.bytes = new Uint8Array(sab);
    this.body = new Uint8Array(sab, kBookHeaderBytes, Math.min(Atomics.load(this.header, kBookCapacityI32), sab.byteLength - kBookHeaderBytes));
  }

  /** Maps an instance's book file (read-write: a reader writes its request). */
  static attach(file: string): BookMailboxClient {
    if (!fs.existsSync(file)) {
      throw new TickpathError('ERR_NO_INSTANCE', `no live book view at ${file}; is the instance running (tickpath run --instance ID)?`);
    }
    return new BookMailboxClient(binding().mapSharedFile(file, 0, false));
  }

  /**
   * Asks for `symbol`'s book and waits (polling every millisecond or two, never blocking the thread)
   * up to `timeoutMs` for the answer. Rejects with ERR_BOOK_TIMEOUT when the book stage does not
   * answer in time (stopped, or not running a book stage).
   */
  async ask(symbol: string, depth: number, timeoutMs = 2000): Promise<BookAnswer> {
    if (!/^[\x21-\x7e]{1,32}$/.test(symbol)) throw new TickpathError('ERR_INVALID_OPTION', `symbol is ${JSON.stringify(symbol)}, expected 1 to 32 printable ASCII characters`);
    return this.request(kBookKindLadder, symbol, depth, timeoutMs);
  }

  /** Asks for the top of every book (best bid and ask with shares and orders), like ask(). */
  askTop(timeoutMs = 2000): Promise<BookAnswer> {
    return this.request(kBookKindTop, '', 1, timeoutMs);
  }

  private async request(kind: number, symbol: string, depth: number, timeoutMs: number): Promise<BookAnswer> {
    const h = this.header;
    const token = 1 + Math.floor(Math.random() * 0x7ffffffe);
    const deadline = Date.now() + timeoutMs;
    // Take the request slot; a holder that outlives our whole timeout is presumed dead and overtaken.
    for (;;) {
      const holder = Atomics.compareExchange(h, kBookLockI32, 0, token);
      if (holder === 0) break;
      if (Date.now() >= deadline) { Atomics.compareExchange(h, kBookLockI32, holder, token); break; }
      await new Promise((r) => setTimeout(r, 1));
    }
    try {
      for (let i = 0; i < kBookSymbolBytes; i++) this.bytes[kBookSymbolByte + i] = i < symbol.length ? symbol.charCodeAt(i) : 0x20;
      Atomics.store(h, kBookDepthI32, Math.max(1, Math.min(kBookMaxDepth, depth)));
      Atomics.store(h, kBookKindI32, kind);
      const request = (Atomics.add(h, kBookRequestI32, 1) + 1) | 0;
      const answerBy = Math.max(deadline, Date.now() + 50);
      for (;;) {
        const answer = this.read(request);
        if (answer) return answer;
        if (Date.now() >= answerBy) {
          throw new TickpathError('ERR_BOOK_TIMEOUT', `the book stage did not answer within ${timeoutMs} ms (stopped, or this instance runs no book stage)`);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      Atomics.compareExchange(h, kBookLockI32, token, 0);
    }
  }

  /** The answer to `request` once it is there and consistent, else undefined. */
  private read(request: number): BookAnswer | undefined {
    const h = this.header;
    for (let tries = 0; tries < 100; tries++) {
      const before = Atomics.load(h, kBookAnswerSeqI32);
      if (before & 1) continue;
      if (Atomics.load(h, kBookAnsweredI32) !== request) return undefined;
      const len = Atomics.load(h, kBookLengthI32);
      if (len <= 0 || len > this.body.length) return undefined;
      const copy = Buffer.from(this.body.subarray(0, len));
      if (Atomics.load(h, kBookAnswerSeqI32) !== before) continue;
      return JSON.parse(copy.toString('utf8')) as BookAnswer;
    }
    return undefined;
  }
}
