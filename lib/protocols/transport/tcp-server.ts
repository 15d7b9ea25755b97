/**
 * The accepting side of a venue session (`ServerTransport`), over either transport:
 *
 * - `NativeTcpServer`: a listening socket in the addon (tcp_channel.h `TcpListener`) whose accept
 *   is polled, and one `NativeTcpTransport` per accepted connection, all polled by `poll()` from
 *   the owner's loop (`tickpath venue-sim`'s `VenueLoop`). An order arriving at the venue is read
 *   by the loop's next recv, handled, and its ack sent by send(2) in the same turn: no event-loop
 *   wakeup on either side of the matching engine.
 * - `LibuvTcpServer`: net.Server; each accepted socket behind a `LibuvTcpTransport`; data comes by
 *   event-loop callbacks and `poll()` does nothing. The fallback (`--transport libuv`), and what the
 *   GLIMPSE snapshot server and tests use by default.
 *
 * Accept cost: one accept4(2) every 16 turns, so a busy session pays 1/16 of a syscall per turn
 * for a (re)connecting peer to be seen within a few microseconds.
 *
 * Threading: the owner's thread; connection events run synchronously inside `poll()` (native) or
 * from the event loop (libuv).
 */
import * as net from 'net';
import { TickpathError } from '../../errors';
import { nativeError } from '../../binding/errors';
import { LibuvTcpTransport } from './libuv-tcp-transport';
import { NativeTcpTransport, nativeTcpBinding, type NativeTcpBinding } from './native-tcp-transport';
import { sessionTrace, kTraceWake } from './session-trace';
import type { ServerTransport, ServerTransportStats, SessionTransport, TransportEvents, TransportKind } from './session-transport';

/** Events of a connection whose handler is known only once the connection exists. */
class ForwardEvents implements TransportEvents {
  target: TransportEvents | null = null;
  onConnect(): void { this.target?.onConnect(); }
  onData(buf: Buffer, offset: number, length: number): void { this.target?.onData(buf, offset, length); }
  onClose(reason: string, errnoCode: string | undefined): void { this.target?.onClose(reason, errnoCode); }
}

/**
 * A set of native sockets a polling loop may sleep on (tcp_channel.h `TcpWaitSet`, epoll): the loop
 * spins while there is work, and when there is none, `wait()` sleeps in the kernel until a member
 * socket or the event loop has something, or the event loop's next timer is due. Members are added
 * by their owner (a `NativeTcpServer` adds its listener and each accepted connection); closed
 * sockets leave by themselves.
 * Threading: the owner thread only.
 */
export class NativeWaitSet {
  private readonly b: NativeTcpBinding;
  private id: number;
  waits = 0;
  wakeups = 0;

  constructor(b?: NativeTcpBinding) {
    const nb = b ?? nativeTcpBinding();
    if (!nb) throw new TickpathError('ERR_BACKEND_UNAVAILABLE', "a native wait set needs the addon's TCP channel, which is not built", 'npm run build:native');
    this.b = nb;
    this.id = nb.tcpWaitSetOpen();
  }

  addChannel(channelId: number): void { this.b.tcpWaitSetAdd(this.id, 0, channelId); }
  addListener(listenerId: number): void { this.b.tcpWaitSetAdd(this.id, 1, listenerId); }

  /**
   * Sleeps at most maxUs: bit 1 = a socket is readable, bit 2 = the event loop has work, 0 =
   * timeout. With `withLoop` (default) the event loop's own fd is watched too and its next timer
   * bounds the sleep; a loop that never returns to the event loop (a spinning sender) passes false.
   */
  wait(maxUs: number, withLoop = true): number {
    this.waits++;
    const r = this.b.tcpWaitSetWait(this.id, maxUs, withLoop);
    if (r & 1) {
      this.wakeups++;
      const tr = sessionTrace();
      if (tr !== null) tr.mark(kTraceWake);
    }
    return r < 0 ? 2 : r;
  }

  /**
   * epoll busy poll (EPIOCSPARAMS, Linux 6.9+): each wait spins in the kernel up to `usecs` on the
   * members' NAPI contexts before sleeping. Throws when the kernel refuses. It engages only for
   * sockets fed by a NAPI device (a NIC queue): loopback's packets carry no NAPI id, so on
   * loopback the wait sleeps as before (perf/router-rtt-sched measures it).
   */
  busyPoll(usecs: number, budget = 8, prefer = false): void {
    if (!this.b.tcpWaitSetBusyPoll) throw new TickpathError('ERR_BACKEND_UNAVAILABLE', 'epoll busy poll needs an addon built with tcpWaitSetBusyPoll', 'npm run build:native');
    const rc = this.b.tcpWaitSetBusyPoll(this.id, usecs, budget, prefer);
    if (rc === -25) throw new TickpathError('ERR_NOT_IMPLEMENTED', `epoll busy poll ${usecs} us: this kernel has no EPIOCSPARAMS (Linux 6.9+)`, 'leave epoll busy poll out, or use SO_BUSY_POLL (busy_poll_us) on the sockets', 25);
    if (rc < 0) throw new TickpathError(rc === -1 ? 'ERR_PERMISSION' : 'ERR_NATIVE', `epoll busy poll ${usecs} us refused: errno ${-rc}${rc === -1 ? ' (EPERM: a budget above 8 needs CAP_NET_ADMIN)' : ''}`, 'leave epoll busy poll out, or run with CAP_NET_ADMIN', -rc);
  }

  close(): void {
    if (this.id >= 0) { this.b.tcpWaitSetClose(this.id); this.id = -1; }
  }
}

export interface NativeTcpServerOptions {
  /** SO_BUSY_POLL microseconds on every accepted socket (0 = off). */
  busyPollUs?: number;
  backlog?: number;
  /** The loop's wait set: the listener and every accepted connection join it. */
  waitSet?: NativeWaitSet;
}

export class NativeTcpServer implements ServerTransport {
  readonly kind = 'native' as const;
  private readonly b: NativeTcpBinding;
  private readonly busyPollUs: number;
  private readonly backlog: number;
  private readonly waitSet: NativeWaitSet | null;
  private listenerId = -1;
  private onConnection: ((t: SessionTransport) => TransportEvents) | null = null;
  /** Live connections, polled in order every turn; closed ones are dropped after the turn. */
  private conns: NativeTcpTransport[] = [];
  private turn = 0;
  private accepted = 0;
  private polls = 0;
  private acceptErrors = 0;
  private busyPollSockets = 0;
  private busyPollRefused = 0;

  constructor(options: NativeTcpServerOptions = {}, b?: NativeTcpBinding) {
    const nb = b ?? nativeTcpBinding();
    if (!nb) throw new TickpathError('ERR_BACKEND_UNAVAILABLE', "transport 'native' needs the addon's TCP listener, which is not built", "npm run build:native, or transport 'libuv'");
    this.b = nb;
    this.busyPollUs = options.busyPollUs ?? 0;
    this.backlog = options.backlog ?? 128;
    this.waitSet = options.waitSet ?? null;
  }

  listen(host: string, port: number, onConnection: (t: SessionTransport) => TransportEvents): Promise<number> {
    if (this.listenerId >= 0) return Promise.reject(new TickpathError('ERR_INVALID_OPTION', 'NativeTcpServer: already listening', 'close() it first'));
    if (!net.isIPv4(host)) {
      return Promise.reject(new TickpathError('ERR_INVALID_OPTION', `NativeTcpServer: host ${JSON.stringify(host)} is not an IPv4 address`, 'listen on a dotted IPv4 address such as 127.0.0.1'));
    }
    try {
      this.listenerId = this.b.tcpListen(host, port, this.backlog);
    } catch (err) {
      return Promise.reject(nativeError(err, 'tcp'));
    }
    this.onConnection = onConnection;
    this.waitSet?.addListener(this.listenerId);
    return Promise.resolve(this.b.tcpListenerPort(this.listenerId));
  }

  poll(): number {
    this.polls++;
    let work = 0;
    const cs = this.conns;
    if (this.listenerId >= 0 && (++this.turn & 15) === 0) work += this.acceptPending();
    let closed = 0;
    for (let i = 0; i < cs.length; i++) {
      const t = cs[i];
      work += t.poll();
      if (t.state !== 'connected') closed++;
    }
    if (closed > 0) this.conns = cs.filter((t) => t.state === 'connected');
    return work;
  }

  /** The transport the next accepted connection lands in: made once, not per empty accept. */
  private spare: NativeTcpTransport | null = null;
  private spareEvents: ForwardEvents | null = null;

  private acceptPending(): number {
    let n = 0;
    for (;;) {
      if (!this.spare) { this.spare = new NativeTcpTransport({ busyPollUs: this.busyPollUs, idlePollMs: 0 }, this.b); this.spareEvents = new ForwardEvents(); }
      const t = this.spare;
      const fwd = this.spareEvents!;
      let got: boolean;
      try {
        got = t.acceptFrom(this.listenerId, fwd);
      } catch {
        // Out of descriptors: the connection stays queued in the kernel; try again next turn.
        this.acceptErrors++;
        return n;
      }
      if (!got) return n;
      this.spare = null;
      this.spareEvents = null;
      this.accepted++;
      n++;
      // SO_BUSY_POLL is per socket: say whether the kernel took it (negative: -errno refused).
      if (this.busyPollUs > 0) { if (t.stats().busyPollUs > 0) this.busyPollSockets++; else this.busyPollRefused++; }
      this.conns.push(t);
      this.waitSet?.addChannel(t.id);
      fwd.target = this.onConnection!(t);
    }
  }

  close(): Promise<void> {
    for (const t of this.conns) t.destroy();
    this.conns = [];
    if (this.spare) { this.spare.destroy(); this.spare = null; this.spareEvents = null; }
    if (this.listenerId >= 0) { this.b.tcpListenerClose(this.listenerId); this.listenerId = -1; }
    return Promise.resolve();
  }

  stats(): ServerTransportStats & { acceptErrors: number; busyPollSockets: number; busyPollRefused: number } {
    return {
      kind: this.kind, accepted: this.accepted, connections: this.conns.length, busyPollUs: this.busyPollUs, polls: this.polls, acceptErrors: this.acceptErrors,
      busyPollSockets: this.busyPollSockets, busyPollRefused: this.busyPollRefused,
    };
  }
}

export class LibuvTcpServer implements ServerTransport {
  readonly kind = 'libuv' as const;
  private server: net.Server | null = null;
  private readonly conns = new Set<LibuvTcpTransport>();
  private accepted = 0;

  listen(host: string, port: number, onConnection: (t: SessionTransport) => TransportEvents): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer((sock) => {
        this.accepted++;
        const t = new LibuvTcpTransport();
        const fwd = new ForwardEvents();
        this.conns.add(t);
        t.adopt(sock, fwd);
        sock.once('close', () => this.conns.delete(t));
        fwd.target = onConnection(t);
      });
      this.server = srv;
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve((srv.address() as net.AddressInfo).port);
      });
    });
  }

  poll(): number { return 0; }

  close(): Promise<void> {
    for (const t of this.conns) t.close();
    this.conns.clear();
    const srv = this.server;
    this.server = null;
    return new Promise((resolve) => (srv ? srv.close(() => resolve()) : resolve()));
  }

  stats(): ServerTransportStats {
    return { kind: this.kind, accepted: this.accepted, connections: this.conns.size, busyPollUs: 0, polls: 0 };
  }
}

/** `native` (the addon's listener, polled) or `libuv`; `auto` = native when the addon is built. */
export function serverTransport(choice: TransportKind | 'auto' = 'auto', options: NativeTcpServerOptions = {}): ServerTransport {
  // (the wait set is only for native servers; a libuv server is woken by its event loop)
  const kind = choice === 'auto' ? (nativeTcpBinding() ? 'native' : 'libuv') : choice;
  if (kind === 'libuv') return new LibuvTcpServer();
  if (kind !== 'native') throw new TickpathError('ERR_INVALID_OPTION', `transport: ${JSON.stringify(choice)} is not 'native', 'libuv' or 'auto'`);
  return new NativeTcpServer(options);
}
