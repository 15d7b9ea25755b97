/**
 * FixConnector daily schedule against the venue simulator: at schedule.resetTime the connector
 * logs out and logs on again with ResetSeqNumFlag=Y, both sides starting from 1.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixConnector } from '../../../lib/router/connectors/fix-connector';
import { VenueSimulator } from '../../../lib/venue-sim/venue-simulator';
import { RecordingListener } from './recording-listener';

describe('FixConnector daily session reset (schedule.resetTime)', function () {
  this.timeout(60000);

  it('logs out at the reset time and logs on again from sequence 1; orders flow on the new day', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fix-schedule-'));
    const sim = new VenueSimulator({ ouchPort: null, fixPort: 0, fixStoreDir: path.join(dir, 'venue'), heartbeatIntervalMs: 1000 });
    const { fixPort } = await sim.start();
    // A reset 3 s from now, whole seconds, UTC.
    const at = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
    const hhmmss = at.toISOString().slice(11, 19);
    const c = new FixConnector({ name: 'S', host: '127.0.0.1', port: fixPort, version: 'FIX.4.4', senderCompId: 'DAY', targetCompId: 'VENUE',
      storeDir: path.join(dir, 'client'), heartbeatIntervalSec: 1, reconnectDelayMs: 100, schedule: { resetTime: hhmmss, timeZone: 'UTC' } });
    const l = new RecordingListener();
    c.setListener(l);
    try {
      await c.connect();
      for (const id of ['D1', 'D2', 'D3']) {
        l.track(id, 10);
        c.sendNew({ clOrdId: id, symbol: 'DAY', side: 'B', qty: 10, price: 100, ordType: 'LIMIT', tif: 'DAY' });
      }
      await l.until(() => l.orders.get('D3')!.acked === 1, 'acks', 20000);
      expect(c.stats().nextSenderSeq).to.equal(5);
      await l.until(() => l.states.filter(([s]) => s === 'LOGGED_IN').length === 2, 'logon of the new day', 30000);
      expect(l.states.some(([s]) => s === 'DISCONNECTED')).to.equal(true);
      expect(c.stats().dailyResets).to.equal(1);
      expect(c.stats().nextSenderSeq).to.equal(2);
      l.track('N1', 10);
      c.sendNew({ clOrdId: 'N1', symbol: 'DAY', side: 'B', qty: 10, price: 100, ordType: 'LIMIT', tif: 'DAY' });
      await l.until(() => l.orders.get('N1')!.acked === 1, 'ack on the new day', 20000);
    } finally {
      await c.close();
      await sim.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Timers run on the monotonic clock in whole ms and the schedule on the wall clock, so the reset
  // timer can fire a little before the reset instant (about 1 in 30 timers here fire 1 ms early;
  // a wall clock stepped back makes it more). A connector that reset then found the same instant
  // still ahead and reset again at it: dailyResets 2, the new day's session logged out once more.
  // Here the wall clock runs 400 ms ahead while the timer is armed, so it fires 400 ms early.
  it('a reset timer that fires before the reset time resets once, at the reset time, not early and then again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fix-schedule-early-'));
    const realNow = Date.now;
    let skewMs = 0;
    Date.now = () => realNow() + skewMs;
    const sim = new VenueSimulator({ ouchPort: null, fixPort: 0, fixStoreDir: path.join(dir, 'venue'), heartbeatIntervalMs: 1000 });
    const lines: Array<[number, string]> = [];
    let c: FixConnector | undefined;
    try {
      const { fixPort } = await sim.start();
      const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000);
      c = new FixConnector({ name: 'E', host: '127.0.0.1', port: fixPort, version: 'FIX.4.4', senderCompId: 'EARLY', targetCompId: 'VENUE',
        storeDir: path.join(dir, 'client'), heartbeatIntervalSec: 1, reconnectDelayMs: 100,
        schedule: { resetTime: at.toISOString().slice(11, 19), timeZone: 'UTC' }, log: (line) => lines.push([realNow(), line]) });
      const l = new RecordingListener();
      c.setListener(l);
      skewMs = 400; // the timer is armed inside connect(), synchronously
      const connected = c.connect();
      skewMs = 0;
      await connected;
      await l.until(() => realNow() > at.getTime() + 600 && l.states.filter(([s]) => s === 'LOGGED_IN').length >= 2, 'the reset time and the logon of the new day', 30000);
      const resets = lines.filter(([, line]) => /daily reset at/.test(line));
      expect(resets.length, lines.map(([t, line]) => `${t} ${line}`).join('\n')).to.equal(1);
      expect(resets[0][0], 'reset before its time').to.be.at.least(at.getTime());
      expect(c.stats().dailyResets).to.equal(1);
      expect(l.states.filter(([s]) => s === 'LOGGED_IN').length).to.equal(2);
    } finally {
      Date.now = realNow;
      await c?.close();
      await sim.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
