/**
 * The router stage's order path with kernel TX timestamps, against a real venue (`tickpath
 * venue-sim` in its own process) over real loopback sockets: the stage's own handlers
 * (attachOrderHandlers), probe (OrderPathProbe over the addon's tcpSend) and TxStampTracker. Each
 * order gets exactly one stamp, and it is its own: inside its send(2) on our clock, when two
 * orders go back to back on one session and on two (OUCH and FIX). Without stamps (libuv, or
 * tx_timestamps off) nothing is recorded and every order counts in `off`.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MonotonicClock } from '../../lib/common/clock';
import { parseRoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack, type RouterStack, type RouterStackOptions } from '../../lib/router/router-stack';
import { OrderPathProbe } from '../../lib/pipeline/stages/order-path';
import { attachOrderHandlers } from '../../lib/pipeline/stages/router-stage';
import { TxStampTracker } from '../../lib/pipeline/stages/tx-stamps';
import { nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';
import type { OrderRequest } from '../../lib/router/types';
import { routingForVenue, venueSimPerTest } from '../helpers/drill';

const kConfigs = path.resolve(__dirname, '../../../configs');
const kStages = ['order_ack', 'order_fill', 'md_to_order', 'order_send', 'order_risk', 'order_journal', 'order_encode', 'order_syscall',
  'md_to_send_call', 'dec_to_send_call', 'order_wire', 'md_to_wire'] as const;
type Samples = Record<typeof kStages[number], number[]>;

describe('pipeline/order out at the kernel TX timestamp (venue-sim process, real sockets)', function () {
  this.timeout(60000);
  const sim = venueSimPerTest(['--comp-id', 'ARCA']);
  const clock = new MonotonicClock();
  const bbo = { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 };
  let dir: string;
  let stack: RouterStack | undefined;

  before(function () { if (!nativeTcpBinding()?.tcpTxTimestamps) this.skip(); });
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-txstamp-')); });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The shipped routing, venues on the simulator's ports, IBM routed to the FIX venue. */
  async function connect(connector?: RouterStackOptions['connector']) {
    const text = routingForVenue(kConfigs, sim.current()).replace('    MSFT:\n', '    IBM:\n      - { venue: ARCA, share: 1, priority: 1, active: true, fee_per_share: 0.0028 }\n    MSFT:\n');
    const cfg = parseRoutingConfig(text, 'routing_config.yml');
    const listener = new Proxy({}, { get: () => () => undefined });
    stack = createRouterStack(cfg, { bbo, listener: listener as never, journalPath: path.join(dir, 'orders.journal'), fixStoreDir: path.join(dir, 'fix'), connector });
    await stack.connect();
    const s: Samples = Object.fromEntries(kStages.map((k) => [k, [] as number[]])) as unknown as Samples;
    const latency = Object.fromEntries(kStages.map((k) => [k, { record: (ns: number) => { s[k].push(ns); } }])) as never;
    const c = new Float64Array(16);
    const K = { orders_accepted: 0, orders_rejected: 1, orders_acked: 2, orders_partially_filled: 3, orders_filled: 4, orders_cancelled: 5, venue_rejects: 6, orders_sent: 7 };
    const txStamps = new TxStampTracker();
    const probe = new OrderPathProbe(stack, clock, nativeTcpBinding());
    const sink = attachOrderHandlers(stack.router, { c, K, clock, latency, logger: { info: () => true, warn: () => true } }, () => undefined, { probe, txStamps });
    const st = stack;
    /** Polls the venues (as the stage does) until every order is acked and has its stamp or 5 s passed. */
    const settle = async (orders: number): Promise<void> => {
      const t0 = Date.now();
      while (Date.now() - t0 < 5000) {
        for (const v of st.connectors) v.poll?.(Date.now());
        txStamps.collect(clock.nowNs(), latency);
        if (c[K.orders_acked] >= orders && txStamps.pending === 0) return;
        await new Promise((r) => setImmediate(r));
      }
    };
    return { s, c, K, txStamps, sink, settle };
  }

  const order = (symbol: string): OrderRequest => ({ symbol, side: 'B', qty: 100, price: 1_000_100, ordType: 'LIMIT', tif: 'DAY' });

  it('every order gets exactly one stamp, its own, inside its send(2): back to back on one session and across OUCH and FIX', async () => {
    const { s, c, K, txStamps, sink, settle } = await connect();
    const symbols: string[] = [];
    for (let round = 0; round < 10; round++) {
      // Two orders back to back, no poll between: on one session, then on two.
      const pair = round % 2 === 0 ? ['MSFT', 'MSFT'] : ['MSFT', 'IBM'];
      const rx = clock.nowNs() - 2000;
      for (const sym of pair) { sink.sendOrder(order(sym), rx); symbols.push(sym); }
      await settle(symbols.length);
    }
    const n = symbols.length;
    expect(c[K.orders_acked]).to.equal(n);
    expect(txStamps.stamped, 'one stamp per order').to.equal(n);
    expect(txStamps.missing).to.equal(0);
    expect(txStamps.off).to.equal(0);
    expect(s.order_wire).to.have.length(n);
    expect(s.md_to_wire).to.have.length(n);
    expect(s.order_syscall).to.have.length(n);
    // The kernel stamps inside send(2): 0 <= order_wire <= order_syscall, order by order, within
    // the clocks' calibration (the stage's clock vs CLOCK_MONOTONIC, realtime vs monotonic). The
    // other order's stamp (the next is microseconds later, the previous before this send(2)) or
    // one left in CLOCK_REALTIME would be outside.
    const tol = clock.calibrationErrorNs + 1000;
    for (let i = 0; i < n; i++) {
      expect(s.order_wire[i], `order ${i} (${symbols[i]}): stamp after its send(2) call`).to.be.at.least(-tol);
      expect(s.order_wire[i], `order ${i} (${symbols[i]}): stamp before its send(2) returned`).to.be.at.most(s.order_syscall[i] + tol);
      // md_to_wire is the same stamp from the market data: md_to_send_call + order_wire, and inside md_to_order.
      expect(Math.abs(s.md_to_wire[i] - s.md_to_send_call[i] - s.order_wire[i])).to.be.below(1);
      expect(s.md_to_wire[i]).to.be.at.most(s.md_to_order[i] + tol);
    }
  });

  for (const [what, connector] of [['libuv transport', { transport: 'libuv' as const }], ['tx_timestamps false', { txTimestamps: false }]] as const) {
    it(`${what}: no stamp is recorded and every order counts in off`, async () => {
      const { s, c, K, txStamps, sink, settle } = await connect(connector);
      for (let i = 0; i < 6; i++) sink.sendOrder(order(i % 2 === 0 ? 'MSFT' : 'IBM'), clock.nowNs() - 2000);
      await settle(6);
      expect(c[K.orders_acked]).to.equal(6);
      expect(s.md_to_order).to.have.length(6);
      expect(s.order_wire).to.have.length(0);
      expect(s.md_to_wire).to.have.length(0);
      expect(txStamps.off, 'why nothing was recorded').to.equal(6);
      expect(txStamps.stamped + txStamps.missing).to.equal(0);
    });
  }
});
