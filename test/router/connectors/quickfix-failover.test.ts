/**
 * Failover takeover of a FIX session against an independent FIX engine, the QuickFIX acceptor
 * (test/interop): a smaller drill than test/integration/failover.test.ts. A primary process routes
 * orders through the production router stack, is SIGKILLed with orders QuickFIX acked but it never
 * read, and a standby stack takes over from a byte copy of its journal (what the journal stream
 * delivers; the stream itself is tested by the integration drill) with an empty FIX store of its
 * own. QuickFIX must accept the standby's Logon (a MsgSeqNum above everything the primary used: it
 * asks for the gap and gets a GapFill), resend the acks the primary never read, and know every
 * ClOrdID: the standby cancels all of them and routes a new order, and the journal (`tickpath
 * journal`) ends with each order once, as QuickFIX holds it.
 *
 * Skipped with a reason when the acceptor cannot be built, unless TICKPATH_REQUIRE_QUICKFIX=1.
 */
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadRoutingConfig } from '../../../lib/router/routing-config';
import { createRouterStack } from '../../../lib/router/router-stack';
import { OrderJournal } from '../../../lib/router/journal';
import type { FixConnector } from '../../../lib/router/connectors/fix-connector';
import type { RouterListener } from '../../../lib/router/types';
import { QuickfixAcceptor } from '../../helpers/quickfix';
import { readJournal } from '../../helpers/drill';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QuickFIX failover: a standby takes over the FIX session of a killed primary from its journal', function () {
  this.timeout(120_000);
  let venue: QuickfixAcceptor | undefined;

  before(async function () {
    venue = await QuickfixAcceptor.start(this, 'QuickFIX failover');
  });
  after(async () => {
    if (venue) expect(await venue.stop()).to.equal(0);
  });

  it('logs on above the primary\'s numbers, gets the unread acks resent, and cancels every order the primary routed', async () => {
    const v = venue!;
    await v.control('reset-store FIX.4.4');
    const dir = v.dir;
    const cfgFile = path.join(dir, 'routing_config.yml');
    fs.writeFileSync(cfgFile, `routing:
  mode: rules
  default_venue: QF
  order_capacity: 1024
  journal: { path: ./primary/orders.journal, fsync: group }
  failover: { standby: "127.0.0.1:1", heartbeat_timeout_ms: 1000 }
  venues:
    - { name: QF, protocol: fix44, host: 127.0.0.1, port: ${v.port}, sender_id: TICKPATH, target_id: QFVENUE, heartbeat_interval_s: 30 }
  risk: { max_order_qty: 10000, max_order_notional: 10000000, max_daily_notional: 100000000, max_symbol_notional: 100000000, max_open_orders_per_symbol: 1000, price_collar_bps: 0, max_orders_per_second: 100000 }
`);
    const held = 20;
    const inFlight = 15;
    const primaryJournal = path.join(dir, 'primary', 'orders.journal');
    const child = spawn(process.execPath, [path.join(__dirname, 'quickfix-failover-child.js'), cfgFile, primaryJournal, path.join(dir, 'primary', 'fix'),
      String(held), String(inFlight)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise((r) => child.once('exit', r));
    const t0 = Date.now();
    while (!/^SENT$/m.test(out) && child.exitCode === null && Date.now() - t0 < 30_000) await sleep(5);
    child.kill('SIGKILL');
    await exited;
    expect(out).to.match(/^ACKED$/m);
    expect(out).to.match(/^SENT$/m);

    // What the killed primary journaled: the last orders still SENT (their acks were never read).
    const atCrash = readJournal(primaryJournal);
    const sentAtCrash = atCrash.orders.filter((o) => o.kind === 'child' && o.state === 'SENT').length;
    expect(sentAtCrash, 'orders in flight at the kill').to.equal(inFlight);
    const [, qfNextOutAtCrash, qfExpectedAtCrash] = (await v.control('next')).split(' ').slice(1).map(Number);
    expect(qfExpectedAtCrash).to.be.greaterThan(held + inFlight);

    // The standby: its own host's (empty) FIX store, the journal as the stream delivered it.
    const standbyJournal = path.join(dir, 'standby', 'orders.journal');
    fs.mkdirSync(path.dirname(standbyJournal), { recursive: true });
    // The killed primary's last records may still be only in its shared-memory ring: opening the
    // journal here folds them into the file, as the stream would have delivered them.
    OrderJournal.open(primaryJournal, { fsync: 'group' }).close();
    fs.copyFileSync(primaryJournal, standbyJournal);
    const lines: string[] = [];
    const events: string[] = [];
    const listener = new Proxy({}, { get: (_t, k) => (...a: unknown[]) => { events.push(`${String(k)} ${a[0]}`); } }) as RouterListener;
    const stack = createRouterStack(loadRoutingConfig(cfgFile), {
      bbo: { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, listener, journalPath: standbyJournal,
      fixStoreDir: path.join(dir, 'standby', 'fix'), connector: { transport: 'libuv' }, takeover: true, log: (l) => lines.push(l),
    });
    try {
      const fix = stack.connectors[0] as FixConnector;
      await stack.connect();
      await stack.awaitReconciled(Date.now(), 20_000);
      const adopt = /takeover: session F\w+ from the journal: next out (\d+) \(journaled (\d+) \+ (\d+) order record\(s\) after it \+ 100\), next in (\d+)/
        .exec(lines.join('\n'));
      expect(adopt, lines.join('\n')).to.not.equal(null);
      expect(Number(adopt![3]), 'the in-flight orders counted above the journaled number').to.equal(inFlight);
      expect(Number(adopt![1]), 'the Logon numbered above what QuickFIX expected').to.be.greaterThan(qfExpectedAtCrash);
      expect(Number(adopt![4]), 'inbound: the journal is behind QuickFIX, which resends').to.be.lessThan(qfNextOutAtCrash);
      // QuickFIX accepted the Logon and the GapFill: it now expects our next number.
      const [, , qfExpected] = (await v.control('next')).split(' ').slice(1).map(Number);
      expect(qfExpected).to.equal(fix.nextOutSequence);
      expect(fix.lastSequence, 'the acks the primary never read, resent by QuickFIX').to.be.at.least(qfNextOutAtCrash - 1);
      expect(lines.join('\n')).to.not.match(/done for day/);
      expect(stack.router.restoredInFlight()).to.equal(0);
      // Every order the primary routed is known to QuickFIX under its ClOrdID: the standby cancels all.
      const parents = atCrash.orders.filter((o) => o.kind === 'parent').map((o) => o.clOrdId as string);
      expect(parents).to.have.length(held + inFlight);
      for (const id of parents) stack.router.cancelOrder(id);
      const newId = stack.router.sendOrder({ symbol: 'IBM', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' });
      const end = Date.now() + 20_000;
      const done = () => events.filter((e) => e.startsWith('onCancelled ')).length === parents.length && events.includes(`onFilled ${newId}`);
      while (!done() && Date.now() < end) { stack.router.endOfBatch(); await sleep(5); }
      expect(events.filter((e) => /^on(Rejected|VenueReject) /.test(e)), 'nothing refused').to.deep.equal([]);
      expect(done(), events.join('\n')).to.equal(true);
      stack.router.endOfBatch();
    } finally {
      await stack.close();
    }
    const final = readJournal(standbyJournal);
    const children = final.orders.filter((o) => o.kind === 'child');
    expect(new Set(children.map((o) => o.clOrdId)).size).to.equal(children.length);
    expect(children.filter((o) => o.state === 'CANCELLED')).to.have.length(held + inFlight);
    expect(children.filter((o) => o.state === 'FILLED')).to.have.length(1);
    expect(children).to.have.length(held + inFlight + 1);
    expect(final.summary.positions.IBM).to.equal(100);
  });
});
