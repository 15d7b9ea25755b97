/**
 * The native session transport: sessions that do not need the event loop.
 *
 * The venue runs in another process (`tickpath venue-sim`) so that this thread can block its own
 * event loop in a busy loop that only calls connector.poll(): acks, fills and heartbeats still
 * flow, which is impossible over libuv (the libuv case is run too, and gets nothing until the
 * loop is released). Heartbeats, a silent server's timeout and the reconnect after it are checked
 * against a bare SoupBinTCP server that counts what the client sends.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { OuchConnector } from '../../../lib/router/connectors/ouch-connector';
import { FixConnector } from '../../../lib/router/connectors/fix-connector';
import { createVenueConnector } from '../../../lib/router/connectors/create-connector';
import { transportFactory } from '../../../lib/protocols/transport/create-transport';
import { NativeTcpTransport } from '../../../lib/protocols/transport/native-tcp-transport';
import {
  SoupFrameParser, encodeLoginAccepted, kSoupLoginRequest, kSoupClientHeartbeat,
} from '../../../lib/protocols/soupbin/soupbintcp';
import type { VenueConnector } from '../../../lib/router/venue';
import { RecordingListener } from './recording-listener';

const kVenueSim = path.join(__dirname, '..', '..', '..', 'apps', 'venue-sim.js');

async function startVenueSim(args: string[]): Promise<{ child: ChildProcess; ouchPort: number; fixPort: number }> {
  const child = spawn(process.execPath, [kVenueSim, '--ouch-port', '0', '--fix-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const t0 = Date.now();
  for (;;) {
    const m = /SoupBinTCP listening on 127\.0\.0\.1:(\d+)[\s\S]*FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { child, ouchPort: Number(m[1]), fixPort: Number(m[2]) };
    if (Date.now() - t0 > 20000 || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error(`venue-sim did not start: ${out}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

/** Blocks this thread's event loop for up to `ms`, calling only c.poll(); returns when done() or time is up. */
function spinPolling(c: VenueConnector, ms: number, done: () => boolean = () => false): number {
  const t0 = Date.now();
  let turns = 0;
  for (;;) {
    const now = Date.now();
    c.poll!(now);
    turns++;
    if (done() || now - t0 >= ms) return turns;
  }
}

describe('native session transport: no event loop between the kernel and the session', function () {
  this.timeout(60000);
  let venue: { child: ChildProcess; ouchPort: number; fixPort: number };
  let dir: string;

  before(async () => {
    venue = await startVenueSim(['--heartbeat-ms', '200']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-native-tcp-'));
  });
  after(async () => {
    if (venue) await stopChild(venue.child);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the connector factory chooses native by default and libuv when asked', () => {
    const v = { name: 'V', protocol: 'ouch' as const, host: '127.0.0.1', port: venue.ouchPort, senderId: 'U1', targetId: '', heartbeatIntervalS: 1 };
    expect(createVenueConnector(v).transport).to.equal('native');
    expect(createVenueConnector(v).stats().transport).to.equal('native');
    expect(createVenueConnector(v, { transport: 'libuv' }).stats().transport).to.equal('libuv');
    const f = { ...v, protocol: 'fix44' as const, targetId: 'VENUE' };
    expect(createVenueConnector(f, { fixStoreDir: dir }).stats().transport).to.equal('native');
    expect(createVenueConnector(f, { fixStoreDir: dir, transport: 'libuv' }).stats().transport).to.equal('libuv');
    expect(() => transportFactory('tcp' as never)).to.throw(/transport: "tcp" is not 'native', 'libuv' or 'auto'/);
  });

  it('OUCH: acked and filled, with heartbeats both ways, while the event loop is blocked', async () => {
    const c = new OuchConnector({ name: 'SIM', host: '127.0.0.1', port: venue.ouchPort, username: 'BLOCK1', password: 'pw',
      heartbeatIntervalMs: 100, serverTimeoutMs: 2000, transport: transportFactory('native') });
    const l = new RecordingListener();
    c.setListener(l);
    await c.connect();
    try {
      expect(c.stats().transport).to.equal('native');
      const before = c.stats();
      l.track('NB1', 100);
      l.track('NS1', 100);
      // From here until spinPolling returns, nothing runs on the event loop: no timer, no socket event.
      expect(c.sendNew({ clOrdId: 'NB1', symbol: 'AAPL', side: 'B', qty: 100, price: 1000000, ordType: 'LIMIT', tif: 'DAY' })).to.equal(true);
      spinPolling(c, 5000, () => l.orders.get('NB1')!.acked === 1);
      expect(l.orders.get('NB1')!.acked, 'ack read by poll() with the event loop blocked').to.equal(1);
      c.sendNew({ clOrdId: 'NS1', symbol: 'AAPL', side: 'S', qty: 100, price: 1000000, ordType: 'LIMIT', tif: 'DAY' });
      spinPolling(c, 5000, () => l.orders.get('NB1')!.filled === 100 && l.orders.get('NS1')!.filled === 100);
      expect(l.orders.get('NB1')!.terminal).to.deep.equal(['filled']);
      expect(l.orders.get('NS1')!.terminal).to.deep.equal(['filled']);
      // Still blocked: the loop's clock drives our heartbeats (100 ms) and reads the venue's (200 ms).
      const t1 = Date.now();
      spinPolling(c, 5000, () => Number(c.stats().heartbeatsIn) - Number(before.heartbeatsIn) >= 3 && Date.now() - t1 >= 1000);
      const after = c.stats();
      expect(Number(after.heartbeatsOut) - Number(before.heartbeatsOut)).to.be.at.least(5);
      expect(Number(after.heartbeatsIn) - Number(before.heartbeatsIn)).to.be.at.least(3);
    } finally {
      await c.close();
    }
  });

  it('libuv (the control): the same blocked loop reads nothing until it yields', async () => {
    const c = new OuchConnector({ name: 'SIM', host: '127.0.0.1', port: venue.ouchPort, username: 'BLOCK2', password: 'pw',
      heartbeatIntervalMs: 100, serverTimeoutMs: 2000, transport: transportFactory('libuv') });
    const l = new RecordingListener();
    c.setListener(l);
    await c.connect();
    try {
      expect(c.stats().transport).to.equal('libuv');
      l.track('LB1', 100);
      c.sendNew({ clOrdId: 'LB1', symbol: 'MSFT', side: 'B', qty: 100, price: 1000000, ordType: 'LIMIT', tif: 'DAY' });
      spinPolling(c, 300, () => l.orders.get('LB1')!.acked === 1);
      expect(l.orders.get('LB1')!.acked, 'libuv delivers only on the event loop').to.equal(0);
      await l.until(() => l.orders.get('LB1')!.acked === 1, 'ack once the loop runs');
    } finally {
      await c.close();
    }
  });

  for (const version of ['FIX.4.2', 'FIX.4.4'] as const) {
    it(`${version}: acked and filled, and heartbeats sent, while the event loop is blocked`, async () => {
      const c = new FixConnector({ name: 'SIMFIX', host: '127.0.0.1', port: venue.fixPort, version, senderCompId: `BLK${version.slice(-1)}`,
        targetCompId: 'VENUE', storeDir: path.join(dir, 'fix'), heartbeatIntervalSec: 1, resetOnLogon: true, transport: transportFactory('native') });
      const l = new RecordingListener();
      c.setListener(l);
      await c.connect();
      try {
        expect(c.stats().transport).to.equal('native');
        l.track('FB1', 100);
        l.track('FS1', 100);
        c.sendNew({ clOrdId: 'FB1', symbol: 'IBM', side: 'B', qty: 100, price: 1000000, ordType: 'LIMIT', tif: 'DAY' });
        spinPolling(c, 5000, () => l.orders.get('FB1')!.acked === 1);
        expect(l.orders.get('FB1')!.acked).to.equal(1);
        c.sendNew({ clOrdId: 'FS1', symbol: 'IBM', side: 'S', qty: 100, price: 1000000, ordType: 'LIMIT', tif: 'DAY' });
        spinPolling(c, 5000, () => l.orders.get('FB1')!.filled === 100 && l.orders.get('FS1')!.filled === 100);
        expect(l.orders.get('FS1')!.terminal).to.deep.equal(['filled']);
        const hb = c.session.counters.heartbeatsOut;
        const inBefore = c.session.counters.messagesIn;
        spinPolling(c, 2500);
        expect(c.session.counters.heartbeatsOut - hb, 'heartbeats from the loop clock').to.be.at.least(1);
        expect(c.session.counters.messagesIn - inBefore, "the venue's heartbeats read by poll()").to.be.at.least(1);
        expect(c.session.isLoggedIn).to.equal(true);
      } finally {
        await c.close();
      }
    });
  }
});

describe('native session transport: heartbeats, a silent server and the reconnect', function () {
  this.timeout(30000);

  it('sends heartbeats the server sees, drops a silent server after serverTimeoutMs, reconnects and logs in again', async () => {
    // A bare SoupBinTCP server: accepts every login, then never says a word; counts client heartbeats.
    const seen = { logins: 0, heartbeats: 0 };
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      const parser = new SoupFrameParser((type) => {
        if (type === kSoupLoginRequest) {
          seen.logins++;
          const b = Buffer.alloc(64);
          s.write(b.subarray(0, encodeLoginAccepted(b, 0, 'QUIET', 1)));
        } else if (type === kSoupClientHeartbeat) seen.heartbeats++;
      });
      s.on('data', (d: Buffer) => parser.push(d));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const c = new OuchConnector({ name: 'QUIET', host: '127.0.0.1', port, username: 'U', password: 'P',
      heartbeatIntervalMs: 50, serverTimeoutMs: 400, reconnectDelayMs: 20, reconnectAttempts: 3, transport: transportFactory('native') });
    const l = new RecordingListener();
    c.setListener(l);
    try {
      await c.connect();
      expect(c.stats().transport).to.equal('native');
      // The owner's loop: poll every event-loop turn, as the router stage does.
      const t0 = Date.now();
      while (Date.now() - t0 < 10000 && !(Number(c.stats().reconnects) >= 1 && seen.logins >= 2 && seen.heartbeats >= 4)) {
        c.poll(Date.now());
        await new Promise((r) => setImmediate(r));
      }
      expect(seen.heartbeats, 'client heartbeats seen by the server').to.be.at.least(4);
      const silent = l.states.find(([s, d]) => s === 'DISCONNECTED' && /server silent for \d+ ms \(timeout 400 ms\)/.test(d));
      expect(silent, JSON.stringify(l.states)).to.not.equal(undefined);
      expect(seen.logins).to.be.at.least(2);
      expect(Number(c.stats().reconnects)).to.be.at.least(1);
      expect(l.states.filter(([s]) => s === 'LOGGED_IN').length).to.be.at.least(2);
    } finally {
      await c.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('reports a refused connect with the errno, and SO_BUSY_POLL as set or refused', async () => {
    const t = new NativeTcpTransport({ busyPollUs: 50, idlePollMs: 0 });
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    let closed: [string, string | undefined] | null = null;
    t.connect('127.0.0.1', port, { onConnect() {}, onData() {}, onClose(reason, errno) { closed = [reason, errno]; } });
    const t0 = Date.now();
    while (!closed && Date.now() - t0 < 5000) { t.poll(); await new Promise((r) => setImmediate(r)); }
    expect(closed).to.deep.equal(['socket error: ECONNREFUSED', 'ECONNREFUSED']);
    const s = t.stats();
    expect(s.kind).to.equal('native');
    // 50 when the kernel allowed it, -EPERM (-1) or similar when not: never silently 0.
    expect(s.busyPollUs).to.not.equal(0);
    t.destroy();
  });
});
