/**
 * A FIX replace (35=G) in flight when the router died: the restart asks the venue about the
 * original ClOrdID and the new one (two Order Status Requests) and ends where the venue is, in both
 * outcomes the session layer cannot settle by itself:
 *  - the venue replaced the order and its report reached our FIX store but not the journal (the
 *    store advances before the report is applied): the order continues under the new id, at the
 *    venue's quantity and price;
 *  - the replace was journaled but never put on the wire: the venue holds the original, unchanged.
 * The venue is `tickpath venue-sim` in its own process; its report is compared with the journal.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixMappedStore } from '../../lib/protocols/fix/fix-mapped-store';
import { parseRoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack, type RouterStack } from '../../lib/router/router-stack';
import { OrderJournal } from '../../lib/router/journal';
import { OrderState } from '../../lib/router/types';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Json = Record<string, any>;

async function until(what: string, cond: () => boolean, poll: () => void, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    poll();
    await sleep(2);
  }
}

describe('FIX replace in flight at a crash: status of both ClOrdIDs, ends in the venue\'s state (venue-sim process)', function () {
  this.timeout(60000);
  let dir: string;
  let sim: { child: ChildProcess; out: string; exited: Promise<number | null> } | null = null;
  const stacks: RouterStack[] = [];

  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-replace-recon-')); });
  afterEach(async () => {
    for (const s of stacks.splice(0)) await s.close().catch(() => undefined);
    if (sim && sim.child.exitCode === null) { sim.child.kill('SIGKILL'); await sim.exited; }
    sim = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startSim(): Promise<number> {
    const child = spawn(process.execPath, [kCli, 'venue-sim', '--ouch-port', 'off', '--fix-port', '0', '--store-dir', path.join(dir, 'venue-fix'),
      '--report', path.join(dir, 'report.jsonl')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const s = { child, out: '', exited: new Promise<number | null>((r) => child.on('close', (c) => r(c))) };
    child.stdout!.on('data', (d: Buffer) => { s.out += d.toString(); });
    sim = s;
    await until('venue-sim port', () => /FIX 4\.2\/4\.4 listening on [\d.]+:\d+/.test(s.out), () => undefined, 30000);
    return Number(/FIX 4\.2\/4\.4 listening on [\d.]+:(\d+)/.exec(s.out)![1]);
  }

  async function stopSim(): Promise<Json[]> {
    sim!.child.kill('SIGTERM');
    expect(await sim!.exited).to.equal(0);
    return fs.readFileSync(path.join(dir, 'report.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  }

  function makeStack(port: number, log: string[]): RouterStack {
    const file = path.join(dir, 'routing_config.yml');
    fs.writeFileSync(file, `routing:
  mode: rules
  default_venue: ARCA
  order_capacity: 64
  journal: { path: ./orders.journal, fsync: group }
  venues:
    - { name: ARCA, protocol: fix44, host: 127.0.0.1, port: ${port}, sender_id: TPATH, target_id: VENUE, heartbeat_interval_s: 30 }
  rules: {}
  risk: { max_order_qty: 10000, max_order_notional: 1000000, max_daily_notional: 50000000, max_symbol_notional: 10000000,
          max_open_orders_per_symbol: 100, price_collar_bps: 0, max_orders_per_second: 100 }
`);
    const listener = new Proxy({}, { get: () => () => undefined }) as never;
    const s = createRouterStack(parseRoutingConfig(fs.readFileSync(file, 'utf8'), file), {
      bbo: { bestBid: () => 0, bestAsk: () => 0 }, listener, fixStoreDir: path.join(dir, 'fix'), connector: { reconnectAttempts: 0 },
      log: (l) => log.push(l),
    });
    stacks.push(s);
    return s;
  }

  const pollOf = (s: RouterStack) => () => { for (const c of s.connectors) c.poll?.(Date.now()); };

  /** Sends one order and waits for its ack; returns the child's id. */
  async function ackedOrder(a: RouterStack): Promise<string> {
    a.router.sendOrder({ clOrdId: 'RP-1', symbol: 'AAPL', side: 'B', qty: 100, price: 100000, ordType: 'LIMIT', tif: 'DAY' });
    const c = a.orderManager.liveChildSlots()[0];
    await until('ack', () => a.orderManager.state(c) === OrderState.ACKNOWLEDGED, pollOf(a));
    return a.orderManager.idOf(c);
  }

  /** Kill: nothing more reaches the journal, the connection drops without Logout. */
  function crash(a: RouterStack): void {
    a.journal.close();
    for (const c of a.connectors) (c as unknown as { dropConnection(): void }).dropConnection();
    stacks.splice(stacks.indexOf(a), 1);
  }

  function venueSeqnums(): number[] {
    // The venue's mapped FIX store (fix-mapped-store.ts): next sender and target numbers at bytes 16 and 24.
    const f = path.join(dir, 'venue-fix', 'FIX.4.4-VENUE-TPATH.fixlog');
    if (!fs.existsSync(f)) return [0, 0];
    const h = Buffer.alloc(32);
    const fd = fs.openSync(f, 'r');
    try { fs.readSync(fd, h, 0, 32, 0); } finally { fs.closeSync(fd); }
    return [h.readDoubleLE(16), h.readDoubleLE(24)];
  }

  it('the venue replaced it, its report was consumed by the FIX store but never journaled: the order continues under the new id at the venue\'s size', async () => {
    const port = await startSim();
    const logA: string[] = [];
    const a = makeStack(port, logA);
    await a.connect();
    const origId = await ackedOrder(a);
    const before = venueSeqnums()[0];
    a.router.replaceOrder('RP-1', 150, 100100);
    const c = a.orderManager.liveChildSlots()[0];
    const newId = a.orderManager.pendingIdOf(c) as string;
    crash(a);
    // The venue replaces it and sends its report into the dead session (stored on its side).
    await until('the venue\'s Replaced report', () => venueSeqnums()[0] === before + 1, () => undefined);
    // The killed process had taken that report into its FIX store (which advances before the
    // report is applied) but died before journaling it: no resend will bring it back.
    const store = new FixMappedStore(path.join(dir, 'fix'), 'FIX.4.4-TPATH-VENUE', { fsync: 'never' });
    store.open();
    store.setSeqs(store.nextSenderSeq, before + 1);
    store.close();

    const log: string[] = [];
    const b = makeStack(port, log);
    expect(b.restoredOrders).to.equal(1);
    await b.connect();
    expect(b.resumed!.statusRequests, log.join('\n')).to.equal(2);
    await b.awaitReconciled(Date.now(), 20000);
    const slot = b.orderManager.liveChildSlots()[0];
    expect([b.orderManager.idOf(slot), b.orderManager.qty(slot), b.orderManager.price(slot), b.orderManager.state(slot)])
      .to.deep.equal([newId, 150, 100100, OrderState.ACKNOWLEDGED]);
    expect(log.some((l) => l.includes(`replace ${origId} -> ${newId} in flight at the restart was done at the venue (150 @ 100100)`)), log.join('\n')).to.equal(true);
    await b.close();
    stacks.splice(stacks.indexOf(b), 1);

    const report = await stopSim();
    const journal = OrderJournal.recover(path.join(dir, 'orders.journal'));
    expect(journal.orders.get(origId)!.state).to.equal(OrderState.REPLACED);
    expect([journal.orders.get(newId)!.state, journal.orders.get(newId)!.qty]).to.deep.equal([OrderState.ACKNOWLEDGED, 150]);
    const venue = new Map(report.map((o) => [o.token as string, o]));
    expect(venue.get(origId)!.state).to.equal('REPLACED');
    expect([venue.get(newId)!.state, venue.get(newId)!.qty, venue.get(newId)!.price]).to.deep.equal(['ACKNOWLEDGED', 150, 100100]);
  });

  it('the replace was journaled but never reached the wire: the venue holds the original, and so does the router; nothing is sent again', async () => {
    const port = await startSim();
    const a = makeStack(port, []);
    await a.connect();
    const origId = await ackedOrder(a);
    // Killed between the journal record and the send.
    (a.connectors[0] as { sendReplace: unknown }).sendReplace = () => true;
    a.router.replaceOrder('RP-1', 150, 100100);
    const c = a.orderManager.liveChildSlots()[0];
    const newId = a.orderManager.pendingIdOf(c) as string;
    expect(a.orderManager.state(c)).to.equal(OrderState.PENDING_REPLACE);
    crash(a);

    const log: string[] = [];
    const b = makeStack(port, log);
    await b.connect();
    expect(b.resumed!.statusRequests).to.equal(2);
    await b.awaitReconciled(Date.now(), 20000);
    const slot = b.orderManager.liveChildSlots()[0];
    expect([b.orderManager.idOf(slot), b.orderManager.qty(slot), b.orderManager.price(slot), b.orderManager.state(slot)])
      .to.deep.equal([origId, 100, 100000, OrderState.ACKNOWLEDGED]);
    expect(log.some((l) => l.includes(`replace ${origId} -> ${newId} in flight at the restart never reached the venue`)), log.join('\n')).to.equal(true);
    expect(Number(b.connectors[0].stats().replacesOut)).to.equal(0);
    await b.close();
    stacks.splice(stacks.indexOf(b), 1);

    const report = await stopSim();
    expect(report.map((o) => [o.token, o.state, o.qty])).to.deep.equal([[origId, 'ACKNOWLEDGED', 100]]);
    const journal = OrderJournal.recover(path.join(dir, 'orders.journal'));
    expect([journal.orders.get(origId)!.state, journal.orders.get(origId)!.qty]).to.deep.equal([OrderState.ACKNOWLEDGED, 100]);
    expect(journal.orders.has(newId)).to.equal(false);
  });
});
