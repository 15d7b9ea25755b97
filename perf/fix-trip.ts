/**
 * The FIX order round trip's own work, in process, without sockets or wakeups: the production
 * FixConnector (FIX.4.4, mapped store) and the venue simulator's FixVenueFrontEnd (VenueSimulator's
 * engine, mapped store) joined by an in-memory pipe. Per order, timed on performance.now():
 *   client_out  sendNew -> the connector's bytes handed to its transport (encode, store, session)
 *   venue       the NewOrderSingle handed to the front end -> the ack's bytes handed to its
 *               transport (parse, session, matching, the ExecutionReport's encode and store)
 *   client_in   the ack's bytes handed to the connector -> the listener's onAck (parse, session,
 *               the connector's report handling)
 * Orders alternate buy/sell at one price, as perf/router-rtt's, so every sell fills the buy before
 * it; fills are delivered after the ack is timed. Medians after the first quarter of the orders.
 * What the pipe adds (a copy of each message, an array push) is in client_out and venue alike.
 *
 * Baseline, same run: the same with both stores the three-file FixFileStore (storeKind 'files'),
 * the store before the mapped one, which also encodes every message in the send ring first.
 * perf/router-rtt --split measures the same parts on loopback TCP with both processes; this one
 * has no kernel, scheduler or other process in it, so it resolves changes of ~100 ns that the
 * shared machine's round trips cannot.
 *
 *   node dist/perf/fix-trip.js [--orders 20000] [--rounds 3] [--json] [--no-results]
 *
 * Never asserts timings. Exits 1 if an order was not acked.
 * Threading: this process's main thread only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { FixConnector } from '../lib/router/connectors/fix-connector';
import { FixVenueFrontEnd } from '../lib/venue-sim/fix-front-end';
import { VenueSimulator } from '../lib/venue-sim/venue-simulator';
import type { ServerTransport, SessionTransport, TransportEvents, TransportStats } from '../lib/protocols/transport/session-transport';
import type { VenueOrder } from '../lib/router/venue';
import { report, type Row } from './report';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const kDir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
type Kind = 'mapped' | 'files';
interface Trip { client_out_ns: number; venue_ns: number; client_in_ns: number }

const stats = (): TransportStats => ({ kind: 'native', bytesOut: 0, bytesIn: 0, sends: 0, queuedSends: 0, connects: 1, busyPollUs: 0 });

/** One end of the pipe: what it is sent is copied into `out` (the transport contract: no reference kept). */
class PipeEnd implements SessionTransport {
  readonly kind = 'native' as const;
  state: SessionTransport['state'] = 'idle';
  events: TransportEvents | null = null;
  readonly out: Buffer[] = [];
  /** performance.now() of the first send since the last reset (the venue's ack). */
  firstSendAt = 0;
  private connectPending = false;
  connect(_host: string, _port: number, events: TransportEvents): void { this.events = events; this.connectPending = true; this.state = 'connecting'; }
  send(buf: Buffer, offset: number, length: number): boolean {
    if (this.firstSendAt === 0) this.firstSendAt = performance.now();
    this.out.push(Buffer.from(buf.subarray(offset, offset + length)));
    return true;
  }
  poll(): number {
    if (!this.connectPending) return 0;
    this.connectPending = false;
    this.state = 'connected';
    this.events!.onConnect();
    return 1;
  }
  close(): void { this.state = 'closed'; }
  end(): void {}
  stats(): TransportStats { return stats(); }
}

async function measure(kind: Kind, orders: number): Promise<Trip> {
  const dir = fs.mkdtempSync(path.join(kDir, 'tickpath-perf-fixtrip-'));
  const client = new PipeEnd();
  const venue = new PipeEnd();
  venue.state = 'connected';
  let accept: ((t: SessionTransport) => TransportEvents) | null = null;
  const server: ServerTransport = {
    kind: 'native', listen: (_h, _p, cb) => { accept = cb; return Promise.resolve(1); }, poll: () => 0, close: () => Promise.resolve(),
    stats: () => ({ kind: 'native', accepted: 1, connections: 1, busyPollUs: 0, polls: 0 }),
  };
  const sim = new VenueSimulator({ transport: 'libuv', ouchPort: null });
  const fe = new FixVenueFrontEnd(sim, { compId: 'VENUE', storeDir: path.join(dir, 'venue'), storeKind: kind, transport: server, log: () => {} });
  const c = new FixConnector({ name: 'SIM', host: '127.0.0.1', port: 1, version: 'FIX.4.4', senderCompId: 'TRIP', targetCompId: 'VENUE', heartbeatIntervalSec: 30,
    storeDir: path.join(dir, 'client'), storeKind: kind, resetOnLogon: true, reconnectAttempts: 0, transport: () => client });
  let venueEvents: TransportEvents | null = null;
  try {
    await fe.listen(0, '127.0.0.1');
    const ve = accept!(venue);
    venueEvents = ve;
    const pump = (): void => {
      while (client.out.length || venue.out.length) {
        for (const b of client.out.splice(0)) ve.onData(b, 0, b.length);
        for (const b of venue.out.splice(0)) client.events!.onData(b, 0, b.length);
      }
    };
    let acked = 0;
    let ackAt = 0;
    c.setListener({ onAck() { if (ackAt === 0) ackAt = performance.now(); acked++; }, onReject() {}, onFill() {}, onCancelled() {}, onReplaced() {}, onSessionState() {} });
    const up = c.connect();
    for (let i = 0; i < 1000 && !c.session.isLoggedIn; i++) { c.poll(Date.now()); pump(); await new Promise((r) => setImmediate(r)); }
    await up;
    const out = new Float64Array(orders);
    const ven = new Float64Array(orders);
    const inn = new Float64Array(orders);
    const order: VenueOrder = { clOrdId: '', symbol: 'TRIP', side: 'B', qty: 100, price: 100_000, ordType: 'LIMIT', tif: 'DAY' };
    for (let i = 0; i < orders; i++) {
      order.clOrdId = `T${i.toString(36)}`;
      order.side = (i & 1) === 0 ? 'B' : 'S';
      const before = acked;
      const t0 = performance.now();
      if (!c.sendNew(order)) throw new Error(`order ${i} refused`);
      const t1 = performance.now();
      venue.firstSendAt = 0;
      const nos = client.out.shift()!;
      ve.onData(nos, 0, nos.length);
      const tAck = venue.firstSendAt;
      const ack = venue.out.shift()!;
      ackAt = 0;
      const t2 = performance.now();
      client.events!.onData(ack, 0, ack.length);
      if (acked !== before + 1) throw new Error(`order ${i}: no ack`);
      out[i] = t1 - t0;
      ven[i] = tAck - t1;
      inn[i] = ackAt - t2;
      pump(); // the fills, untimed
    }
    const median = (a: Float64Array): number => { const s = Float64Array.from(a.subarray(orders >> 2)).sort(); return Math.round(s[s.length >> 1] * 1e6); };
    return { client_out_ns: median(out), venue_ns: median(ven), client_in_ns: median(inn) };
  } finally {
    // The Logout exchange goes through the pipe too.
    const closing = c.close().catch(() => undefined);
    while (client.out.length || venue.out.length) {
      const toVenue = client.out.splice(0);
      for (const b of toVenue) venueEvents?.onData(b, 0, b.length);
      for (const b of venue.out.splice(0)) client.events?.onData(b, 0, b.length);
    }
    await closing;
    await fe.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const orders = arg('orders', 20000);
  const rounds = arg('rounds', 3);
  const best: Record<Kind, Trip> = { mapped: { client_out_ns: Infinity, venue_ns: Infinity, client_in_ns: Infinity }, files: { client_out_ns: Infinity, venue_ns: Infinity, client_in_ns: Infinity } };
  const all: Array<{ kind: Kind } & Trip> = [];
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['mapped', 'files'] as Kind[]) {
      const t = await measure(kind, orders);
      all.push({ kind, ...t });
      const b = best[kind];
      b.client_out_ns = Math.min(b.client_out_ns, t.client_out_ns);
      b.venue_ns = Math.min(b.venue_ns, t.venue_ns);
      b.client_in_ns = Math.min(b.client_in_ns, t.client_in_ns);
    }
  }
  const us = (ns: number): string => `${(ns / 1000).toFixed(2)} µs`;
  const m = best.mapped;
  const f = best.files;
  const rows: Row[] = [
    ['client_out', 'order call -> NewOrderSingle handed to the transport'] as const,
    ['venue', 'NewOrderSingle in -> the ack handed to the transport'] as const,
    ['client_in', 'ack in -> onAck'] as const,
  ].map(([k, what]) => {
    const key = `${k}_ns` as keyof Trip;
    return { label: `fix trip ${k}`, ours: `${us(m[key])} (mapped stores)`, baseline: `${us(f[key])} (files stores)`, ratio: m[key] / f[key], note: `${what}; best median of ${rounds} rounds of ${orders}, in process, load ${os.loadavg()[0].toFixed(1)}` };
  });
  const sum = (t: Trip): number => t.client_out_ns + t.venue_ns + t.client_in_ns;
  rows.push({ label: 'fix trip, the three parts', ours: us(sum(m)), baseline: us(sum(f)), ratio: sum(m) / sum(f), note: 'what FIX adds to the round trip over the transport, both ends' });
  report('fix-trip', rows, { orders, rounds, load_average_1m: os.loadavg()[0], mapped: m, files: f, rounds_all: all });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
