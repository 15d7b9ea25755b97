/**
 * Interop: our FIX 4.2 and 4.4 connectors against an independent FIX engine (QuickFIX, via
 * test/interop/quickfix-acceptor built by scripts/build_quickfix_acceptor.sh). Skipped with a reason when the
 * acceptor cannot be built, unless TICKPATH_REQUIRE_QUICKFIX=1, where that is a failure.
 */
import { expect } from 'chai';
import * as path from 'path';
import { FixConnector } from '../../../lib/router/connectors/fix-connector';
import type { FixVersion } from '../../../lib/protocols/fix/fix-codec';
import { QuickfixAcceptor } from '../../helpers/quickfix';
import { RecordingListener } from './recording-listener';
import { transportFactory } from '../../../lib/protocols/transport/create-transport';

describe('QuickFIX interop (test/interop/quickfix-acceptor)', function () {
  this.timeout(60000);
  let venue: QuickfixAcceptor | undefined;
  let port = 0;
  let dir = '';

  before(async function () {
    venue = await QuickfixAcceptor.start(this, 'QuickFIX interop');
    port = venue.port;
    dir = venue.dir;
  });

  after(async () => {
    if (venue) expect(await venue.stop()).to.equal(0);
  });

  for (const transport of ['native', 'libuv'] as const) for (const version of ['FIX.4.2', 'FIX.4.4'] as FixVersion[]) {
    it(`${version} (${transport} transport): logon, order acked and filled, resting order cancelled, unknown cancel rejected, logout`, async () => {
      const c = new FixConnector({ name: 'QF', host: '127.0.0.1', port, version, senderCompId: 'TICKPATH', targetCompId: 'QFVENUE',
        storeDir: path.join(dir, 'client'), heartbeatIntervalSec: 1, transport: transportFactory(transport) });
      const l = new RecordingListener();
      c.setListener(l);
      await c.connect();
      expect(c.stats().transport).to.equal(transport);
      expect(c.protocol).to.equal(version === 'FIX.4.2' ? 'fix42' : 'fix44');
      l.track('F1', 300);
      expect(c.sendNew({ clOrdId: 'F1', symbol: 'IBM', side: 'B', qty: 300, price: 1234500, ordType: 'LIMIT', tif: 'DAY' })).to.equal(true);
      await l.until(() => l.orders.get('F1')!.filled === 300, 'fill of F1');
      expect(l.orders.get('F1')).to.include({ acked: 1, rejected: 0 });
      expect(l.orders.get('F1')!.terminal).to.deep.equal(['filled']);
      l.track('H1', 50);
      c.sendNew({ clOrdId: 'H1', symbol: 'HOLD', side: 'S', qty: 50, price: 10000, ordType: 'LIMIT', tif: 'DAY' });
      await l.until(() => l.orders.get('H1')!.acked === 1, 'ack of H1');
      c.sendCancel('H1', 'HOLD', 'S', 50);
      await l.until(() => l.orders.get('H1')!.cancelled === 50, 'cancel of H1');
      c.sendCancel('GONE', 'IBM', 'B', 1);
      await l.until(() => l.rejects.some(([id]) => id === 'GONE'), 'cancel reject');
      expect(c.session.counters.rejectsIn).to.equal(0); // QuickFIX found nothing to reject at session level
      expect(c.stats().badFrames).to.equal(0);
      await c.close();
      expect(l.states.map(([s]) => s)).to.include.members(['LOGGED_IN', 'LOGGED_OUT']);
      const t0 = Date.now();
      while (!venue!.output.includes(`LOGOUT ${version}:QFVENUE->TICKPATH`) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
      expect(venue!.output).to.include(`LOGON ${version}:QFVENUE->TICKPATH`);
      expect(venue!.output).to.include(`LOGOUT ${version}:QFVENUE->TICKPATH`);
    });
  }
});
