/**
 * SessionTransport over the addon's TcpChannel (dpdk-binding/src/tcp_channel.h): a non-blocking
 * socket with TCP_NODELAY (and SO_BUSY_POLL when asked) that the owner's loop drives. `send` is one
 * native call that ends in send(2) on the calling thread; `poll()` is one native call that
 * finishes a connect, flushes anything the kernel could not take, and does one recv(2) into the
 * channel's receive region, which this class maps once as a Buffer and hands to the session's
 * parser in place. No event-loop turn sits between the kernel and the session.
 *
 * Who polls: the owner's loop (router stage each turn, `tickpath order`'s send loop, perf's spin).
 * So that a session nobody drives yet (connect and login awaited by promise, a test waiting for an
 * ack) still makes progress, an idle timer polls every `idlePollMs` when no owner poll happened
 * since its last tick; `stats().idlePolls` vs `ownerPolls` shows which one did the work. The timer
 * is what keeps the process alive while a connection is open (the socket is not a libuv handle),
 * as net.Socket would; it stops when the connection ends.
 *
 * Threading: one thread (the one that created it); events run synchronously inside `poll()`.
 */
import * as dns from 'dns';
import * as net from 'net';
import { binding } from '../../binding/native';
import { nativeError } from '../../binding/errors';
import type { SessionTransport, TransportEvents, TransportState, TransportStats } from './session-transport';
import { sessionTrace, kTraceRx, kTraceRxDone, kTraceTxBegin, kTraceTxEnd } from './session-trace';

/** The addon's TCP functions (tcp_glue.cc). */
export interface NativeTcpBinding {
  tcpOpen(rxBytes: number, txQueueBytes: number): number;
  tcpRegion(id: number): SharedArrayBuffer;
  tcpConnect(id: number, ipv4: string, port: number, busyPollUs: number): void;
  tcpSend(id: number, buf: Uint8Array, offset: number, length: number): number;
  tcpPoll(id: number, consumed: number): number;
  tcpClose(id: number): void;
  tcpDestroy(id: number): void;
  tcpStats(id: number): { bytesOut: number; bytesIn: number; sends: number; recvs: number; partialSends: number; queuedSends: number; wouldBlock: number; connects: number;
    txStamps?: number; txStampsUnmatched?: number; txStampsDropped?: number; clockCalibrations?: number; clockCalErrNs?: number };
  tcpShutdown(id: number): void;
  /** Asks for kernel TX software timestamps (tcp_channel.h wantTxStamps). Absent in addons built before it. */
  tcpTxTimestamps?(id: number, on: boolean): void;
  tcpListen(ipv4: string, port: number, backlog: number): number;
  tcpListenerPort(id: number): number;
  tcpAccept(listenerId: number, channelId: number, busyPollUs: number): number;
  tcpListenerClose(id: number): void;
  threadTimerSlackNs(ns: number): number;
  tcpWaitSetOpen(): number;
  tcpWaitSetAdd(waitSetId: number, kind: 0 | 1, id: number): number;
  tcpWaitSetWait(waitSetId: number, maxUs: number, withLoop: boolean): number;
  tcpWaitSetClose(waitSetId: number): void;
  /** epoll busy poll on a wait set (EPIOCSPARAMS); 0 or -errno. Absent in addons built before it. */
  tcpWaitSetBusyPoll?(waitSetId: number, usecs: number, budget: number, prefer: boolean): number;
  tcpLayout: {
    stateI32: number; errnoI32: number; rxLenI32: number; txQueuedI32: number; busyPollI32: number; dataOffset: number;
    txStampI32?: number; sendSeqI32?: number; stampHeadI32?: number; stampOffset?: number; stampSlots?: number;
    /** 1: tcpSend of zero bytes returns before send(2) and moves nothing (tcp_channel.cc). Absent in addons built before it. */
    zeroSendFree?: number;
    stateIdle: number; stateConnecting: number; stateConnected: number; statePeerClosed: number; stateFailed: number; stateClosed: number;
  };
}

/** The addon's TCP functions, or undefined when the addon is not built (or predates them). */
export function nativeTcpBinding(): NativeTcpBinding | undefined {
  try {
    const b = binding() as unknown as Partial<NativeTcpBinding>;
    return typeof b.tcpOpen === 'function' && typeof b.tcpAccept === 'function' && b.tcpLayout ? b as NativeTcpBinding : undefined;
  } catch {
    return undefined;
  }
}

export interface NativeTcpTransportOptions {
  busyPollUs?: number;
  /** Receive region bytes (default 256 KiB); the session parses everything each poll. */
  rxBytes?: number;
  /** Native outbound queue for bytes the kernel could not take at once (default 1 MiB). */
  txQueueBytes?: number;
  /** Fallback poll period when no owner polls (default 1 ms; 0 = never: the owner must poll). */
  idlePollMs?: number;
  /** The owner loop's wait set (tcp-server.ts NativeWaitSet): each new socket joins it, so the loop can sleep until it has data. */
  waitSet?: { addChannel(channelId: number): void };
  /**
   * Kernel TX software timestamps on the socket (SO_TIMESTAMPING, see txStampOf); default off here,
   * on for venue sessions (create-transport.ts). Refused by the kernel: txStampState < 0.
   */
  txTimestamps?: boolean;
}

/**
 * The native transports of this thread by channel id, so whoever sees a channel id go by (the
 * order path's probe wraps the addon's tcpSend) can ask its transport for the send's TX stamp.
 * Weak: a transport nobody holds is still collected (and its channel reaped).
 */
const kTransportsById: (WeakRef<NativeTcpTransport> | undefined)[] = [];

/** This thread's native transports that are connected (for a count of the sessions stamped). */
export function connectedNativeTransports(): NativeTcpTransport[] {
  const out: NativeTcpTransport[] = [];
  for (const w of kTransportsById) { const t = w?.deref(); if (t !== undefined && t.state === 'connected') out.push(t); }
  return out;
}

/** The native transport holding channel `id` on this thread, if any. */
export function nativeTransportById(id: number): NativeTcpTransport | undefined {
  return kTransportsById[id]?.deref();
}

/**
 * A connector may connect again after close(), so nothing closes its channel for good but the
 * collector: a transport no longer reachable frees its native channel (and its id) here.
 */
const kChannelReaper = new FinalizationRegistry<{ b: NativeTcpBinding; id: number }>(({ b, id }) => b.tcpDestroy(id));

const kErrnoNames: Record<number, string> = {
  104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH', 101: 'ENETUNREACH', 32: 'EPIPE', 105: 'ENOBUFS',
};

export class NativeTcpTransport implements SessionTransport {
  readonly kind = 'native' as const;
  private readonly b: NativeTcpBinding;
  /** The addon's channel id (for a wait set). */
  readonly id: number;
  private readonly ctl: Int32Array;
  private readonly rx: Buffer;
  private readonly dataOffset: number;
  private readonly busyPollUs: number;
  private readonly idlePollMs: number;
  private readonly waitSet: { addChannel(channelId: number): void } | null;
  private events: TransportEvents | null = null;
  private st: TransportState = 'idle';
  /** Bytes delivered by the last poll, dropped by the next (saves a native call per turn). */
  private consumed = 0;
  /** Bumped by every connect/close so a pending DNS lookup for an old connect is ignored. */
  private generation = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private polledSinceIdleTick = false;
  private readonly counters = { ownerPolls: 0, idlePolls: 0, sendFailures: 0 };
  /** The kernel's TX stamps as [send seq, CLOCK_MONOTONIC ns] pairs (tcp_channel.h), or null (addon without them). */
  private readonly stamps: Float64Array | null;
  /** Kernel TX stamps asked for (the option, with an addon that has them). */
  readonly txStampsAsked: boolean;
  /** A zero-byte send stops in the addon before send(2) (SessionTransport.zeroSendFree). */
  readonly zeroSendFree: boolean;

  constructor(options: NativeTcpTransportOptions = {}, b?: NativeTcpBinding) {
    const nb = b ?? nativeTcpBinding();
    if (!nb) throw nativeError({ errno: 95, message: 'native TCP transport: the addon is not built or has no TCP channel (fix: npm run build:native, or transport: libuv)' });
    this.b = nb;
    this.busyPollUs = options.busyPollUs ?? 0;
    this.idlePollMs = options.idlePollMs ?? 1;
    this.waitSet = options.waitSet ?? null;
    this.id = nb.tcpOpen(options.rxBytes ?? 256 * 1024, options.txQueueBytes ?? 1 << 20);
    kChannelReaper.register(this, { b: nb, id: this.id }, this);
    const region = nb.tcpRegion(this.id);
    this.ctl = new Int32Array(region, 0, 16);
    this.rx = Buffer.from(region);
    this.dataOffset = nb.tcpLayout.dataOffset;
    const L = nb.tcpLayout;
    const stampsBuilt = typeof nb.tcpTxTimestamps === 'function' && L.stampOffset !== undefined && L.stampSlots !== undefined;
    this.stamps = stampsBuilt ? new Float64Array(region, L.stampOffset!, 2 * L.stampSlots!) : null;
    this.txStampsAsked = stampsBuilt && (options.txTimestamps ?? false);
    if (this.txStampsAsked) nb.tcpTxTimestamps!(this.id, true);
    this.zeroSendFree = L.zeroSendFree === 1;
    kTransportsById[this.id] = new WeakRef(this);
  }

  /**
   * Kernel TX software timestamps: 1 = on (the connection is up and the kernel took
   * SO_TIMESTAMPING), 0 = not asked or not connected yet, negative = -errno the kernel refused
   * with (-95: an addon without them).
   */
  get txStampState(): number {
    if (this.stamps === null) return (this.b.tcpLayout.txStampI32 === undefined) ? -95 : 0;
    return this.ctl[this.b.tcpLayout.txStampI32!];
  }

  /** The seq of this channel's last send() (uint32; the one to pass to txStampOf). */
  get lastSendSeq(): number {
    const i = this.b.tcpLayout.sendSeqI32;
    return i === undefined ? 0 : this.ctl[i] >>> 0;
  }

  /**
   * The kernel's TX timestamp of send `seq`'s last byte (the driver's xmit, converted to
   * CLOCK_MONOTONIC ns: our clock's domain), read from the stamp ring that poll() fills: > 0 the
   * time; 0 not come yet; -1 it will not come (a later send was stamped but not this one, or it
   * fell out of the ring's last 64). Off the hot path: poll() reads the error queue, this only
   * looks at the ring.
   */
  txStampOf(seq: number): number {
    const r = this.stamps;
    if (r === null) return -1;
    const slots = r.length >> 1;
    const head = this.ctl[this.b.tcpLayout.stampHeadI32!] >>> 0;
    const n = Math.min(head, slots);
    let newerSeen = false;
    for (let i = 1; i <= n; i++) {
      const slot = ((head - i) >>> 0) % slots;
      const s = r[2 * slot];
      if (s === seq) return r[2 * slot + 1];
      if (((seq - s) | 0) > 0) return newerSeen ? -1 : 0;  // entries older than seq from here on
      newerSeen = true;
    }
    return newerSeen ? -1 : 0;
  }

  get state(): TransportState { return this.st; }

  connect(host: string, port: number, events: TransportEvents): void {
    this.close();
    this.events = events;
    this.st = 'connecting';
    this.consumed = 0;
    const gen = ++this.generation;
    const start = (ip: string): void => {
      if (gen !== this.generation) return;
      try {
        this.b.tcpConnect(this.id, ip, port, this.busyPollUs);
        this.waitSet?.addChannel(this.id);
      } catch (err) {
        const e = nativeError(err, 'tcp');
        this.finish(`socket error: ${kErrnoNames[e.errno ?? 0] ?? e.message}`, kErrnoNames[e.errno ?? 0]);
        return;
      }
      this.startIdle();
    };
    if (net.isIPv4(host)) { start(host); return; }
    dns.lookup(host, { family: 4 }, (err, address) => {
      if (gen !== this.generation) return;
      if (err) { this.finish(`socket error: ${(err as NodeJS.ErrnoException).code ?? err.message}`, (err as NodeJS.ErrnoException).code); return; }
      start(address);
    });
  }

  /**
   * Takes one pending connection from a native listener (`NativeTcpServer`): true when this
   * transport now holds it (state connected; no onConnect follows), false when none was pending.
   * Throws the listener's error (EMFILE and the like) as a TickpathError.
   */
  acceptFrom(listenerId: number, events: TransportEvents): boolean {
    if (this.st === 'connecting' || this.st === 'connected') this.closeSocket();
    const rc = this.b.tcpAccept(listenerId, this.id, this.busyPollUs);
    if (rc === 0) return false;
    if (rc < 0) {
      throw nativeError({ errno: -rc, message: `accept: ${kErrnoNames[-rc] ?? `errno ${-rc}`} (fix: raise the open-file limit, ulimit -n, or close idle sessions)` }, 'tcp');
    }
    this.generation++;
    this.events = events;
    this.consumed = 0;
    this.st = 'connected';
    this.startIdle();
    return true;
  }

  end(): void {
    if (this.st === 'connected') this.b.tcpShutdown(this.id);
  }

  send(buf: Buffer, offset: number, length: number): boolean {
    if (this.st !== 'connected') return false;
    // A zero-byte send (the keep-warm's, zeroSendFree) runs this same code but is not a send:
    // it leaves no mark on the session timeline.
    const tr = length !== 0 ? sessionTrace() : null;
    if (tr !== null) tr.mark(kTraceTxBegin);
    const n = this.b.tcpSend(this.id, buf, offset, length);
    if (tr !== null) tr.mark(kTraceTxEnd);
    if (n >= 0) return true;
    this.counters.sendFailures++;
    return false; // the channel is failed (or its queue overflowed); the next poll reports it
  }

  poll(): number {
    this.counters.ownerPolls++;
    this.polledSinceIdleTick = true;
    return this.pollOnce();
  }

  private pollOnce(): number {
    if (this.st !== 'connecting' && this.st !== 'connected') return 0;
    const have = this.b.tcpPoll(this.id, this.consumed);
    this.consumed = 0;
    const c = this.ctl;
    const L = this.b.tcpLayout;
    const ns = c[L.stateI32];
    if (this.st === 'connecting') {
      if (ns === L.stateConnected) { this.st = 'connected'; this.events?.onConnect(); }
      else if (ns === L.stateConnecting || ns === L.stateIdle || ns === L.stateClosed) return 0; // DNS still pending or connect in progress
    }
    let delivered = 0;
    if (have > 0 && this.st === 'connected') {
      this.consumed = have;
      delivered = have;
      const tr = sessionTrace();
      if (tr !== null) tr.mark(kTraceRx);
      this.events?.onData(this.rx, this.dataOffset, have);
      if (tr !== null) tr.mark(kTraceRxDone);
    }
    if (this.st === 'connected' || this.st === 'connecting') {
      const s2 = c[L.stateI32];
      if (s2 === L.statePeerClosed) this.finish('connection closed by peer', undefined);
      else if (s2 === L.stateFailed) {
        const errno = c[L.errnoI32];
        const name = kErrnoNames[errno] ?? `errno ${errno}`;
        this.finish(`socket error: ${name}`, kErrnoNames[errno] ?? `E${errno}`);
      }
    }
    return delivered;
  }

  /** The connection ended by itself: close the socket and tell the owner once. */
  private finish(reason: string, errnoCode: string | undefined): void {
    const ev = this.events;
    this.closeSocket();
    ev?.onClose(reason, errnoCode);
  }

  close(): void {
    this.closeSocket();
  }

  private closeSocket(): void {
    this.generation++;
    this.b.tcpClose(this.id);
    this.st = this.st === 'idle' ? 'idle' : 'closed';
    this.events = null;
    this.consumed = 0;
    if (this.idleTimer) { clearInterval(this.idleTimer); this.idleTimer = null; }
  }

  private startIdle(): void {
    if (this.idlePollMs <= 0 || this.idleTimer) return;
    this.idleTimer = setInterval(() => {
      if (this.polledSinceIdleTick) { this.polledSinceIdleTick = false; return; }
      this.counters.idlePolls++;
      this.pollOnce();
    }, this.idlePollMs);
  }

  /** Frees the native channel; the transport cannot be used afterwards. */
  destroy(): void {
    this.closeSocket();
    kChannelReaper.unregister(this);
    if (kTransportsById[this.id]?.deref() === this) kTransportsById[this.id] = undefined;
    this.b.tcpDestroy(this.id);
  }

  stats(): TransportStats & { ownerPolls: number; idlePolls: number; txQueued: number; recvs: number; partialSends: number; txStampsMatched: number;
    txStampsUnmatched: number; txStampsDropped: number; clockCalErrNs: number } {
    const s = this.b.tcpStats(this.id);
    return {
      kind: this.kind, bytesOut: s.bytesOut, bytesIn: s.bytesIn, sends: s.sends, queuedSends: s.queuedSends, connects: s.connects,
      busyPollUs: this.ctl[this.b.tcpLayout.busyPollI32], txStamps: this.txStampsAsked ? this.txStampState : 0,
      recvs: s.recvs, txQueued: this.ctl[this.b.tcpLayout.txQueuedI32], partialSends: s.partialSends,
      txStampsMatched: s.txStamps ?? 0, txStampsUnmatched: s.txStampsUnmatched ?? 0, txStampsDropped: s.txStampsDropped ?? 0, clockCalErrNs: s.clockCalErrNs ?? 0,
      ...this.counters,
    };
  }
}
