import { expect } from 'chai';
import { OuchConnector } from '../../../lib/router/connectors/ouch-connector';
import { VenueSimulator, type VenueSimulatorOptions } from '../../../lib/venue-sim/venue-simulator';
import type { VenueOrder } from '../../../lib/router/venue';
import { RecordingListener } from './recording-listener';
import { transportFactory } from '../../../lib/protocols/transport/create-transport';

function order(clOrdId: string, side: 'B' | 'S', qty: number, price: number, tif: 'DAY' | 'IOC' = 'DAY'): VenueOrder {
  return { clOrdId, symbol: 'AAPL', side, qty, price, ordType: 'LIMIT', tif };
}

/** Every connector test runs over both transports; each asserts the one it got (no silent fallback). */
const kTransports = ['native', 'libuv'] as const;
for (const transport of kTransports) describe(`OuchConnector (${transport} transport) against VenueSimulator (SoupBinTCP on 127.0.0.1, ${transport} venue)`, function () {
  this.timeout(15000);
  let sim: VenueSimulator;
  const connectors: OuchConnector[] = [];

  async function setup(opts: VenueSimulatorOptions = {}, user = 'TRADR1'): Promise<[OuchConnector, RecordingListener]> {
    if (!sim) {
      // The venue runs the same transport as the client: native on both ends, or libuv on both.
      sim = new VenueSimulator({ fixPort: null, ouchPort: 0, heartbeatIntervalMs: 200, transport, ...opts });
      await sim.start();
      expect(sim.transportStats().transport).to.equal(transport);
    }
    const c = new OuchConnector({ name: 'SIM', host: '127.0.0.1', port: sim.ouchPort, username: user, password: 'pw',
      heartbeatIntervalMs: 100, serverTimeoutMs: 2000, reconnectDelayMs: 50, transport: transportFactory(transport) });
    const l = new RecordingListener();
    c.setListener(l);
    await c.connect();
    expect(c.stats().transport).to.equal(transport);
    connectors.push(c);
    return [c, l];
  }

  afterEach(async () => {
    for (const c of connectors.splice(0)) await c.close();
    if (sim) await sim.stop();
    (sim as unknown) = undefined;
  });

  it('acks an order, fills it partially then fully against crossing orders', async () => {
    const [c, l] = await setup();
    l.track('BUY1', 300);
    expect(c.sendNew(order('BUY1', 'B', 300, 1000000))).to.equal(true);
    await l.until(() => l.orders.get('BUY1')!.acked === 1, 'ack of BUY1');
    l.track('SELL1', 100);
    c.sendNew(order('SELL1', 'S', 100, 990000));
    await l.until(() => l.orders.get('BUY1')!.filled === 100, 'partial fill of BUY1');
    expect(l.orders.get('BUY1')!.terminal).to.deep.equal([]);
    l.track('SELL2', 500);
    c.sendNew(order('SELL2', 'S', 500, 1000000));
    await l.until(() => l.orders.get('BUY1')!.filled === 300, 'full fill of BUY1');
    expect(l.orders.get('BUY1')!.terminal).to.deep.equal(['filled']);
    expect(l.orders.get('SELL1')!.terminal).to.deep.equal(['filled']);
    expect(l.orders.get('SELL2')!.filled).to.equal(200);
    expect(c.stats().openOrders).to.equal(1); // SELL2 rests with 300
    expect(l.duplicateExecIds).to.deep.equal([]);
  });

  it('cancels a resting order and replaces another (new token, qty and price)', async () => {
    const [c, l] = await setup();
    l.track('B1', 100);
    l.track('B2', 200);
    c.sendNew(order('B1', 'B', 100, 500000));
    c.sendNew(order('B2', 'B', 200, 510000));
    await l.until(() => l.orders.get('B2')!.acked === 1, 'acks');
    expect(c.sendCancel('B1', 'AAPL', 'B', 100)).to.equal(true);
    await l.until(() => l.orders.get('B1')!.cancelled === 100, 'cancel of B1');
    expect(l.orders.get('B1')!.terminal).to.deep.equal(['cancelled']);
    expect(c.sendReplace('B2', 'B2R', 'AAPL', 'B', 150, 520000)).to.equal(true);
    await l.until(() => l.orders.get('B2')!.replacedBy === 'B2R', 'replace of B2');
    expect(sim.engine.top('AAPL')).to.include({ bid: 520000, bidQty: 150 });
    l.track('S1', 150);
    c.sendNew(order('S1', 'S', 150, 520000));
    await l.until(() => (l.orders.get('B2R')?.filled ?? 0) === 150, 'fill of replaced order');
    expect(l.orders.get('B2')!.terminal).to.deep.equal(['replaced']);
    expect(l.orders.get('B2R')!.terminal).to.deep.equal(['filled']);
  });

  it('replace after a partial fill: quantities are total order quantity on both sides of the contract', async () => {
    const [c, l] = await setup();
    l.track('P1', 300);
    c.sendNew(order('P1', 'B', 300, 1000000));
    l.track('PS', 100);
    c.sendNew(order('PS', 'S', 100, 1000000));
    await l.until(() => l.orders.get('P1')!.filled === 100, 'partial fill');
    expect(c.sendReplace('P1', 'P1R', 'AAPL', 'B', 250, 1010000)).to.equal(true);
    await l.until(() => l.orders.get('P1')!.replacedBy === 'P1R', 'replace');
    expect(l.replacedQty).to.deep.equal([['P1R', 250]]);
    expect(sim.engine.top('AAPL')).to.include({ bid: 1010000, bidQty: 150 });
    expect(() => c.sendReplace('P1R', 'P1S', 'AAPL', 'B', 100, 1010000)).to.throw(/leaves 0 shares open/);
    l.track('PS2', 150);
    c.sendNew(order('PS2', 'S', 150, 1010000));
    await l.until(() => l.orders.get('P1R')!.terminal.length === 1, 'P1R filled');
    expect(l.orders.get('P1R')).to.include({ qty: 250, filled: 250, cancelled: 0 });
    expect(c.stats().openOrders).to.equal(0);
  });

  it('IOC remainder is cancelled; a reused token is ignored, as OUCH does', async () => {
    const [c, l] = await setup();
    l.track('I1', 100);
    c.sendNew(order('I1', 'B', 100, 100, 'IOC'));
    await l.until(() => l.orders.get('I1')!.cancelled === 100, 'IOC cancel');
    l.track('D1', 10);
    c.sendNew(order('D1', 'B', 10, 100));
    c.sendNew(order('D1', 'B', 10, 100));
    await l.until(() => sim.counters.duplicatesIgnored === 1, 'duplicate ignored');
    expect(l.orders.get('D1')).to.include({ acked: 1, rejected: 0 });
  });

  it('returns false from every send before connect and after close', async () => {
    const c = new OuchConnector({ name: 'X', host: '127.0.0.1', port: 1, username: 'u', password: 'p', transport: transportFactory(transport) });
    expect(c.sendNew(order('A', 'B', 1, 1))).to.equal(false);
    expect(c.sendCancel('A', 'AAPL', 'B', 1)).to.equal(false);
    expect(c.sendReplace('A', 'B', 'AAPL', 'B', 1, 1)).to.equal(false);
  });

  it('rejects connect with ERR_SOUP_LOGIN_REJECTED on a bad password', async () => {
    sim = new VenueSimulator({ fixPort: null, ouchPort: 0, users: { GOOD: 'secret' } });
    await sim.start();
    const c = new OuchConnector({ name: 'SIM', host: '127.0.0.1', port: sim.ouchPort, username: 'GOOD', password: 'wrong', transport: transportFactory(transport) });
    const l = new RecordingListener();
    c.setListener(l);
    let err: unknown;
    try { await c.connect(); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'ERR_SOUP_LOGIN_REJECTED');
    expect(l.states.at(-1)![0]).to.equal('FAILED');
  });

  it('recovers from injected disconnects: every order ends in exactly one terminal state, no execution double-counted', async () => {
    const [c, l] = await setup({ faults: { dropAfterMessages: 7, maxDrops: 3, seed: 42 } });
    const n = 40;
    let sentShares = 0;
    for (let i = 0; i < n; i++) {
      const id = `R${i}`;
      const side = i % 2 === 0 ? 'B' : 'S';
      const qty = 100 + (i % 3) * 50;
      l.track(id, qty);
      // Wait out any reconnect: sends are refused while the session is down.
      await l.until(() => c.sendNew(order(id, side, qty, 1000000)), `session up to send ${id}`);
      sentShares += side === 'B' ? qty : -qty;
    }
    // Take whatever is left off the book so every order terminates.
    await l.until(() => [...l.orders.values()].every((t) => t.acked + t.rejected >= 1), 'all acks');
    for (const [id, t] of l.orders) {
      if (t.terminal.length === 0) await l.until(() => c.sendCancel(id, 'AAPL', 'B', t.qty - t.filled), `cancel ${id}`);
    }
    await l.until(() => [...l.orders.values()].every((t) => t.terminal.length > 0), 'all orders terminal', 8000);
    for (const [id, t] of l.orders) {
      expect(t.terminal, id).to.have.length(1);
      expect(t.filled + t.cancelled, id).to.equal(t.qty);
    }
    const bought = [...l.orders].filter(([id]) => Number(id.slice(1)) % 2 === 0).reduce((s, [, t]) => s + t.filled, 0);
    const sold = [...l.orders].filter(([id]) => Number(id.slice(1)) % 2 === 1).reduce((s, [, t]) => s + t.filled, 0);
    expect(bought).to.equal(sold);
    expect(bought).to.equal(sim.counters.executedQty / 2);
    expect(l.duplicateExecIds).to.deep.equal([]);
    expect(sim.counters.drops).to.equal(3);
    expect(c.stats().reconnects).to.equal(3);
    expect(c.stats().filledQty).to.equal(bought + sold);
    void sentShares;
  });

  it('recovers messages lost in transit (sequence gap) by re-logging in from the next expected sequence', async () => {
    const [c, l] = await setup({ faults: { gapEvery: 5, seed: 7 } });
    for (let i = 0; i < 12; i++) {
      const id = `G${i}`;
      l.track(id, 100);
      await l.until(() => c.sendNew(order(id, i % 2 ? 'S' : 'B', 100, 1000000)), `session up to send ${id}`);
    }
    await l.until(() => [...l.orders.values()].every((t) => t.terminal.length === 1), 'all 12 filled', 8000);
    expect(sim.counters.gaps).to.be.greaterThan(0);
    expect(c.stats().reconnects).to.be.greaterThan(0);
    for (const t of l.orders.values()) expect(t.filled).to.equal(100);
    expect(l.duplicateExecIds).to.deep.equal([]);
    expect(c.nextExpectedSeq - 1).to.equal(sim.counters.acks + sim.counters.executions);
  });

  it('reports LOGGED_OUT when the venue ends the session', async () => {
    const [, l] = await setup();
    sim.endOfDay();
    await l.until(() => l.states.some(([s]) => s === 'LOGGED_OUT'), 'LOGGED_OUT');
  });
});
