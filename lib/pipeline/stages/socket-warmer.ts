/**
 * Keeps the kernel's loopback TCP send path warm between orders: a private TCP connection inside
 * this process (both ends native TCP channels on 127.0.0.1, made by the router stage), and on each
 * keep-warm turn one Enter-Order-sized message sent on it (the addon's tcpSend, the same send(2)
 * an order makes) and read back at the other end (tcpPoll, the recv(2) an ack makes).
 *
 * Why: order_syscall (an order's send(2) over loopback, which also runs the venue's TCP receive in
 * softirq on our CPU) cost 8-18 us in perf:latency against ~2-3 us in a spinning round trip. The
 * difference is cold: at hundreds of orders a second the books evict the kernel's TCP, IP,
 * loopback and socket-buffer code and data between orders. A C reproduction (a send every 3 ms,
 * 32 MB walked between sends, receiver spinning on the other CPU) measured send(2) p50 8.5 us; with
 * a send and receive on a second loopback pair every 200 us in between, 3.5 us; receiver asleep in
 * epoll, 19.3 -> 6.6 us. The venue's own socket and its wakeup stay cold (only a real order touches
 * them); the code and the shared kernel data (slab caches, the loopback device, softirq) do not.
 *
 * Nothing reaches a venue: the connection's two ends are both ours, on the loopback interface; the
 * bytes are never parsed. A failure (the addon without TCP channels, a socket error) stops the
 * warmer and says why in `failure`; the order path does not depend on it.
 *
 * Threading contract: built, run and closed on the router's worker.
 */
import type { NativeTcpBinding } from '../../protocols/transport/native-tcp-transport';

/** An OUCH Enter Order in its SoupBinTCP frame: what the order's send(2) carries. */
const kMessageBytes = 49;

export class SocketPathWarmer {
  private readonly listener: number;
  private readonly client: number;
  private readonly server: number;
  private readonly msg = Buffer.alloc(kMessageBytes, 0x20);
  private readonly clientCtl: Int32Array;
  private readonly serverCtl: Int32Array;
  private accepted = false;
  private closed = false;
  private consumed = 0;
  /** Messages sent and read back. */
  turns = 0;
  /** Bytes read back at the other end. */
  bytesBack = 0;
  /** Why the warmer stopped ('' while it runs). */
  failure = '';

  constructor(private readonly nb: NativeTcpBinding) {
    this.listener = nb.tcpListen('127.0.0.1', 0, 1);
    this.client = nb.tcpOpen(16 * 1024, 16 * 1024);
    this.server = nb.tcpOpen(16 * 1024, 16 * 1024);
    this.clientCtl = new Int32Array(nb.tcpRegion(this.client), 0, 16);
    this.serverCtl = new Int32Array(nb.tcpRegion(this.server), 0, 16);
    nb.tcpConnect(this.client, '127.0.0.1', nb.tcpListenerPort(this.listener), 0);
  }

  /** The private connection is up (connect and accept are finished on the first turns). */
  get ready(): boolean { return this.accepted && this.failure === ''; }

  /** One send(2) and one recv(2) over the private connection. Returns 1 when it ran. */
  run(): number {
    if (this.failure !== '') return 0;
    const nb = this.nb, L = nb.tcpLayout;
    if (!this.accepted) {
      nb.tcpPoll(this.client, 0);
      const rc = nb.tcpAccept(this.listener, this.server, 0);
      if (rc < 0) { this.stop(`accept failed (errno ${-rc})`); return 0; }
      if (rc === 0) return 0;
      this.accepted = true;
    }
    if (this.clientCtl[L.stateI32] !== L.stateConnected) {
      nb.tcpPoll(this.client, 0);
      if (this.clientCtl[L.stateI32] !== L.stateConnected) {
        if (this.clientCtl[L.stateI32] === L.stateFailed) this.stop(`connect failed (errno ${this.clientCtl[L.errnoI32]})`);
        return 0;
      }
    }
    if (nb.tcpSend(this.client, this.msg, 0, kMessageBytes) < 0) { this.stop(`send failed (errno ${this.clientCtl[L.errnoI32]})`); return 0; }
    const have = nb.tcpPoll(this.server, this.consumed);
    this.consumed = have;
    this.bytesBack += have;
    const st = this.serverCtl[L.stateI32];
    if (st === L.stateFailed || st === L.statePeerClosed) { this.stop('the private connection closed'); return 0; }
    this.turns++;
    return 1;
  }

  private stop(why: string): void {
    this.failure = why;
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure === '') this.failure = 'closed';
    const nb = this.nb;
    nb.tcpClose(this.client); nb.tcpClose(this.server); nb.tcpListenerClose(this.listener);
    nb.tcpDestroy(this.client); nb.tcpDestroy(this.server);
  }
}
