/**
 * MoldUDP64 re-request server: answers request packets (Session 10 bytes, Sequence Number u64,
 * Requested Message Count u16) on a UDP socket with ordinary MoldUDP64 downstream packets holding
 * the requested messages from a MessageJournal, sent back to the requester's address.
 *
 * Each response packet is at most `maxPacketSize` bytes (the MoldUDP64 payload, default 1400 so it
 * fits an Ethernet MTU) and a request is answered with at most `maxPacketsPerRequest` packets: the
 * client asks again for whatever did not fit, as the spec intends. Requests for sequences the journal
 * does not have are skipped: the answer starts at the first one it has (or there is none). Bad requests are counted, never thrown.
 *
 * Not a hot path (one Buffer per response packet). Threading: one event loop.
 */
import * as dgram from 'dgram';
import { TickpathError, invalidOption } from '../../errors';
import { readAlpha, readU16, readU64 } from '../../common/bytes';
import { MoldUdp64Encoder } from '../wire/moldudp64-encoder';
import { kMoldUdp64HeaderLength, kMoldUdp64SessionLength } from '../wire/moldudp64-packet';
import { MessageJournal } from './message-journal';

export const kMoldUdp64RequestLength = 20;

export interface RerequestServerOptions {
  maxPacketSize?: number;
  maxPacketsPerRequest?: number;
  /** Fault injection for tests: ignore the first N requests. */
  ignoreFirstRequests?: number;
}

export class RerequestServerCounters {
  requests = 0;
  badRequests = 0;
  unknownSession = 0;
  /** Requests for sequences the journal does not hold. */
  unavailable = 0;
  ignored = 0;
  packetsSent = 0;
  messagesSent = 0;
}

export class RerequestServer {
  readonly counters = new RerequestServerCounters();
  private socket: dgram.Socket | null = null;
  private readonly encoders = new Map<string, MoldUdp64Encoder>();
  private readonly maxPacketSize: number;
  private readonly maxPackets: number;
  private ignore: number;

  constructor(readonly journal: MessageJournal, options: RerequestServerOptions = {}) {
    const size = options.maxPacketSize ?? 1400;
    if (!Number.isInteger(size) || size < kMoldUdp64HeaderLength + 3 || size > 65507) {
      throw invalidOption('RerequestServer', 'maxPacketSize', size, 'an integer from 23 to 65507');
    }
    const packets = options.maxPacketsPerRequest ?? 1;
    if (!Number.isInteger(packets) || packets < 1) throw invalidOption('RerequestServer', 'maxPacketsPerRequest', packets, 'a positive integer');
    this.maxPacketSize = size;
    this.maxPackets = packets;
    this.ignore = options.ignoreFirstRequests ?? 0;
  }

  /** Binds host:port (0 = ephemeral); resolves with the port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      this.socket = sock;
      sock.once('error', (err: NodeJS.ErrnoException) => {
        this.socket = null;
        sock.close();
        reject(err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new TickpathError(err.code === 'EADDRINUSE' ? 'ERR_ADDRESS_IN_USE' : 'ERR_PERMISSION',
            `re-request server: cannot bind udp ${host}:${port} (${err.code})`,
            err.code === 'EADDRINUSE' ? `another process uses the port (ss -ulpn 'sport = :${port}'); pick another with --port, or 0 for any free port`
              : 'ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port above 1023')
          : err);
      });
      sock.on('message', (msg, rinfo) => this.onRequest(msg, rinfo.port, rinfo.address));
      sock.bind(port, host, () => { sock.off('error', reject); sock.on('error', () => { /* counted by the OS */ }); resolve(sock.address().port); });
    });
  }

  /** Answers one request; returns how many messages were sent (exposed for tests without sockets). */
  onRequest(msg: Uint8Array, port: number, address: string): number {
    const c = this.counters;
    if (msg.length !== kMoldUdp64RequestLength) { c.badRequests++; return 0; }
    c.requests++;
    if (this.ignore > 0) { this.ignore--; c.ignored++; return 0; }
    const name = readAlpha(msg, 0, kMoldUdp64SessionLength);
    const j = this.journal.find(name);
    if (j === undefined) { c.unknownSession++; return 0; }
    let seq = readU64(msg, 10);
    const end = seq + readU16(msg, 18);
    // Serve what the journal has: a hole in it (the capture missed those too) must not hide the rest.
    if (!j.has(seq)) c.unavailable++;
    while (seq < end && !j.has(seq)) seq++;
    if (seq === end) return 0;
    let enc = this.encoders.get(name);
    if (enc === undefined) { enc = new MoldUdp64Encoder(name); this.encoders.set(name, enc); }
    let sent = 0;
    for (let p = 0; p < this.maxPackets && seq < end && j.has(seq); p++) {
      const out = Buffer.allocUnsafe(this.maxPacketSize);
      enc.begin(out, 0, seq);
      while (seq < end && j.has(seq) && enc.lengthWith(j.lengthOf(seq)) <= this.maxPacketSize) {
        const len = j.lengthOf(seq);
        const at = enc.appendMessage(len);
        out.set(j.bytes.subarray(j.offsetOf(seq), j.offsetOf(seq) + len), at);
        seq++;
        sent++;
      }
      const n = enc.finish();
      if (enc.messageCount === 0) break;
      c.packetsSent++;
      c.messagesSent += enc.messageCount;
      this.socket?.send(out, 0, n, port, address);
    }
    return sent;
  }

  get port(): number { return this.socket ? this.socket.address().port : 0; }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
}
