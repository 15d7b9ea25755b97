import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadRoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack } from '../../lib/router/router-stack';

// dist/test/router -> repository root
const CONFIG = path.resolve(__dirname, '../../../configs/routing_config.yml');

describe('createRouterStack', () => {
  it('builds the stack from the shipped config, gives connectors their journaled sequence, and restores open orders', () => {
    const cfg = loadRoutingConfig(CONFIG);
    cfg.journal.path = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-create-')), 'sub', 'orders.journal');
    const sent: string[] = [];
    const seqs: string[] = [];
    const connectorFor = (v: { name: string }, lastSeq: number) => {
      seqs.push(`${v.name}:${lastSeq}`);
      return {
        name: v.name, protocol: 'ouch' as const, resendsIdempotently: true, listener: undefined as unknown,
        setListener(l: unknown) { this.listener = l; }, connect: async () => undefined, close: async () => undefined,
        sendNew: (o: { clOrdId: string }) => { sent.push(o.clOrdId); return true; },
        sendCancel: () => true, sendReplace: () => true, stats: () => ({}),
      };
    };
    const events: string[] = [];
    const listener = new Proxy({}, { get: (_t, k) => (...a: unknown[]) => events.push(`${String(k)} ${a[0]} ${a[1]}`) });
    const deps = { connectorFor, bbo: { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, listener: listener as never };

    const a = createRouterStack(cfg, deps);
    expect(a.restoredOrders).to.equal(0);
    expect(seqs).to.deep.equal(['NSDQ:0', 'ARCA:0']);
    a.router.sendOrder({ clOrdId: 'CFG1', symbol: 'AAPL', side: 'B', qty: 1000, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' });
    expect(events[0]).to.equal('onAccepted CFG1 2');              // AAPL rule: 60/40 NSDQ/ARCA
    expect(sent).to.have.length(2);
    a.router.recordVenueSeq('ARCA', 99);
    a.router.sendOrder({ clOrdId: 'CFG2', symbol: 'AAPL', side: 'B', qty: 10_001, price: 1, ordType: 'LIMIT', tif: 'DAY' });
    expect(events.at(-1)).to.equal('onRejected CFG2 MAX_ORDER_QTY');
    a.journal.close();

    seqs.length = 0;
    const b = createRouterStack(cfg, deps);
    expect(seqs).to.deep.equal(['NSDQ:0', 'ARCA:99']);
    expect(b.restoredOrders).to.equal(1);
    expect(b.orderManager.openOrders('AAPL')).to.equal(1);
    b.journal.close();
  });

  it('connect() after a restart resends what was unanswered, journals venue sequences per batch, and releases risk as the venue settles', async () => {
    const cfg = loadRoutingConfig(CONFIG);
    cfg.journal.path = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-resume-')), 'orders.journal');
    type Fake = { name: string; lastSequence: number; listener: any; sent: string[] };
    const fakes: Fake[] = [];
    const connectorFor = (v: { name: string }, lastSeq: number) => {
      const f = {
        name: v.name, protocol: 'ouch' as const, resendsIdempotently: true, listener: undefined as any, lastSequence: lastSeq, sent: [] as string[],
        setListener(l: unknown) { this.listener = l; }, connect: async () => undefined, close: async () => undefined,
        sendNew(o: { clOrdId: string }) { f.sent.push(o.clOrdId); return true; },
        sendCancel: () => true, sendReplace: () => true, stats: () => ({}),
      };
      fakes.push(f);
      return f;
    };
    const listener = new Proxy({}, { get: () => () => undefined });
    const deps = { connectorFor, bbo: { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, listener: listener as never };

    const a = createRouterStack(cfg, deps);
    await a.connect();
    expect(a.resumed, 'a new journal has nothing to resume').to.equal(null);
    for (let i = 0; i < 3; i++) a.router.sendOrder({ symbol: 'MSFT', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' });
    const [nsdqA] = fakes;
    nsdqA.listener.onAck(nsdqA.sent[0], 'x');
    nsdqA.lastSequence = 7;
    a.router.endOfBatch();
    a.router.endOfBatch();                                   // unchanged: no second record
    expect(a.journal.stats().records).to.equal(3 + 1 + 1);      // a NEW_ORDER each, an ack, the venue sequence
    expect(a.orderManager.openOrders('MSFT')).to.equal(3);
    a.journal.close();                                       // "crash": two MSFT orders unanswered

    fakes.length = 0;
    const b = createRouterStack(cfg, deps);
    expect(fakes[0].lastSequence, 'OUCH logs in after the journaled sequence').to.equal(7);
    expect(b.orderManager.openOrders('MSFT')).to.equal(3);
    await b.connect();
    expect(b.resumed).to.deep.include({ resent: 2, statusRequests: 0, inFlightAtCrash: 2, toReconcile: [] });
    expect(fakes[0].sent).to.deep.equal(nsdqA.sent.slice(1));
    // The venue settles them: one filled, one cancelled; the acked one is cancelled too.
    fakes[0].listener.onAck(nsdqA.sent[1], 'x');
    fakes[0].listener.onFill(nsdqA.sent[1], 100, 1_000_000, 'F1');
    expect(b.router.restoredInFlight()).to.equal(1);
    fakes[0].listener.onCancelled(nsdqA.sent[2], 100, 'user');
    expect(await b.awaitReconciled(Date.now(), 1000)).to.be.at.least(0);
    fakes[0].listener.onCancelled(nsdqA.sent[0], 100, 'user');
    expect(b.orderManager.openOrders('MSFT'), 'settled orders no longer count against the open-order limit').to.equal(0);
    expect(b.orderManager.position('MSFT')).to.equal(100);
    b.journal.close();
  });
});
