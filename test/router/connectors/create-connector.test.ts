import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createVenueConnector } from '../../../lib/router/connectors/create-connector';
import { VenueSimulator } from '../../../lib/venue-sim/venue-simulator';
import { RecordingListener } from './recording-listener';

describe('createVenueConnector (routing_config.yml venue entries)', function () {
  this.timeout(15000);
  it('builds OUCH, FIX 4.2 and FIX 4.4 connectors that log in to the simulator', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-create-'));
    const sim = new VenueSimulator({ ouchPort: 0, fixPort: 0, fixCompId: 'ARCA', fixStoreDir: path.join(dir, 'v') });
    const { ouchPort, fixPort } = await sim.start();
    try {
      for (const [protocol, port] of [['ouch', ouchPort], ['fix42', fixPort], ['fix44', fixPort]] as const) {
        const c = createVenueConnector({ name: `V-${protocol}`, protocol, host: '127.0.0.1', port, senderId: 'TPATH1', targetId: 'ARCA', heartbeatIntervalS: 1 },
          { fixStoreDir: path.join(dir, 'c') });
        expect(c.protocol).to.equal(protocol);
        expect(c.name).to.equal(`V-${protocol}`);
        const l = new RecordingListener();
        c.setListener(l);
        await c.connect();
        expect(c.stats().transport, 'native by default when the addon is built').to.equal('native');
        l.track('K1', 5);
        expect(c.sendNew({ clOrdId: 'K1', symbol: 'AAPL', side: 'B', qty: 5, price: 1000, ordType: 'LIMIT', tif: 'IOC' })).to.equal(true);
        await l.until(() => l.orders.get('K1')!.cancelled === 5, `${protocol} IOC cancel`);
        await c.close();
      }
    } finally {
      await sim.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
