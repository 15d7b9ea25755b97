/**
 * A partial OUCH cancel (Canceled with a decrement below the open shares) carries no id of its own,
 * unlike a fill's match number. When the router journaled it but not yet the venue's sequence
 * (sequences are journaled once per batch), the restarted router logs in from the older sequence
 * and the venue replays the same Canceled: it must not take the shares off twice. The journal
 * records each venue message's sequence with the order it changed; the restart drops a replay at
 * or below it and still applies what is new.
 *
 * The venue is a scripted SoupBinTCP server on loopback (the simulator never cancels part of an
 * order); the router is the real stack: journal, OuchConnector over TCP, restart.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SoupBinServer, type SoupSessionStream } from '../../lib/protocols/soupbin/soupbin-server';
import { encodeAccepted, encodeCanceled, kOuchEnterOrder, kEnterOrderToken, kEnterShares, kEnterStock, kEnterPrice } from '../../lib/protocols/ouch/ouch42';
import { parseRoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack, type RouterStack } from '../../lib/router/router-stack';
import { OrderJournal } from '../../lib/router/journal';
import { OrderState } from '../../lib/router/types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, poll: () => void, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    poll();
    await sleep(2);
  }
}

describe('OUCH partial cancel replayed after a restart', function () {
  this.timeout(30000);
  let dir: string;
  let server: SoupBinServer;
  let stream: SoupSessionStream | null = null;
  const stacks: RouterStack[] = [];

  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-replayed-cancel-')); });
  afterEach(async () => {
    for (const s of stacks.splice(0)) await s.close().catch(() => undefined);
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a Canceled the venue replays from before the restart is not applied twice; a new one is', async () => {
    const out = Buffer.alloc(128);
    // Each Enter Order: Accepted, then 30 of its shares Canceled (the order stays open).
    server = new SoupBinServer({ session: 'DAY1' }, {
      authenticate: () => true,
      onUnsequenced: (conn, buf, off) => {
        if (buf[off] !== kOuchEnterOrder) return;
        stream = server.streamFor(conn.username);
        const token = buf.toString('latin1', off + kEnterOrderToken, off + kEnterOrderToken + 14).trim();
        const shares = buf.readUInt32BE(off + kEnterShares);
        stream.publish(out.subarray(0, encodeAccepted(out, 0, 1, { token, buySell: 0x42, shares, stock: buf.toString('latin1', off + kEnterStock, off + kEnterStock + 8).trim(),
          price: buf.readUInt32BE(off + kEnterPrice), tif: 99998, firm: '', orderRef: 7 })));
        stream.publish(out.subarray(0, encodeCanceled(out, 0, 2, token, 30, 0x55)));
      },
    });
    const port = await server.listen(0);
    const file = path.join(dir, 'routing_config.yml');
    fs.writeFileSync(file, `routing:
  mode: rules
  default_venue: NSDQ
  order_capacity: 64
  journal: { path: ./orders.journal, fsync: never }
  venues:
    - { name: NSDQ, protocol: ouch, host: 127.0.0.1, port: ${port}, sender_id: RC1, target_id: NSDQ, heartbeat_interval_s: 1 }
  rules: {}
  risk: { max_order_qty: 10000, max_order_notional: 1000000, max_daily_notional: 50000000, max_symbol_notional: 10000000,
          max_open_orders_per_symbol: 100, price_collar_bps: 0, max_orders_per_second: 100 }
`);
    const cfg = parseRoutingConfig(fs.readFileSync(file, 'utf8'), file);
    const listener = new Proxy({}, { get: () => () => undefined }) as never;
    const make = (): RouterStack => {
      const s = createRouterStack(cfg, { bbo: { bestBid: () => 0, bestAsk: () => 0 }, listener, connector: { reconnectAttempts: 0 } });
      stacks.push(s);
      return s;
    };
    const poll = (s: RouterStack) => () => { for (const c of s.connectors) c.poll?.(Date.now()); };

    const a = make();
    await a.connect();
    const id = a.router.sendOrder({ clOrdId: 'RC-1', symbol: 'AAPL', side: 'B', qty: 100, price: 100000, ordType: 'LIMIT', tif: 'DAY' });
    expect(id).to.equal('RC-1');
    const slotA = a.orderManager.liveChildSlots()[0];
    await until('the partial cancel', () => a.orderManager.cancelledQty(slotA) === 30, poll(a));
    // Killed before the batch end journaled the venue's sequence: the journal names none.
    a.journal.close();
    for (const c of a.connectors) (c as unknown as { dropConnection(): void }).dropConnection();
    stacks.splice(stacks.indexOf(a), 1);
    const atCrash = OrderJournal.recover(path.join(dir, 'orders.journal'));
    expect(atCrash.venueSeqs.get('NSDQ')).to.equal(undefined);
    const journaled = [...atCrash.orders.values()].find((o) => o.kind === 'child')!;
    expect([journaled.cancelled, journaled.venueSeq]).to.deep.equal([30, 2]);

    const b = make();
    expect(b.restoredOrders).to.equal(1);
    await b.connect();   // logs in from sequence 1: the venue replays Accepted and Canceled
    await until('the replay', () => (b.connectors[0].lastSequence ?? 0) >= 2, poll(b));
    const slotB = b.orderManager.liveChildSlots()[0];
    expect(b.orderManager.cancelledQty(slotB), 'the replayed Canceled is not applied again').to.equal(30);
    expect(b.orderManager.state(slotB)).to.equal(OrderState.ACKNOWLEDGED);
    expect(b.router.counters.duplicateVenueEvents).to.equal(1);
    // A new partial cancel, after the restart, is applied.
    stream!.publish(Buffer.from(out.subarray(0, encodeCanceled(out, 0, 3, b.orderManager.idOf(slotB), 20, 0x55))));
    await until('the new partial cancel', () => b.orderManager.cancelledQty(slotB) === 50, poll(b));
    expect(b.orderManager.leavesQty(slotB)).to.equal(50);
    b.router.endOfBatch();
    b.journal.close();
    const final = OrderJournal.recover(path.join(dir, 'orders.journal'));
    const c = [...final.orders.values()].find((o) => o.kind === 'child')!;
    expect([c.cancelled, c.state, c.venueSeq]).to.deep.equal([50, OrderState.ACKNOWLEDGED, 3]);
    expect(final.venueSeqs.get('NSDQ')).to.equal(3);
  });
});
