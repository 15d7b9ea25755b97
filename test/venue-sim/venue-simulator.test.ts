import { expect } from 'chai';
import { OuchConnector } from '../../lib/router/connectors/ouch-connector';
import { VenueSimulator } from '../../lib/venue-sim/venue-simulator';
import { FixConnector } from '../../lib/router/connectors/fix-connector';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RecordingListener } from '../router/connectors/recording-listener';

describe('VenueSimulator options and faults', function () {
  this.timeout(15000);
  let sim: VenueSimulator | undefined;
  let c: OuchConnector | undefined;

  afterEach(async () => {
    await c?.close();
    await sim?.stop();
    c = undefined;
    sim = undefined;
  });

  async function start(opts: ConstructorParameters<typeof VenueSimulator>[0]): Promise<RecordingListener> {
    sim = new VenueSimulator({ fixPort: null, ouchPort: 0, ...opts });
    await sim.start();
    c = new OuchConnector({ name: 'SIM', host: '127.0.0.1', port: sim.ouchPort, username: 'T', password: 'p' });
    const l = new RecordingListener();
    c.setListener(l);
    await c.connect();
    return l;
  }

  it('validates options with messages naming the option, value and expectation', () => {
    expect(() => new VenueSimulator({ faults: { rejectRate: 1.5 } })).to.throw("VenueSimulator: option 'faults.rejectRate' is 1.5, expected a number between 0 and 1");
    expect(() => new VenueSimulator({ latencyMs: -1 })).to.throw("VenueSimulator: option 'latencyMs' is -1, expected a non-negative integer");
    expect(() => new VenueSimulator({ ouchPort: 70000 })).to.throw("VenueSimulator: option 'ouchPort' is 70000, expected an integer port 0..65535 or null");
  });

  it('rejectRate 1 rejects every new order and burns its token', async () => {
    const l = await start({ faults: { rejectRate: 1 } });
    for (let i = 0; i < 5; i++) { l.track(`J${i}`, 10); c!.sendNew({ clOrdId: `J${i}`, symbol: 'A', side: 'B', qty: 10, price: 100, ordType: 'LIMIT', tif: 'DAY' }); }
    await l.until(() => [...l.orders.values()].every((t) => t.rejected === 1), 'all rejected');
    expect([...l.orders.values()].every((t) => t.acked === 0 && t.terminal.length === 1)).to.equal(true);
    expect(sim!.counters.rejects).to.equal(5);
  });

  it('response latency delays acks by at least latencyMs, and random extra delays keep responses in request order', async () => {
    const l = await start({ latencyMs: 80, faults: { delayMs: 30, delayRate: 0.5, seed: 9 } });
    const acks: string[] = [];
    const base = l.onAck.bind(l);
    l.onAck = (id: string, v: string) => { acks.push(id); base(id, v); };
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) { l.track(`L${i}`, 1); c!.sendNew({ clOrdId: `L${i}`, symbol: 'A', side: 'B', qty: 1, price: 100 + i, ordType: 'LIMIT', tif: 'DAY' }); }
    await l.until(() => acks.length === 10, 'acks');
    expect(Date.now() - t0).to.be.at.least(75);
    expect(acks).to.deep.equal([...Array(10).keys()].map((i) => `L${i}`));
    expect(sim!.counters.delayed).to.be.greaterThan(0);
  });

  it('market orders take liquidity at the resting price and cancel the rest', async () => {
    const l = await start({});
    l.track('S1', 100);
    c!.sendNew({ clOrdId: 'S1', symbol: 'A', side: 'S', qty: 100, price: 105000, ordType: 'LIMIT', tif: 'DAY' });
    l.track('M1', 150);
    const fills: number[] = [];
    const base = l.onFill.bind(l);
    l.onFill = (id, q, p, e) => { if (id === 'M1') fills.push(p); base(id, q, p, e); };
    c!.sendNew({ clOrdId: 'M1', symbol: 'A', side: 'B', qty: 150, price: 0, ordType: 'MARKET', tif: 'DAY' });
    await l.until(() => l.orders.get('M1')!.terminal.length === 1, 'market order done');
    expect(l.orders.get('M1')).to.include({ filled: 100, cancelled: 50 });
    expect(fills).to.deep.equal([105000]);
  });

  it('OUCH and FIX clients trade against each other in one book', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-cross-'));
    const l = await start({ fixPort: 0, fixStoreDir: path.join(dir, 'v') });
    const f = new FixConnector({ name: 'F', host: '127.0.0.1', port: sim!.fixPort, version: 'FIX.4.2', senderCompId: 'FC', targetCompId: 'VENUE',
      storeDir: path.join(dir, 'c'), heartbeatIntervalSec: 1 });
    const fl = new RecordingListener();
    f.setListener(fl);
    try {
      await f.connect();
      l.track('OB', 500);
      c!.sendNew({ clOrdId: 'OB', symbol: 'XYZ', side: 'B', qty: 500, price: 250000, ordType: 'LIMIT', tif: 'DAY' });
      await l.until(() => l.orders.get('OB')!.acked === 1, 'OUCH ack');
      fl.track('FS', 200);
      f.sendNew({ clOrdId: 'FS', symbol: 'XYZ', side: 'S', qty: 200, price: 249000, ordType: 'LIMIT', tif: 'DAY' });
      await fl.until(() => fl.orders.get('FS')!.filled === 200, 'FIX fill');
      await l.until(() => l.orders.get('OB')!.filled === 200, 'OUCH fill');
      expect(sim!.engine.top('XYZ')).to.include({ bid: 250000, bidQty: 300 });
    } finally {
      await f.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
