import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MonotonicClock } from '../../lib/common/clock';
import { LatencyRecorder } from '../../lib/common/latency-recorder';
import { loadRoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack, type RouterStack } from '../../lib/router/router-stack';
import { OrderPathProbe, OrderPathWarmer } from '../../lib/pipeline/stages/order-path';
import { attachOrderHandlers } from '../../lib/pipeline/stages/router-stage';
import { ORDER_STEP_NAMES, OrderStepProbe, orderStepMedians } from '../../lib/pipeline/stages/order-path-steps';
import type { OrderRequest } from '../../lib/router/types';
import { JournalRecordType, OrderJournal } from '../../lib/router/journal';
import { OrderIdFormat, OrderManager } from '../../lib/router/order-manager';
import { RiskChecker } from '../../lib/router/risk-checker';
import { TxRing } from '../../lib/protocols/tx-ring';

// dist/test/pipeline -> repository root
const CONFIG = path.resolve(__dirname, '../../../configs/routing_config.yml');

/**
 * The router stage's order path: the probe's split of order_send, and the keep-warm dry runs,
 * against a real router stack (risk, smart router, order table, journal on disk) whose venue
 * connectors record what they are asked to send, and a stand-in for the addon's tcpSend that
 * counts the bytes handed to "the kernel".
 */
describe('pipeline/order path (probe and keep-warm)', () => {
  let dir: string;
  let stack: RouterStack;
  const sent: string[] = [];
  const syscalls: number[] = [];
  let sendPathTouches = 0;
  let sendPathWarms = 0;
  const tcp = { tcpSend: (_id: number, _b: Uint8Array, _o: number, length: number): number => { syscalls.push(length); return length; } };
  const bbo = {
    bestBid: () => 1_000_000, bestAsk: () => 1_000_100,
    entries: () => [{ symbol: 'AAPL', bid: 1_000_000, ask: 1_000_100 }],
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-order-path-'));
    const cfg = loadRoutingConfig(CONFIG);
    cfg.journal.path = path.join(dir, 'orders.journal');
    sent.length = 0;
    syscalls.length = 0;
    sendPathTouches = 0;
    sendPathWarms = 0;
    // Each sendNew "encodes" and makes one send(2) through the binding, as the native connectors do.
    const connectorFor = (v: { name: string; protocol: 'ouch' | 'fix42' | 'fix44' }) => ({
      name: v.name, protocol: v.protocol, resendsIdempotently: true, setListener() {}, connect: async () => undefined, close: async () => undefined,
      sendNew: (o: { clOrdId: string }) => { sent.push(o.clOrdId); tcp.tcpSend(1, new Uint8Array(49), 0, 49); return true; },
      sendCancel: () => true, sendReplace: () => true, stats: () => ({}),
      touchSendPath: () => { sendPathTouches++; return 1; },
      // The real session's zero-byte send path (OuchConnector.warmSendPath): 1 = it ran.
      warmSendPath: () => { sendPathWarms++; return 1; },
    });
    const listener = new Proxy({}, { get: () => () => undefined });
    stack = createRouterStack(cfg, { connectorFor: connectorFor as never, bbo, listener: listener as never });
  });
  afterEach(() => {
    stack.journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const order = (symbol = 'MSFT'): OrderRequest => ({ symbol, side: 'B', qty: 100, price: 1_000_100, ordType: 'LIMIT', tif: 'DAY' });

  it('keep-warm dry runs never send, journal or book: venue, journal, risk and order table are as before', () => {
    const cfg = loadRoutingConfig(CONFIG);
    // One real order first, so the dry runs take its symbol and there is state that must not move.
    stack.router.submitOrder(order('AAPL'));
    expect(sent).to.have.length(2);                       // AAPL: split NSDQ/ARCA by the shipped rule
    const before = {
      sent: sent.length, syscalls: syscalls.length, records: stack.journal.records, lastRecordNo: stack.journal.lastRecordNo,
      size: fs.statSync(stack.journal.path).size, daily: stack.risk.usedDailyNotional, aapl: stack.risk.usedSymbolNotional('AAPL'),
      open: stack.orderManager.openOrders('AAPL'), free: stack.orderManager.freeSlots,
    };
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { scratchRecords: 1 << 15 });
    const scratch = warmer.scratchPath;
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 70_000; i++) warmer.run();        // past the scratch journal's rotation (32 Ki records)
    expect(warmer.turns).to.equal(70_000);
    // Each dry run also read the real next journal slot, free order slots, AAPL's risk entries and
    // both venues' send buffers (reads only: the state compared below did not move).
    expect(warmer.realTouches).to.equal(70_000);
    expect(sendPathTouches).to.equal(2 * 70_000);
    // ...and ran both real sessions' send paths with zero bytes (warmSend), counted as run.
    expect([sendPathWarms, warmer.sendWarms]).to.deep.equal([2 * 70_000, 2 * 70_000]);
    // ...and stored back, unchanged, the real journal's next ring slot and written position (ownLines).
    expect(stack.journal.warmedSlots).to.equal(70_000);
    // Each dry run's shadow parent and child were ended and their slots reused: none leaked.
    expect((warmer as unknown as { om: { freeSlots: number } }).om.freeSlots).to.equal(6);
    // The scratch journal's file is unlinked once mapped: nothing for a killed process to leave behind.
    expect(fs.existsSync(scratch)).to.equal(false);
    const after = {
      sent: sent.length, syscalls: syscalls.length, records: stack.journal.records, lastRecordNo: stack.journal.lastRecordNo,
      size: fs.statSync(stack.journal.path).size, daily: stack.risk.usedDailyNotional, aapl: stack.risk.usedSymbolNotional('AAPL'),
      open: stack.orderManager.openOrders('AAPL'), free: stack.orderManager.freeSlots,
    };
    expect(after).to.deep.equal(before);
    // The throttle too: the real token bucket still lets the next order through.
    expect(stack.router.submitOrder(order('AAPL'))).to.be.at.least(0);
    expect(sent).to.have.length(4);
    warmer.close();
  });

  it('keep-warm touchReal: false leaves the real objects alone (the shadow-only dry run, for side-by-side measurements)', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { touchReal: false });
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 100; i++) warmer.run();
    expect([warmer.turns, warmer.realTouches, sendPathTouches, stack.journal.warmedSlots, sendPathWarms]).to.deep.equal([100, 0, 0, 0, 0]);
    warmer.close();
  });

  it('keep-warm warmSend: false reads the real send rings but runs no zero-byte send', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { warmSend: false });
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 100; i++) warmer.run();
    expect([warmer.turns, warmer.realTouches, sendPathTouches, sendPathWarms, warmer.sendWarms]).to.deep.equal([100, 100, 200, 0, 0]);
    warmer.close();
  });

  it('keep-warm reads the real smart router\'s route lines each dry run, and writes nothing there: the next order routes as before', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const sor = stack.smartRouter;
    // A real order first: its slices are in the router's arrays and must stay as they were.
    stack.router.submitOrder(order('AAPL'));
    const slices = [Array.from(sor.sliceVenue), Array.from(sor.sliceQty)];
    const touch = sor.touchRoute;
    let touches = 0;
    sor.touchRoute = (symbol: string) => { touches++; expect(symbol).to.equal('AAPL'); return touch.call(sor, symbol); };
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowRoute: false });
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 1000; i++) warmer.run();
    expect([warmer.realTouches, touches]).to.deep.equal([1000, 1000]);
    expect([Array.from(sor.sliceVenue), Array.from(sor.sliceQty)]).to.deep.equal(slices);
    expect(sor.touchRoute.call(sor, 'AAPL') > 0 && touch.call(sor, 'NEVER') > 0).to.equal(true);
    // touchReal: false leaves it alone too.
    const quiet = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowRoute: false, touchReal: false });
    quiet.noteOrder(order('AAPL'));
    for (let i = 0; i < 10; i++) quiet.run();
    expect(touches).to.equal(1001);
    sent.length = 0;
    expect(stack.router.submitOrder(order('AAPL'))).to.be.at.least(0);
    expect(sent, 'AAPL still split NSDQ/ARCA by the shipped rule').to.have.length(2);
    warmer.close();
    quiet.close();
  });

  it('the order-step probe (TICKPATH_ORDER_STEPS) stamps the same steps of the real order and of the dry run, each in its own table', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const clock = new MonotonicClock();
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { scratchRecords: 1 << 15 });
    new OrderStepProbe('real', stack.router, clock, tcp);
    for (const sh of warmer.shadows) new OrderStepProbe('dry', sh.orderRouter, clock, undefined, sh.transport);
    // MSFT has no routing rule: one child to the default venue (NSDQ, OUCH), as the dry runs' orders.
    for (let i = 0; i < 3; i++) expect(stack.router.submitOrder(order('MSFT'))).to.be.at.least(0);
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 40; i++) warmer.run();            // 20 dry runs a shadow (OUCH, FIX in turn)
    const t = orderStepMedians();
    expect([t.get('real-ouch')?.orders, t.get('dry-ouch')?.orders, t.get('dry-fix44')?.orders]).to.deep.equal([3, 20, 20]);
    // Every step up to the connector is stamped in both; the dry OUCH run through its encoder and
    // the discarding send as well (this test's real connectors are stand-ins with no encoder).
    const upToSendNew = ORDER_STEP_NAMES.indexOf('append>sendNew');
    for (const [kind, last] of [['real-ouch', upToSendNew], ['dry-ouch', ORDER_STEP_NAMES.length - 1]] as const) {
      const p50 = t.get(kind)!.p50Ns;
      for (let i = 0; i <= last; i++) expect(p50[i] >= 0, `${kind} ${ORDER_STEP_NAMES[i]}: ${p50[i]}`).to.equal(true);
    }
    expect(t.get('real-ouch')!.p50Ns[ORDER_STEP_NAMES.indexOf('syscall')] >= 0, 'the real order\'s send(2) through the binding').to.equal(true);
    warmer.close();
  });

  it('keep-warm ownLines: false reads the real journal slot but stores nothing into it', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { ownLines: false });
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 100; i++) warmer.run();
    expect([warmer.turns, warmer.realTouches, stack.journal.warmedSlots]).to.deep.equal([100, 100, 0]);
    warmer.close();
  });

  it('the real objects\' touch methods read and never write: journal file bytes, the send ring, the order table and risk symbols are unchanged', () => {
    // A journal writing straight into its file mapping (fsync always): a store into the next slot would show in the file.
    const jpath = path.join(dir, 'touch.journal');
    const j = OrderJournal.open(jpath, { fsync: 'always', capacityRecords: 4096, growRecords: 1024 });
    const om = new OrderManager({ capacity: 16 });
    const p = om.createParentKey(OrderIdFormat.key(false, 7), 'AAPL', 'B', 100, 1_000_000, 'LIMIT', 'DAY');
    j.appendOrder(JournalRecordType.NEW_PARENT, om, p, null, 0, 0, '');
    const bytes = fs.readFileSync(jpath);
    const free = om.freeSlots;
    const risk = new RiskChecker(loadRoutingConfig(CONFIG).risk, bbo, om);
    let sum = 0;
    for (let i = 0; i < 1000; i++) sum += j.touchNextSlot() + om.touchNextFree() + risk.touchSymbol('AAPL') + risk.touchSymbol('NEVER');
    expect(sum).to.be.greaterThan(0);
    expect(fs.readFileSync(jpath).equals(bytes), 'journal file unchanged').to.equal(true);
    expect([j.lastRecordNo, j.records]).to.deep.equal([1, 1]);
    expect(om.freeSlots).to.equal(free);
    expect(om.symbolIndex('NEVER'), 'touchSymbol interns nothing').to.equal(-1);
    expect(risk.usedSymbolNotional('AAPL')).to.equal(0);
    j.close();
    // The send ring: bytes and the next reserve() offset as they were.
    const ring = new TxRing(1024, 64);
    ring.buf.fill(7);
    const off = ring.reserve();
    ring.commit(null, 40);
    const next = ring.reserve();
    const copy = Buffer.from(ring.buf);
    expect(ring.touchNext(52)).to.be.greaterThan(0);
    expect(ring.buf.equals(copy)).to.equal(true);
    expect(ring.reserve()).to.equal(next);
    expect(next).to.equal(off + 40);
  });

  it('keep-warm runs the real risk code: a dry run against a book with no price takes the refusal path, not the real checker', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const warmer = new OrderPathWarmer(stack, cfg.risk, { bestBid: () => 0, bestAsk: () => 0, entries: () => [] }, dir);
    expect(warmer.run(), 'no symbol with a BBO yet: nothing to dry-run').to.equal(0);
    warmer.noteOrder({ ...order('ZZZZ'), price: 0, ordType: 'MARKET' });
    expect(warmer.run()).to.equal(1);
    expect(stack.risk.stats().reject_NO_REFERENCE_PRICE ?? 0, 'the real checker counted no reject').to.equal(0);
    warmer.close();
  });

  it('split turns: the shadow route and the loopback send(2) each take a later call of their own, as often as unsplit', () => {
    const cfg = loadRoutingConfig(CONFIG);
    // A stand-in for the private loopback connection: counts its turns.
    const socket = { turns: 0, run() { this.turns++; return 1; }, close() {} };
    const shadowRuns = (w: OrderPathWarmer) => w.shadowRuns('ouch') + w.shadowRuns('fix');
    const state = (w: OrderPathWarmer) => [w.turns, shadowRuns(w), socket.turns, w.piecesPending];
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowEvery: 1, socket: socket as never, socketEvery: 2, splitTurns: true });
    expect(warmer.shadows.length, 'a shadow per venue protocol').to.be.greaterThan(0);
    warmer.noteOrder(order('AAPL'));
    expect(warmer.run()).to.equal(1);
    expect(state(warmer), 'the dry run alone; its shadow route left for the next call').to.deep.equal([1, 0, 0, true]);
    expect(warmer.run()).to.equal(1);
    expect(state(warmer), 'the shadow route alone').to.deep.equal([1, 1, 0, false]);
    warmer.run();
    expect(state(warmer), 'second dry run: shadow and socket due').to.deep.equal([2, 1, 0, true]);
    warmer.run();
    expect(state(warmer)).to.deep.equal([2, 2, 0, true]);
    warmer.run();
    expect(state(warmer), 'the loopback send(2) alone').to.deep.equal([2, 2, 1, false]);
    // Over many calls: a shadow run per dry run and a socket turn per two, as unsplit.
    for (let i = 0; i < 5000; i++) warmer.run();
    const [turns, shadows, sockets] = state(warmer) as number[];
    expect(turns + shadows + sockets).to.equal(5005);
    expect(shadows).to.be.within(turns - 1, turns);
    expect(sockets).to.be.within(Math.floor(turns / 2) - 1, Math.floor(turns / 2));
    expect(sent, 'no venue send').to.have.length(0);
    warmer.close();
    // Unsplit (the default): one call does the dry run, its shadow route and its socket turn.
    socket.turns = 0;
    const whole = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowEvery: 1, socket: socket as never, socketEvery: 1 });
    whole.noteOrder(order('AAPL'));
    whole.run();
    expect(state(whole)).to.deep.equal([1, 1, 1, false]);
    whole.close();
  });

  it('split turns: the real objects\' touches come with the dry run\'s last piece, after the shadow route and the loopback send(2), once per dry run', () => {
    const cfg = loadRoutingConfig(CONFIG);
    const events: string[] = [];
    const socket = { turns: 0, run() { this.turns++; events.push('socket'); return 1; }, close() {} };
    const warm = stack.router.warmNextOrder;
    stack.router.warmNextOrder = (s: string) => { events.push('real'); return warm.call(stack.router, s); };
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowEvery: 1, socket: socket as never, socketEvery: 2, splitTurns: true });
    for (const sh of warmer.shadows) {
      const shRun = sh.run;
      sh.run = (r: OrderRequest) => { events.push('shadow'); return shRun.call(sh, r); };
    }
    warmer.noteOrder(order('AAPL'));
    for (let i = 0; i < 5; i++) warmer.run();
    // Dry run 1: its shadow route, then the real touches; dry run 2: shadow, socket, then the real touches.
    expect(events).to.deep.equal(['shadow', 'real', 'shadow', 'socket', 'real']);
    expect([warmer.turns, warmer.realTouches, warmer.nextWarms, warmer.piecesPending]).to.deep.equal([2, 2, 2, false]);
    for (let i = 0; i < 3000; i++) warmer.run();
    expect(warmer.realTouches, 'once per dry run').to.be.within(warmer.turns - 1, warmer.turns);
    warmer.close();
    // realLast: false: with the dry run's first call, as before.
    events.length = 0;
    const first = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowEvery: 1, socket: socket as never, socketEvery: 1, splitTurns: true, realLast: false, shadowRoute: false });
    first.noteOrder(order('AAPL'));
    first.run(); first.run();
    expect(events).to.deep.equal(['real', 'socket']);
    first.close();
    stack.router.warmNextOrder = warm;
  });

  it('the probe hands the risk check what OrderRouter passes it (the symbol index and the journal clock), not just the request', () => {
    const seen: (number | undefined)[][] = [];
    const risk = stack.risk;
    const checkNew = risk.checkNew;
    risk.checkNew = (req: OrderRequest, id: string | null, sym?: number, nowMs?: number) => { seen.push([sym, nowMs]); return checkNew.call(risk, req, id, sym, nowMs); };
    const probe = new OrderPathProbe(stack, new MonotonicClock(), tcp);
    probe.begin();
    expect(stack.router.submitOrder(order('MSFT'))).to.be.at.least(0);
    expect(probe.end({})).to.be.greaterThan(0);
    expect(seen).to.have.length(1);
    expect(seen[0][0], 'symbol index').to.equal(stack.orderManager.symbolIndex('MSFT'));
    expect(seen[0][1], 'the journal clock (ms)').to.be.a('number').and.greaterThan(0);
  });

  it('the probe splits order_send into risk, journal, encode and send(2), and "order out" is send(2) returned', () => {
    const clock = new MonotonicClock();
    const rec = (name: string) => new LatencyRecorder({ name, highestTrackableNs: 60_000_000_000 });
    const latency = {
      order_ack: rec('order_ack'), order_fill: rec('order_fill'), md_to_order: rec('md_to_order'), order_send: rec('order_send'),
      order_risk: rec('order_risk'), order_journal: rec('order_journal'), order_encode: rec('order_encode'), order_syscall: rec('order_syscall'),
      md_to_send_call: rec('md_to_send_call'), dec_to_send_call: rec('dec_to_send_call'),
    };
    const c = new Float64Array(16);
    const K = { orders_accepted: 0, orders_rejected: 1, orders_acked: 2, orders_partially_filled: 3, orders_filled: 4, orders_cancelled: 5, venue_rejects: 6, orders_sent: 7 };
    const probe = new OrderPathProbe(stack, clock, tcp);
    // The packet behind the orders: on the wire 1 us ago, in the decoder 0.6 us ago.
    const rx = clock.nowNs() - 1000;
    const origin = { decodeTsNs: rx + 400 };
    const sink = attachOrderHandlers(stack.router, { c, K, clock, latency, logger: { info: () => true, warn: () => true } }, () => undefined, { probe, origin });
    // Heartbeats and other sends outside an order are not stamped.
    tcp.tcpSend(1, new Uint8Array(8), 0, 8);
    for (let i = 0; i < 10; i++) sink.sendOrder(order('MSFT'), rx);   // MSFT: one venue, one child
    // A refused order (over max qty) never reaches the wire: no md_to_order, no order_send, no encode.
    sink.sendOrder({ ...order('MSFT'), qty: 10_000_000 }, rx);
    expect(c[K.orders_sent]).to.equal(11);
    expect(c[K.orders_rejected]).to.equal(1);
    for (const n of ['md_to_order', 'md_to_send_call', 'dec_to_send_call', 'order_send', 'order_journal', 'order_encode', 'order_syscall'] as const) {
      expect(latency[n].summary().count, n).to.equal(10);
    }
    expect(latency.order_risk.summary().count, 'risk ran for the refused one too').to.equal(11);
    // The parts fit inside the whole, and the whole inside md_to_order (the market data came 1 us before).
    const max = (n: keyof typeof latency) => latency[n].summary().max;
    const min = (n: keyof typeof latency) => latency[n].summary().min;
    expect(min('md_to_order')).to.be.at.least(1000);
    expect(min('order_send')).to.be.greaterThan(0);
    expect(min('order_syscall')).to.be.greaterThan(0);
    expect(max('order_syscall')).to.be.at.most(max('order_send'));
    // md_to_send_call (bytes handed to send(2)) ends where order_syscall begins: inside md_to_order,
    // after the market data, and the two differ by each order's send(2) (HdrHistogram rounding aside).
    expect(min('md_to_send_call')).to.be.at.least(1000);
    expect(max('md_to_send_call')).to.be.at.most(max('md_to_order'));
    const sum = (n: keyof typeof latency) => latency[n].summary().mean * latency[n].summary().count;
    // dec_to_send_call is md_to_send_call from the decoder entry: 400 ns less, order by order.
    expect(min('dec_to_send_call')).to.be.at.least(600);
    expect(Math.abs(sum('md_to_send_call') - sum('dec_to_send_call') - 10 * 400)).to.be.below(0.02 * sum('md_to_send_call') + 10 * 64);
    expect(Math.abs(sum('md_to_order') - sum('md_to_send_call') - sum('order_syscall'))).to.be.below(0.02 * sum('md_to_order') + 10 * 64);
    expect(syscalls.filter((n) => n === 49)).to.have.length(10);
  });
});
