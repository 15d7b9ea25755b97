/**
 * Order Status Request (35=H) between FixConnector and the simulator's FIX front end: what a
 * restarted router uses to settle a FIX order it never heard back about. Exact events.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VenueSimulator } from '../../lib/venue-sim/venue-simulator';
import { FixConnector } from '../../lib/router/connectors/fix-connector';
import type { VenueListener, VenueOrder } from '../../lib/router/venue';

const until = async (what: string, cond: () => boolean, ms = 10000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

for (const version of ['FIX.4.2', 'FIX.4.4'] as const) {
  describe(`Order Status Request against the venue simulator (${version})`, () => {
    let sim: VenueSimulator;
    let conn: FixConnector;
    const events: string[] = [];
    const listener: VenueListener = {
      onAck: (id) => events.push(`ack ${id}`), onReject: (id, r) => events.push(`reject ${id} ${r}`),
      onFill: (id, q, p) => events.push(`fill ${id} ${q}@${p}`), onCancelled: (id, q) => events.push(`cancelled ${id} ${q}`),
      onReplaced: () => undefined, onSessionState: () => undefined,
    };
    const order = (clOrdId: string, side: 'B' | 'S', qty: number): VenueOrder => ({ clOrdId, symbol: 'MSFT', side, qty, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' });

    before(async () => {
      sim = new VenueSimulator({ ouchPort: null, fixPort: 0 });
      const { fixPort } = await sim.start();
      conn = new FixConnector({ name: 'V', host: '127.0.0.1', port: fixPort, version, senderCompId: 'STAT', targetCompId: 'VENUE',
        heartbeatIntervalSec: 30, storeDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-status-')), reconnectAttempts: 0, resetOnLogon: true });
      conn.setListener(listener);
      await conn.connect();
    });
    after(async () => { await conn.close(); await sim.stop(); });

    it('answers with ExecType=I: the fills not yet counted, a cancel, or an ack for a resting order', async () => {
      conn.sendNew(order('S1', 'S', 100));                    // resting sell
      conn.sendNew(order('B1', 'B', 60));                     // fills 60 against it
      conn.sendNew(order('B2', 'B', 10));                     // fills 10
      conn.sendCancel('S1', 'MSFT', 'S', 30);
      await until('cancel of S1', () => events.includes('cancelled S1 30'));
      events.length = 0;
      // As after a restart that had counted 20 of B1's shares and nothing else.
      for (const [o, filled] of [[order('B1', 'B', 60), 20], [order('B2', 'B', 10), 0], [order('S1', 'S', 100), 70]] as const) {
        expect(conn.requestStatus(o, filled)).to.equal(true);
      }
      await until('three status answers', () => conn.stats().statusReplies === 3);
      expect(events).to.deep.equal([
        'ack B1', 'fill B1 40@1000000',
        'ack B2', 'fill B2 10@1000000',
        'ack S1', 'cancelled S1 30',
      ]);
    });

    it('an order the venue never received is sent once, with the same ClOrdID', async () => {
      events.length = 0;
      expect(conn.requestStatus(order('N1', 'B', 5), 0)).to.equal(true);
      await until('N1 acked', () => events.includes('ack N1'));
      expect(events).to.deep.equal(['ack N1']);
      expect(sim.orderRecord(`F:${version}:STAT`, 'N1')).to.include({ qty: 5, state: 'ACKNOWLEDGED', duplicates: 0 });
    });
  });
}
