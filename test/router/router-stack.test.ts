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
});
