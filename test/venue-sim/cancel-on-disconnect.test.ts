/**
 * Cancel on disconnect, end to end: `tickpath venue-sim` as a child process, our OUCH and FIX
 * connectors as clients. A session that drops without Logout has its open orders cancelled by the
 * venue; the connector reconnects and receives those cancels through normal recovery (FIX:
 * ResendRequest; OUCH: replay from its next expected sequence), as ordinary venue cancels.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixConnector } from '../../lib/router/connectors/fix-connector';
import { OuchConnector } from '../../lib/router/connectors/ouch-connector';
import { RecordingListener } from '../router/connectors/recording-listener';

const kApp = path.join(__dirname, '..', '..', 'apps', 'venue-sim.js');
const kWait = 20000;

async function startSim(args: string[]): Promise<{ child: ChildProcess; ouchPort: number; fixPort: number; out: () => string }> {
  const child = spawn(process.execPath, [kApp, '--ouch-port', '0', '--fix-port', '0', '--heartbeat-ms', '1000', '--verbose', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const t0 = Date.now();
  while (!/FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)/.test(out)) {
    if (Date.now() - t0 > kWait || child.exitCode !== null) { child.kill('SIGTERM'); throw new Error(`venue-sim did not start: ${out}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child, out: () => out,
    ouchPort: Number(/SoupBinTCP listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]),
    fixPort: Number(/FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]),
  };
}

async function stopSim(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  child.kill('SIGTERM');
  return exited;
}

describe('cancel on disconnect (tickpath venue-sim child process)', function () {
  this.timeout(90000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-cod-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function rest(c: FixConnector | OuchConnector, l: RecordingListener, id: string): void {
    l.track(id, 100);
    expect(c.sendNew({ clOrdId: id, symbol: 'COD', side: 'B', qty: 100, price: 10000, ordType: 'LIMIT', tif: 'DAY' })).to.equal(true);
  }

  it('FIX, venue-wide --cancel-on-disconnect: a dropped session\'s resting orders come back cancelled after reconnect; a Logout cancels nothing', async () => {
    const sim = await startSim(['--cancel-on-disconnect']);
    try {
      const c = new FixConnector({ name: 'SIM', host: '127.0.0.1', port: sim.fixPort, version: 'FIX.4.4', senderCompId: 'COD1', targetCompId: 'VENUE',
        storeDir: path.join(dir, 'fix'), heartbeatIntervalSec: 1, reconnectDelayMs: 100 });
      const l = new RecordingListener();
      c.setListener(l);
      await c.connect();
      rest(c, l, 'C1');
      rest(c, l, 'C2');
      await l.until(() => l.orders.get('C2')!.acked === 1, 'acks', kWait);
      c.dropConnection();
      await l.until(() => l.orders.get('C1')!.cancelled === 100 && l.orders.get('C2')!.cancelled === 100, 'cancels after reconnect', kWait);
      expect(l.orders.get('C1')!.terminal).to.deep.equal(['cancelled']);
      expect(c.stats().openOrders).to.equal(0);
      expect(sim.out()).to.match(/cancel on disconnect: 2 open orders cancelled/);
      rest(c, l, 'C3');
      await l.until(() => l.orders.get('C3')!.acked === 1, 'ack of C3', kWait);
      await c.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(l.orders.get('C3')!.cancelled).to.equal(0);
      expect(sim.out()).to.not.match(/cancel on disconnect: 1 open orders/);
    } finally {
      expect(await stopSim(sim.child)).to.equal(0);
    }
  });

  it('FIX, per session: without the venue option only a session that sent 8013=Y on Logon is protected', async () => {
    const sim = await startSim([]);
    try {
      const mk = (id: string, cod: boolean) => new FixConnector({ name: id, host: '127.0.0.1', port: sim.fixPort, version: 'FIX.4.2', senderCompId: id, targetCompId: 'VENUE',
        storeDir: path.join(dir, id), heartbeatIntervalSec: 1, reconnectDelayMs: 100, cancelOnDisconnect: cod });
      const a = mk('WITH', true);
      const b = mk('WITHOUT', false);
      const la = new RecordingListener();
      const lb = new RecordingListener();
      a.setListener(la);
      b.setListener(lb);
      await a.connect();
      await b.connect();
      rest(a, la, 'A1');
      rest(b, lb, 'B1');
      await la.until(() => la.orders.get('A1')!.acked === 1, 'ack A1', kWait);
      await lb.until(() => lb.orders.get('B1')!.acked === 1, 'ack B1', kWait);
      a.dropConnection();
      b.dropConnection();
      await la.until(() => la.orders.get('A1')!.cancelled === 100, 'A1 cancelled', kWait);
      await lb.until(() => lb.states.filter(([s]) => s === 'LOGGED_IN').length === 2, 'B reconnected', kWait);
      await new Promise((r) => setTimeout(r, 300));
      expect(lb.orders.get('B1')!.cancelled).to.equal(0);
      await a.close();
      await b.close();
    } finally {
      expect(await stopSim(sim.child)).to.equal(0);
    }
  });

  it('OUCH, --cancel-on-disconnect (per port: OUCH 4.2 has no Login flag): cancels replayed after re-login', async () => {
    const sim = await startSim(['--cancel-on-disconnect']);
    try {
      const c = new OuchConnector({ name: 'SIM', host: '127.0.0.1', port: sim.ouchPort, username: 'COD', password: 'P' });
      const l = new RecordingListener();
      c.setListener(l);
      await c.connect();
      rest(c, l, 'O1');
      await l.until(() => l.orders.get('O1')!.acked === 1, 'ack O1', kWait);
      c.dropConnection();
      await l.until(() => l.orders.get('O1')!.cancelled === 100, 'O1 cancelled after re-login', kWait);
      expect(l.orders.get('O1')!.terminal).to.deep.equal(['cancelled']);
      await c.close();
    } finally {
      expect(await stopSim(sim.child)).to.equal(0);
    }
  });
});
