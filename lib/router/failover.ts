/**
 * Hot standby: the primary streams its order journal and heartbeats to a standby over TCP; the
 * standby appends the records to its own journal (same layout, slot for slot) and, when the
 * heartbeats stop for `heartbeat_timeout_ms`, takes over by running the restart path on that copy
 * (router-stage.ts). Configured by `routing.failover` (routing-config.ts); the standby is started
 * with `tickpath run --config DIR --standby HOST:PORT`, the primary with `tickpath run --config DIR`.
 *
 * Wire: every unit is 96 bytes (a journal slot), told apart by the magic at byte 92 as journal
 * records are, so a record goes out straight from the journal's mapping with no framing and no copy.
 *
 *   record  'TPJ2'  primary -> standby  a journal record, exactly as in the primary's file
 *   hello   'TPFH'  primary -> standby  0 u32 epoch, 4 u32 last record number, 8 f64 time (ms)
 *   beat    'TPHB'  primary -> standby  0 u32 epoch, 4 u32 last record number, 8 f64 time (ms), 16 u32 beat number
 *   bye     'TPBY'  primary -> standby  the primary stops on purpose: the standby disarms (no takeover)
 *   state   'TPFS'  standby -> primary  0 u32 epoch, 4 u32 last record number held, 8 u32 CRC of that record
 *                                       (0: none), 12 u8 role (0 standby, 1 primary since a takeover)
 *
 * Ordering is the guarantee: the standby always holds a prefix of the primary's journal, and a
 * record that precedes a wire send (a NEW_CHILD or NEW_ORDER in state SENT, a pending cancel or replace) is
 * handed to the kernel's socket to the standby, with every record before it, in one `send(2)` on
 * the router's thread inside the journal append, before the order is sent to the venue. So a
 * primary killed by a signal never has an order at the venue that the standby's journal lacks (the
 * kernel delivers what its sockets hold; the standby sends nothing after the handshake, so the
 * primary's socket to it never holds unread data, which would make the kernel reset it and drop
 * what was queued). Other records (acks, fills, venue sequence numbers) go
 * out at the router loop's next turn, batched; one lost with the primary is what the restart path
 * already handles: the venue replays from the last sequence the standby holds, fills are
 * de-duplicated by exec id. A FIX session's own next MsgSeqNum travels in the same VENUE_SEQ
 * records; a standby that lacks the last one logs on above it by one per order record after it
 * plus a margin (router-stack.ts adoptTakeoverSessions), since every order it may have sent is in
 * the prefix it holds. A host that loses power can lose the tail of both queues; the standby
 * then learns of an unjournaled order only from the venue's replay.
 *
 * Fencing: the standby writes epoch + 1 into its journal when it takes over and keeps listening;
 * it answers every later hello with role 'primary' and its epoch. A primary (re)starting, or one
 * that reconnects after its heartbeats were missed, that gets that answer throws ERR_FENCED before
 * it logs in to a venue (start) or at once (while routing): its process exits instead of fighting
 * the new primary. The lease (`holdOrders`): a primary that sent no heartbeat for half the timeout
 * (it was stopped or paused) holds orders and leaves its venue sessions until a new hello is
 * answered 'standby'. Not covered: a partitioned old primary that cannot reach the standby at all
 * keeps routing (the venue's refusal of a second login for a session is the line that would hold).
 *
 * Threading: JournalShipper belongs to the router's thread (it is polled by the router stage and
 * called inside the journal's append); StandbyReceiver to the standby's router worker (net.Server
 * on that worker's event loop, checked from its loop for the heartbeat timeout).
 */
import * as net from 'net';
import { TickpathError } from '../errors';
import { LibuvTcpTransport } from '../protocols/transport/libuv-tcp-transport';
import { NativeTcpTransport, nativeTcpBinding } from '../protocols/transport/native-tcp-transport';
import type { SessionTransport } from '../protocols/transport/session-transport';
import { crc32, JournalRecordType, RECORD_SIZE, type OrderJournal } from './journal';
import { OrderState } from './types';
import type { FailoverConfig } from './routing-config';

export const kUnitBytes = RECORD_SIZE;
const kRecordMagic = 0x324a5054;   // 'TPJ2'
const kHelloMagic = 0x48465054;    // 'TPFH'
const kBeatMagic = 0x42485054;     // 'TPHB'
const kStateMagic = 0x53465054;    // 'TPFS'
const kByeMagic = 0x59425054;      // 'TPBY'
const kRoleStandby = 0;
const kRolePrimary = 1;
/** A connect or hello unanswered this long is abandoned and tried again. */
const kConnectTimeoutMs = 1000;

function u32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

function fencedError(addr: string, theirEpoch: number, ourEpoch: number): TickpathError {
  return new TickpathError('ERR_FENCED',
    `failover: the instance at ${addr} took over and routes as primary under epoch ${theirEpoch} (this journal's epoch: ${ourEpoch}); ` +
    'this instance must not route', 'find out why its heartbeats stopped; then run it as the standby of the new primary ' +
    '(tickpath run --config DIR --standby HOST:PORT, on a copy of the new primary\'s journal) or stop the new primary first');
}

export interface ShipperStats {
  state: string;
  recordsShipped: number;
  beats: number;
  connects: number;
}

/**
 * Primary side: connects to the standby, sends a hello, catches the standby up from the record it
 * reports (after checking its last record is ours), then ships every new record from inside the
 * journal append and a heartbeat every `heartbeatIntervalMs`. Nothing is allocated per record:
 * records go out of the journal's mapping, the beat from one 96-byte buffer.
 */
export class JournalShipper {
  private readonly transport: SessionTransport;
  private readonly beat = Buffer.alloc(kUnitBytes);
  private readonly beatView = new DataView(this.beat.buffer, this.beat.byteOffset, kUnitBytes);
  private readonly rx = Buffer.alloc(kUnitBytes);
  private rxLen = 0;
  private readonly mapBuf: Buffer;
  private st: 'idle' | 'connecting' | 'handshake' | 'streaming' | 'down' = 'idle';
  private nextBeatMs = 0;
  private reconnectAtMs = 0;
  private connectStartMs = 0;
  private lastBeatSentMs = 0;
  /** Date.now() of a stall that made this primary hold orders (0: not holding). */
  private suspectSince = 0;
  private fenced: TickpathError | null = null;
  private beats = 0;
  private shipped = 0;
  private connects = 0;
  private readonly addr: string;
  private readonly reconnectMs: number;
  /** Last record number handed to the socket (the standby holds a prefix up to it). */
  private sentUpTo = 0;
  private readonly sink = (map: Uint8Array, off: number): void => {
    const type = map[off + 16];
    const state = map[off + 17];
    // Before the wire: this record and all before it, in one send.
    if (type === JournalRecordType.NEW_CHILD || type === JournalRecordType.NEW_ORDER ||
      (type === JournalRecordType.STATE && (state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE))) this.flush();
  };

  constructor(private readonly cfg: FailoverConfig, private readonly journal: OrderJournal, readonly epoch: number,
    private readonly log: (line: string) => void, transport?: SessionTransport) {
    // A catch-up can be the whole journal: the native queue holds what the kernel cannot take yet.
    this.transport = transport ?? (nativeTcpBinding() ? new NativeTcpTransport({ txQueueBytes: 256 << 20 }) : new LibuvTcpTransport());
    const map = journal.mapping;
    this.mapBuf = Buffer.from(map.buffer, map.byteOffset, map.byteLength);
    this.addr = `${cfg.standbyHost}:${cfg.standbyPort}`;
    // A primary that lost its standby tries again every heartbeat: if the standby took over, this
    // primary learns it (and stops) within one interval of the takeover, before the standby's
    // venue logins are through.
    this.reconnectMs = cfg.heartbeatIntervalMs;
  }

  get state(): string { return this.st; }

  /**
   * Connects and waits for the standby's answer (at most `timeoutMs`). Rejects with ERR_FENCED when
   * the standby has taken over; resolves otherwise, also when the standby cannot be reached (the
   * primary routes without it and keeps trying every second).
   */
  async start(timeoutMs: number): Promise<void> {
    this.connect();
    const end = Date.now() + timeoutMs;
    while (this.st === 'connecting' || this.st === 'handshake') {
      if (this.fenced) throw this.fenced;
      if (Date.now() > end) break;
      this.transport.poll();
      await new Promise((r) => setTimeout(r, 2));
    }
    if (this.fenced) throw this.fenced;
    if (this.st !== 'streaming') {
      this.log(`failover: standby ${this.addr} not reachable (${this.st}); routing without it, trying again every ${this.reconnectMs} ms`);
    }
  }

  /** Hands every record written since the last send to the socket, in one send. */
  flush(): void {
    const last = this.journal.lastRecordNo;
    if (this.st !== 'streaming' || last <= this.sentUpTo) return;
    if (this.transport.send(this.mapBuf, (this.sentUpTo + 1) * kUnitBytes, (last - this.sentUpTo) * kUnitBytes)) {
      this.shipped += last - this.sentUpTo;
      this.sentUpTo = last;
    }
  }

  /**
   * The lease: true while this primary must not route. After a stall of its own (no heartbeat sent
   * for half the standby's timeout: a stopped process, a long pause) it cannot know whether the
   * standby took over meanwhile, so it holds orders and asks again (a new hello) before routing:
   * answered 'standby', it routes on; answered 'primary', it is fenced. One clock read per order.
   */
  holdOrders(nowMs: number): boolean {
    if (this.st === 'streaming' && this.lastBeatSentMs !== 0 && nowMs - this.lastBeatSentMs > this.cfg.heartbeatTimeoutMs / 2) this.suspect(nowMs);
    return this.suspectSince !== 0;
  }

  private suspect(nowMs: number): void {
    this.suspectSince = nowMs;
    this.log(`failover: no heartbeat sent for ${nowMs - this.lastBeatSentMs} ms (this process stalled): holding orders until the standby ` +
      'confirms it did not take over');
    this.transport.close();
    this.down('stalled');
    this.reconnectAtMs = nowMs;
  }

  /** Once per router loop turn: read the standby's answers, ship what is pending, heartbeat, reconnect. Throws ERR_FENCED. */
  poll(nowMs: number): number {
    if (this.st === 'streaming' && this.lastBeatSentMs !== 0 && nowMs - this.lastBeatSentMs > this.cfg.heartbeatTimeoutMs / 2) this.suspect(nowMs);
    const n = this.transport.poll();
    if (this.fenced) throw this.fenced;
    this.flush();
    if (this.st === 'streaming' && nowMs >= this.nextBeatMs) {
      this.nextBeatMs = nowMs + this.cfg.heartbeatIntervalMs;
      this.sendUnit(kBeatMagic, nowMs);
      this.beats++;
      this.lastBeatSentMs = nowMs;
    } else if (this.st === 'down' && nowMs >= this.reconnectAtMs) {
      this.connect();
    } else if ((this.st === 'connecting' || this.st === 'handshake') && nowMs - this.connectStartMs > kConnectTimeoutMs) {
      // A standby host that drops SYNs (or never answers the hello) must not leave us waiting.
      this.transport.close();
      this.down(`no answer in ${kConnectTimeoutMs} ms`);
    }
    return n;
  }

  stats(): ShipperStats {
    return { state: this.st, recordsShipped: this.shipped, beats: this.beats, connects: this.connects };
  }

  /** A stop on purpose: ship what is pending and say goodbye, so the standby does not take over. */
  close(): void {
    if (this.st === 'streaming') {
      this.flush();
      this.sendUnit(kByeMagic, Date.now());
      // What the kernel could not take yet waits in the native queue: let it drain (bounded).
      const end = Date.now() + 200;
      while (this.transport.state === 'connected' && this.transport.stats().bytesOut < this.expectedBytesOut && Date.now() < end) this.transport.poll();
    }
    this.journal.setReplicaSink(null);
    this.transport.close();
    this.st = 'idle';
  }

  /** Everything handed to the transport: records, beats, one hello per connect and the bye. */
  private get expectedBytesOut(): number {
    return (this.shipped + this.beats + this.connects + 1) * kUnitBytes;
  }

  private connect(): void {
    this.st = 'connecting';
    this.connectStartMs = Date.now();
    this.rxLen = 0;
    this.transport.connect(this.cfg.standbyHost, this.cfg.standbyPort, {
      onConnect: () => {
        this.connects++;
        this.st = 'handshake';
        this.sendUnit(kHelloMagic, Date.now());
      },
      onData: (buf, off, len) => this.onData(buf, off, len),
      onClose: (reason) => this.down(reason),
    });
  }

  private down(reason: string): void {
    const was = this.st;
    this.journal.setReplicaSink(null);
    this.st = 'down';
    this.reconnectAtMs = Date.now() + this.reconnectMs;
    if (was === 'streaming') this.log(`failover: standby ${this.addr} lost (${reason}); routing without it, trying again every ${this.reconnectMs} ms`);
  }

  private sendUnit(magic: number, nowMs: number): void {
    const v = this.beatView;
    this.beat.fill(0);
    v.setUint32(0, this.epoch, true);
    v.setUint32(4, this.journal.lastRecordNo, true);
    v.setFloat64(8, nowMs, true);
    v.setUint32(16, this.beats, true);
    v.setUint32(92, magic, true);
    this.transport.send(this.beat, 0, kUnitBytes);
  }

  private onData(buf: Buffer, off: number, len: number): void {
    for (let i = 0; i < len; i++) {
      this.rx[this.rxLen++] = buf[off + i];
      if (this.rxLen < kUnitBytes) continue;
      this.rxLen = 0;
      if (u32(this.rx, 92) !== kStateMagic) { this.transport.close(); this.down('the standby sent something that is not a state unit'); return; }
      this.onState(u32(this.rx, 0), u32(this.rx, 4), u32(this.rx, 8), this.rx[12]);
    }
  }

  private onState(epoch: number, records: number, lastCrc: number, role: number): void {
    if (role === kRolePrimary) {
      this.fenced = fencedError(this.addr, epoch, this.epoch);
      this.journal.setReplicaSink(null);
      this.transport.close();
      this.st = 'down';
      this.reconnectAtMs = Infinity;
      return;
    }
    if (this.st !== 'handshake') return;
    const ours = this.journal.lastRecordNo;
    const map = this.journal.mapping;
    const diverged = records > ours || (records > 0 && u32(map, records * kUnitBytes) !== lastCrc);
    if (diverged) {
      this.log(`failover: standby ${this.addr} holds ${records} record(s) that are not this journal's first ${records} ` +
        '(fix: start the standby on an empty journal or a copy of this one); not replicating');
      this.transport.close();
      this.st = 'down';
      this.reconnectAtMs = Date.now() + 1000;
      return;
    }
    // Catch up from the mapping in one send, then from inside the append (same thread: no gap).
    this.sentUpTo = records;
    this.st = 'streaming';
    this.flush();
    this.journal.setReplicaSink(this.sink);
    // The lease starts at this connection's first heartbeat, as the standby's takeover timer does.
    this.lastBeatSentMs = 0;
    if (this.suspectSince !== 0) {
      this.log(`failover: the standby is still the standby: routing again after ${Date.now() - this.suspectSince} ms on hold`);
      this.suspectSince = 0;
    }
    this.nextBeatMs = 0;
    this.log(`failover: streaming the journal to standby ${this.addr} (epoch ${this.epoch}; ${ours - records} record(s) caught up, ` +
      `heartbeat every ${this.cfg.heartbeatIntervalMs} ms)`);
  }
}

export interface ReceiverStats {
  connected: boolean;
  records: number;
  beats: number;
  lastBeatMs: number;
  refusedRecords: number;
}

/**
 * Standby side: listens for the primary, appends its records to this instance's journal, answers
 * hellos with what it holds, and tells its owner when the heartbeats stopped. After `promote()` it
 * answers every hello with role 'primary' (fencing) and takes no records.
 */
export class StandbyReceiver {
  private server: net.Server | null = null;
  private peer: net.Socket | null = null;
  private readonly state = Buffer.alloc(kUnitBytes);
  private armed = false;
  private promotedEpoch = 0;
  private beats = 0;
  private records = 0;
  private refused = 0;
  /** Date.now() of the last heartbeat (or record) from the primary. */
  lastBeatMs = 0;
  /** Epoch the primary announced (its journal's). */
  primaryEpoch = 0;
  /** Last record number the primary announced in a beat (what it had written then). */
  primaryLastRecord = 0;

  constructor(private readonly host: string, private readonly port: number, private journal: OrderJournal | null,
    private readonly log: (line: string) => void) {}

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((s) => this.accept(s));
      server.once('error', (e: NodeJS.ErrnoException) => reject(new TickpathError('ERR_FAILOVER_LISTEN',
        `failover: the standby cannot listen on ${this.host}:${this.port}: ${e.code ?? e.message}`,
        'give --standby an address of this host and a free port (the one routing.failover.standby names on the primary)')));
      server.listen(this.port, this.host, () => { this.server = server; resolve(); });
    });
  }

  /**
   * True once the primary, having been heard from, has been silent for `timeoutMs`. Before the
   * first heartbeat nothing is armed: a standby started alone waits instead of routing.
   */
  heartbeatLost(nowMs: number, timeoutMs: number): boolean {
    return this.armed && this.promotedEpoch === 0 && nowMs - this.lastBeatMs > timeoutMs;
  }

  /** Stops taking records and gives the journal back (closed) for the restart path to open. */
  releaseJournal(): void {
    if (this.peer) { this.peer.destroy(); this.peer = null; }
    this.journal?.close();
    this.journal = null;
  }

  /** From now on every hello is answered with role 'primary' and this epoch. */
  promote(epoch: number): void {
    this.promotedEpoch = epoch;
  }

  stats(): ReceiverStats {
    return { connected: this.peer !== null, records: this.records, beats: this.beats, lastBeatMs: this.lastBeatMs, refusedRecords: this.refused };
  }

  close(): Promise<void> {
    this.peer?.destroy();
    this.peer = null;
    const s = this.server;
    this.server = null;
    return new Promise((r) => (s ? s.close(() => r()) : r()));
  }

  private accept(s: net.Socket): void {
    s.setNoDelay(true);
    if (this.peer !== null && this.promotedEpoch === 0) {
      this.log(`failover: a second primary connected from ${s.remoteAddress}:${s.remotePort} while one streams; refused`);
      s.destroy();
      return;
    }
    if (this.promotedEpoch === 0) this.peer = s;
    let pendingLen = 0;
    const unit = Buffer.alloc(kUnitBytes);
    s.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length;) {
        const n = Math.min(kUnitBytes - pendingLen, d.length - i);
        d.copy(unit, pendingLen, i, i + n);
        pendingLen += n;
        i += n;
        if (pendingLen < kUnitBytes) break;
        pendingLen = 0;
        if (!this.onUnit(s, unit)) { s.destroy(); return; }
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.peer === s) {
        this.peer = null;
        if (this.promotedEpoch === 0) this.log(`failover: primary disconnected (last heartbeat ${Date.now() - this.lastBeatMs} ms ago, ${this.records} record(s) received)`);
      }
    });
  }

  /** False: drop the connection. */
  private onUnit(s: net.Socket, u: Buffer): boolean {
    const magic = u32(u, 92);
    if (this.promotedEpoch !== 0) {
      // Fenced: whatever the old primary says, the answer is that this instance routes now.
      if (magic === kHelloMagic) {
        this.log(`failover: fenced a primary (epoch ${u32(u, 0)}) that connected from ${s.remoteAddress}: this instance routes under epoch ${this.promotedEpoch}`);
        this.sendState(s, kRolePrimary, this.promotedEpoch, 0, 0);
        s.end();
      }
      return magic === kHelloMagic;
    }
    if (s !== this.peer) return false;
    if (magic === kRecordMagic) {
      if (!this.journal || !this.journal.appendReplica(u, 0)) {
        this.refused++;
        this.log(`failover: record ${u32(u, 4)} from the primary does not follow record ${this.journal?.lastRecordNo ?? '?'} here; dropping the connection`);
        return false;
      }
      this.records++;
      this.lastBeatMs = Date.now();
      return true;
    }
    if (magic === kByeMagic) {
      this.armed = false;
      this.log(`failover: the primary stopped on purpose (epoch ${u32(u, 0)}, ${u32(u, 4)} record(s)); this standby holds ` +
        `${this.journal?.lastRecordNo ?? 0} and stays a standby (no takeover)`);
      return true;
    }
    if (magic === kBeatMagic || magic === kHelloMagic) {
      this.primaryEpoch = u32(u, 0);
      this.primaryLastRecord = u32(u, 4);
      this.lastBeatMs = Date.now();
      if (magic === kBeatMagic) { this.beats++; this.armed = true; return true; }
      // A new primary connection arms the takeover at its first heartbeat, not before: a primary
      // (re)starting sends none until it has logged in to its venues and routes.
      this.armed = false;
      const j = this.journal;
      const last = j ? j.lastRecordNo : 0;
      const lastCrc = j && last > 0 ? u32(j.mapping, last * kUnitBytes) : 0;
      const epoch = j ? j.recovered.epoch : 0;
      this.log(`failover: primary (epoch ${this.primaryEpoch}, ${this.primaryLastRecord} record(s)) connected from ${s.remoteAddress}; ` +
        `this standby holds ${last}`);
      this.sendState(s, kRoleStandby, epoch, last, lastCrc);
      return true;
    }
    this.log(`failover: a unit with magic 0x${magic.toString(16)} is not part of the failover stream; dropping the connection`);
    return false;
  }

  private sendState(s: net.Socket, role: number, epoch: number, last: number, lastCrc: number): void {
    const b = this.state;
    b.fill(0);
    b.writeUInt32LE(epoch, 0);
    b.writeUInt32LE(last, 4);
    b.writeUInt32LE(lastCrc, 8);
    b[12] = role;
    b.writeUInt32LE(kStateMagic, 92);
    s.write(Buffer.from(b));
  }
}

/** Checks a 96-byte unit is a journal record (tests). */
export function isJournalRecord(u: Uint8Array, off = 0): boolean {
  return u32(u, off + 92) === kRecordMagic && u32(u, off) === crc32(u, off + 4, off + kUnitBytes);
}
