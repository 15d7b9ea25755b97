/**
 * The failover stream between a real JournalShipper and StandbyReceiver over loopback TCP, each on
 * a real OrderJournal file: records arrive byte for byte, a standby that already holds a prefix is
 * caught up from where it is, one holding other records is refused, heartbeats arm the takeover
 * timer and their loss fires it, and a promoted standby fences the primary (ERR_FENCED). Plus the
 * journal's replica append and epoch records, and the routing.failover config checks.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JournalShipper, StandbyReceiver } from '../../lib/router/failover';
import { JournalRecordType, OrderJournal, RECORD_SIZE } from '../../lib/router/journal';
import { OrderManager } from '../../lib/router/order-manager';
import { parseRoutingConfig, type FailoverConfig } from '../../lib/router/routing-config';
import { TickpathError } from '../../lib/errors';
import { FixConnector } from '../../lib/router/connectors/fix-connector';
import { createVenueConnector } from '../../lib/router/connectors/create-connector';
import { adoptTakeoverSessions, kTakeoverOutSeqSlack } from '../../lib/router/router-stack';
import type { VenueConfig } from '../../lib/router/routing-config';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, poll: () => void = () => {}, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    poll();
    await sleep(2);
  }
}

function fill(j: OrderJournal, from: number, n: number): void {
  for (let i = from; i < from + n; i++) j.appendRequestRejected(`ID${i}`, 'AAPL', 1, 100 + i, 100000, 'MAX_ORDER_QTY');
}

/** Waits until the journal's file holds record `n` (its shared-memory ring is copied every millisecond). */
async function copiedTo(j: OrderJournal, n: number): Promise<void> {
  await until(`record ${n} copied into the file`, () => j.stats().copiedRecordNo >= n);
}

/** Slots 1..last of a journal file (the header differs: each side writes its own). */
function body(file: string, last: number): Buffer {
  return fs.readFileSync(file).subarray(RECORD_SIZE, (last + 1) * RECORD_SIZE);
}

describe('failover: journal stream, heartbeats, fencing', function () {
  this.timeout(30_000);
  let dir: string;
  let port: number;
  const cleanup: (() => unknown)[] = [];
  const cfg = (): FailoverConfig => ({ standbyHost: '127.0.0.1', standbyPort: port, heartbeatIntervalMs: 5, heartbeatTimeoutMs: 60 });
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-failover-'));
    port = 30000 + Math.floor(Math.random() * 20000);
    logs.length = 0;
  });
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function pair(primaryRecords: number, standbyRecords: number): Promise<{ pj: OrderJournal; sj: OrderJournal; shipper: JournalShipper; rcv: StandbyReceiver }> {
    const pj = OrderJournal.open(path.join(dir, 'p.journal'), { fsync: 'never' });
    cleanup.push(() => pj.close());
    pj.appendEpoch(1);
    fill(pj, 0, primaryRecords);
    const sj = OrderJournal.open(path.join(dir, 's.journal'), { fsync: 'never' });
    // A standby holding the primary's first records (a restarted standby), copied slot by slot.
    for (let n = 1; n <= standbyRecords; n++) expect(sj.appendReplica(pj.mapping, n * RECORD_SIZE)).to.equal(true);
    const rcv = new StandbyReceiver('127.0.0.1', port, sj, log);
    await rcv.listen();
    cleanup.push(() => rcv.close().then(() => rcv.releaseJournal()));
    const shipper = new JournalShipper(cfg(), pj, 1, log);
    cleanup.push(() => shipper.close());
    return { pj, sj, shipper, rcv };
  }

  it('streams every record byte for byte: the catch-up, then each append as it is written', async () => {
    const { pj, sj, shipper, rcv } = await pair(50, 0);
    await shipper.start(5000);
    expect(shipper.state).to.equal('streaming');
    await until('the catch-up', () => sj.lastRecordNo === 51, () => shipper.poll(Date.now()));
    fill(pj, 50, 200);
    await until('the live records', () => sj.lastRecordNo === 251, () => shipper.poll(Date.now()));
    await copiedTo(sj, 251);
    expect(body(path.join(dir, 's.journal'), 251).equals(body(path.join(dir, 'p.journal'), 251))).to.equal(true);
    expect(rcv.stats().records).to.equal(251);
    // The copy is what restart recovery reads: same orders, same epoch.
    const rec = OrderJournal.recover(path.join(dir, 's.journal'));
    expect(rec.records).to.equal(251);
    expect(rec.rejectedRequests).to.equal(250);
    expect(rec.epoch).to.equal(1);
  });

  it('a record before the wire (NEW_CHILD in SENT) reaches the standby inside the append; acks wait for the next poll', async () => {
    const { pj, sj, shipper } = await pair(0, 0);
    await shipper.start(5000);
    await until('the catch-up', () => sj.lastRecordNo === 1, () => shipper.poll(Date.now()));
    const om = new OrderManager({ capacity: 16 });
    const p = om.createParent('P1', 'AAPL', 'B', 100, 1_000_000, 'LIMIT', 'DAY');
    pj.appendOrder(JournalRecordType.NEW_PARENT, om, p, null, 0, 0, '');
    const c = om.createChild(p, 'C1', 1, 100, 1_000_000);
    om.markSent(c);
    pj.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, 'P1');
    // No poll from here: only the append itself can have sent them.
    await until('parent and child at the standby', () => sj.lastRecordNo === 3);
    om.onAck('C1');
    pj.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, 'P1');
    await sleep(50);
    expect(sj.lastRecordNo, 'the ack waits for the router loop').to.equal(3);
    await until('the ack', () => sj.lastRecordNo === 4, () => shipper.poll(Date.now()));
    await copiedTo(sj, 4);
    expect(body(path.join(dir, 's.journal'), 4).equals(body(path.join(dir, 'p.journal'), 4))).to.equal(true);
  });

  it('a primary that stops on purpose ships what is pending and says goodbye: the standby does not take over', async () => {
    const { pj, sj, shipper, rcv } = await pair(3, 0);
    await shipper.start(5000);
    await until('heartbeats', () => rcv.stats().beats > 2, () => shipper.poll(Date.now()));
    fill(pj, 3, 5);
    shipper.close();
    await until('the pending records', () => sj.lastRecordNo === 9);
    await sleep(150);
    expect(rcv.heartbeatLost(Date.now(), 60)).to.equal(false);
    expect(logs.join('\n')).to.match(/primary stopped on purpose .* stays a standby/);
  });

  it('a standby that holds the first records is caught up from where it is', async () => {
    const { sj, shipper } = await pair(100, 40);
    await shipper.start(5000);
    await until('the catch-up', () => sj.lastRecordNo === 101, () => shipper.poll(Date.now()));
    expect(logs.join('\n')).to.include('61 record(s) caught up');
    await copiedTo(sj, 101);
    expect(body(path.join(dir, 's.journal'), 101).equals(body(path.join(dir, 'p.journal'), 101))).to.equal(true);
  });

  it('a standby holding other records is not streamed to (fix named), and its journal is left alone', async () => {
    const other = OrderJournal.open(path.join(dir, 'other.journal'), { fsync: 'never' });
    fill(other, 1000, 10);
    const sj = OrderJournal.open(path.join(dir, 's.journal'), { fsync: 'never' });
    for (let n = 1; n <= 10; n++) sj.appendReplica(other.mapping, n * RECORD_SIZE);
    other.close();
    const rcv = new StandbyReceiver('127.0.0.1', port, sj, log);
    await rcv.listen();
    cleanup.push(() => rcv.close().then(() => rcv.releaseJournal()));
    const pj = OrderJournal.open(path.join(dir, 'p.journal'), { fsync: 'never' });
    cleanup.push(() => pj.close());
    fill(pj, 0, 20);
    const shipper = new JournalShipper(cfg(), pj, 1, log);
    cleanup.push(() => shipper.close());
    await shipper.start(5000);
    expect(shipper.state).to.equal('down');
    expect(logs.join('\n')).to.match(/holds 10 record\(s\) that are not this journal's first 10 \(fix: start the standby on an empty journal/);
    fill(pj, 20, 5);
    await sleep(50);
    expect(sj.lastRecordNo).to.equal(10);
  });

  it('heartbeats arm the takeover timer; their loss fires it after the timeout, not before', async () => {
    const { shipper, rcv } = await pair(5, 0);
    expect(rcv.heartbeatLost(Date.now() + 1e6, 60), 'never armed before a primary was heard').to.equal(false);
    await shipper.start(5000);
    await until('a heartbeat', () => rcv.stats().beats > 3, () => shipper.poll(Date.now()));
    expect(rcv.heartbeatLost(Date.now(), 60)).to.equal(false);
    // The primary stops (no more polls: no heartbeats).
    const last = rcv.lastBeatMs;
    await until('the heartbeat loss', () => rcv.heartbeatLost(Date.now(), 60));
    expect(Date.now() - last).to.be.greaterThan(60);
  });

  it('a promoted standby fences the primary: ERR_FENCED at start and while routing, naming both epochs and the fix', async () => {
    const { pj, sj, shipper, rcv } = await pair(5, 0);
    await shipper.start(5000);
    await until('streaming', () => sj.lastRecordNo === 6, () => shipper.poll(Date.now()));
    rcv.releaseJournal();
    rcv.promote(2);
    // While routing: the connection drops, the reconnect is answered 'primary', poll() throws.
    let fenced: unknown = null;
    await until('fenced while routing', () => fenced !== null, () => {
      try { shipper.poll(Date.now()); } catch (e) { fenced = e; }
    });
    expect(fenced).to.be.instanceOf(TickpathError);
    expect((fenced as TickpathError).code).to.equal('ERR_FENCED');
    expect((fenced as Error).message).to.match(/routes as primary under epoch 2 \(this journal's epoch: 1\)/);
    // Nothing is shipped any more.
    expect(() => fill(pj, 100, 1)).to.not.throw();
    // A primary starting up is refused before it could log in anywhere.
    const again = new JournalShipper(cfg(), pj, 1, log);
    cleanup.push(() => again.close());
    let err: unknown = null;
    await again.start(5000).catch((e) => { err = e; });
    expect((err as TickpathError).code).to.equal('ERR_FENCED');
    expect(logs.join('\n')).to.match(/fenced a primary \(epoch 1\)/);
  });

  it('the lease: a primary that stalled holds orders until its standby confirms, and is fenced if it took over meanwhile', async () => {
    const { sj, shipper, rcv } = await pair(2, 0);
    await shipper.start(5000);
    await until('streaming', () => sj.lastRecordNo === 3, () => shipper.poll(Date.now()));
    shipper.poll(Date.now());
    expect(shipper.holdOrders(Date.now())).to.equal(false);
    await sleep(45);   // no poll: no heartbeat for more than half the 60 ms timeout
    expect(shipper.holdOrders(Date.now()), 'held after the stall').to.equal(true);
    expect(logs.join('\n')).to.match(/this process stalled\): holding orders/);
    await until('confirmed by the standby', () => !shipper.holdOrders(Date.now()), () => shipper.poll(Date.now()));
    expect(logs.join('\n')).to.match(/still the standby: routing again after \d+ ms on hold/);
    // The loop runs again (a heartbeat: the lease restarts), then stalls again, and this time the
    // standby took over during the stall.
    shipper.poll(Date.now());
    await sleep(45);
    rcv.releaseJournal();
    rcv.promote(2);
    expect(shipper.holdOrders(Date.now())).to.equal(true);
    let fenced: unknown = null;
    await until('fenced', () => fenced !== null, () => {
      try { shipper.poll(Date.now()); } catch (e) { fenced = e; }
    });
    expect((fenced as TickpathError).code).to.equal('ERR_FENCED');
    expect(shipper.holdOrders(Date.now()), 'never routes again').to.equal(true);
  });

  it('a primary whose standby is down routes without it and streams once it is back', async () => {
    const pj = OrderJournal.open(path.join(dir, 'p.journal'), { fsync: 'never' });
    cleanup.push(() => pj.close());
    fill(pj, 0, 10);
    const shipper = new JournalShipper(cfg(), pj, 1, log);
    cleanup.push(() => shipper.close());
    await shipper.start(200);
    expect(logs.join('\n')).to.match(/not reachable .*routing without it, trying again every 5 ms/);
    fill(pj, 10, 10);
    const sj = OrderJournal.open(path.join(dir, 's.journal'), { fsync: 'never' });
    const rcv = new StandbyReceiver('127.0.0.1', port, sj, log);
    await rcv.listen();
    cleanup.push(() => rcv.close().then(() => rcv.releaseJournal()));
    await until('the late catch-up', () => sj.lastRecordNo === 20, () => shipper.poll(Date.now()));
  });

  it('appendReplica takes only the next valid record', () => {
    const a = OrderJournal.open(path.join(dir, 'a.journal'), { fsync: 'never' });
    fill(a, 0, 3);
    const b = OrderJournal.open(path.join(dir, 'b.journal'), { fsync: 'never' });
    expect(b.appendReplica(a.mapping, 2 * RECORD_SIZE), 'record 2 before record 1').to.equal(false);
    expect(b.appendReplica(a.mapping, 1 * RECORD_SIZE)).to.equal(true);
    const bad = Buffer.from(a.mapping.subarray(2 * RECORD_SIZE, 3 * RECORD_SIZE));
    bad[60] ^= 1;
    expect(b.appendReplica(bad, 0), 'bad CRC').to.equal(false);
    expect(b.appendReplica(a.mapping, 2 * RECORD_SIZE)).to.equal(true);
    expect(b.lastRecordNo).to.equal(2);
    b.appendEpoch(7);
    a.close();
    b.close();
    expect(OrderJournal.recover(path.join(dir, 'b.journal')).epoch).to.equal(7);
  });
});

describe('routing.failover config', () => {
  const base = (failover: string, protocol = 'ouch') => `routing:
  mode: rules
  default_venue: V
  order_capacity: 16
  journal: { path: ./j, fsync: group }
${failover}
  venues:
    - { name: V, protocol: ${protocol}, host: 127.0.0.1, port: 1, sender_id: A, target_id: B }
  risk: { max_order_qty: 1, max_order_notional: 1, max_daily_notional: 1, max_symbol_notional: 1, max_open_orders_per_symbol: 1, price_collar_bps: 0, max_orders_per_second: 1 }
`;
  it('reads the standby address and heartbeat settings, with defaults', () => {
    const c = parseRoutingConfig(base('  failover: { standby: "10.1.2.3:7400" }'), '/x/routing_config.yml');
    expect(c.failover).to.deep.equal({ standbyHost: '10.1.2.3', standbyPort: 7400, heartbeatIntervalMs: 20, heartbeatTimeoutMs: 100 });
    expect(parseRoutingConfig(base(''), '/x/r.yml').failover).to.equal(undefined);
  });
  it('accepts FIX venues under failover (the standby rebuilds their sessions from the journal)', () => {
    for (const protocol of ['fix44', 'fix42']) {
      expect(parseRoutingConfig(base('  failover: { standby: "h:1" }', protocol), '/x/r.yml').failover?.standbyPort).to.equal(1);
    }
  });
  it('refuses a bad address and a timeout under two intervals, naming the fix', () => {
    expect(() => parseRoutingConfig(base('  failover: { standby: "10.1.2.3" }'), '/x/r.yml')).to.throw(/routing\.failover\.standby/);
    expect(() => parseRoutingConfig(base('  failover: { standby: "h:70000" }'), '/x/r.yml')).to.throw(/port from 1 to 65535/);
    expect(() => parseRoutingConfig(base('  failover: { standby: "h:1", heartbeat_interval_ms: 50, heartbeat_timeout_ms: 60 }'), '/x/r.yml'))
      .to.throw(/at least twice heartbeat_interval_ms/);
  });
});

describe('failover takeover of a FIX session from the journal', function () {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fixfo-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const venue = (name: string, protocol: 'fix44' | 'ouch'): VenueConfig => parseRoutingConfig(`routing:
  mode: rules
  default_venue: ${name}
  order_capacity: 16
  journal: { path: ./j, fsync: never }
  venues:
    - { name: ${name}, protocol: ${protocol}, host: 127.0.0.1, port: 1, sender_id: TP, target_id: VEN }
  risk: { max_order_qty: 1, max_order_notional: 1, max_daily_notional: 1, max_symbol_notional: 1, max_open_orders_per_symbol: 1, price_collar_bps: 0, max_orders_per_second: 1 }
`, path.join(dir, 'r.yml')).venues[0];

  it('recovers the next outbound MsgSeqNum and counts the order records after it; a new session forgets both', () => {
    const file = path.join(dir, 'a.journal');
    const j = OrderJournal.open(file, { fsync: 'never' });
    const om = new OrderManager({ capacity: 16 });
    j.appendVenueSession(0, 'ARCA', 'Fabc');
    j.appendVenueSeq(0, 'ARCA', 7, 40);
    j.appendVenueSeq(0, 'ARCA', 9, 42);
    const p = om.createParent('P1', 'AAPL', 'B', 100, 100000, 'LIMIT', 'DAY');
    const c = om.createChild(p, 'C1', 0, 100, 100000);
    j.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, p);
    j.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, p);
    j.close();
    let r = OrderJournal.recover(file);
    expect(r.venueSeqs.get('ARCA')).to.equal(9);
    expect(r.venueOutSeqs.get('ARCA')).to.equal(42);
    expect(r.venueSendsAfterOutSeq.get('ARCA')).to.equal(2);
    const j2 = OrderJournal.open(file, { fsync: 'never' });
    j2.appendVenueSeq(0, 'ARCA', 9, 45);
    j2.appendVenueSession(0, 'ARCA', 'Fdef');
    j2.close();
    r = OrderJournal.recover(file);
    expect(r.venueOutSeqs.has('ARCA')).to.equal(false);
    expect(r.venueSendsAfterOutSeq.has('ARCA')).to.equal(false);
  });

  it('adopts the journaled session in the FIX store: start, next out above every number used, next in; OUCH untouched', () => {
    const file = path.join(dir, 'b.journal');
    const j = OrderJournal.open(file, { fsync: 'never' });
    const created = 1_790_000_000_123;
    j.appendVenueSession(0, 'ARCA', `F${created.toString(36)}`);
    j.appendVenueSeq(0, 'ARCA', 31, 57);
    const om = new OrderManager({ capacity: 16 });
    const p = om.createParent('P1', 'AAPL', 'B', 100, 100000, 'LIMIT', 'DAY');
    const c = om.createChild(p, 'C1', 0, 100, 100000);
    j.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, p);
    j.close();
    // The standby opens its replica at takeover: what it recovers is what the sessions adopt.
    const replica = OrderJournal.open(file, { fsync: 'never' });
    const storeDir = path.join(dir, 'fix-store');
    // A stale store on the standby's host (another session's messages) must not be resent.
    const stale = new FixConnector({ name: 'ARCA', host: '127.0.0.1', port: 1, version: 'FIX.4.4', senderCompId: 'TP', targetCompId: 'VEN', storeDir });
    { const m = Buffer.from('8=FIX.4.4\x019=5\x0135=D\x01'); stale.session.store.append(1, m, 0, m.length); }
    stale.session.store.close();
    const fix = new FixConnector({ name: 'ARCA', host: '127.0.0.1', port: 1, version: 'FIX.4.4', senderCompId: 'TP', targetCompId: 'VEN', storeDir });
    const ouch = createVenueConnector(venue('NSDQ', 'ouch'));
    const lines: string[] = [];
    adoptTakeoverSessions([venue('ARCA', 'fix44'), venue('NSDQ', 'ouch')], [fix, ouch], replica, (l) => lines.push(l));
    expect(fix.nextOutSequence).to.equal(57 + 1 + kTakeoverOutSeqSlack);
    expect(fix.lastSequence).to.equal(31);
    expect(fix.session.store.createdMs).to.equal(created);
    expect(fix.session.store.get(1)).to.equal(null);
    expect(lines.join('\n')).to.match(/venue ARCA \(fix44\): takeover: session F\w+ from the journal: next out 158 \(journaled 57 \+ 1 order record\(s\) after it \+ 100\), next in 32/);
    fix.session.store.close();
    replica.close();
    // What the store now holds is what a restart of the new primary reads.
    const again = new FixConnector({ name: 'ARCA', host: '127.0.0.1', port: 1, version: 'FIX.4.4', senderCompId: 'TP', targetCompId: 'VEN', storeDir });
    expect([again.nextOutSequence, again.lastSequence, again.session.store.createdMs]).to.deep.equal([158, 31, created]);
    again.session.store.close();
  });

  it('refuses a journal that names a FIX session but no outbound number, naming the fix', () => {
    const j = OrderJournal.open(path.join(dir, 'c.journal'), { fsync: 'never' });
    j.appendVenueSession(0, 'ARCA', 'Fabc');
    j.appendVenueSeq(0, 'ARCA', 5);
    j.close();
    const j2 = OrderJournal.open(path.join(dir, 'c.journal'), { fsync: 'never' });
    const fix = new FixConnector({ name: 'ARCA', host: '127.0.0.1', port: 1, version: 'FIX.4.4', senderCompId: 'TP', targetCompId: 'VEN', storeDir: path.join(dir, 's') });
    try {
      expect(() => adoptTakeoverSessions([venue('ARCA', 'fix44')], [fix], j2, () => {}))
        .to.throw(TickpathError, /no outbound MsgSeqNum .*fix: run the same tickpath version/);
    } finally {
      fix.session.store.close();
      j2.close();
    }
  });
});
