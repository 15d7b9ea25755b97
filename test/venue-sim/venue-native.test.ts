/**
 * `tickpath venue-sim` on its default native transport, end to end through real processes: the
 * simulator as the CLI runs it, orders from `tickpath order` (OUCH and FIX 4.4, the router's own
 * path), a raw SoupBinTCP client counting the venue's heartbeats, a reconnecting client, and the
 * stats line that says which transport did the work. A silent fallback to libuv, a loop that starves
 * the event loop's timers, or a native loop that never accepts would each fail here.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { encodeLoginRequest, kSoupServerHeartbeat } from '../../lib/protocols/soupbin/soupbintcp';
import { OuchConnector } from '../../lib/router/connectors/ouch-connector';
import { transportFactory } from '../../lib/protocols/transport/create-transport';
import { RecordingListener } from '../router/connectors/recording-listener';
import { startVenueSimProcess, type VenueSimProcess } from '../helpers/drill';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');

/**
 * How long a process's main thread has been runnable but waiting for a CPU (ms): /proc/PID/schedstat's
 * second field (ns). 0 where there is no schedstat (then waits count as time the process could run).
 */
function runDelayMs(pid: number): number {
  try { return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6; } catch { return 0; }
}

/** Stops the venue with SIGTERM; returns the transport object of its stats line. */
async function stopVenue(v: VenueSimProcess): Promise<{ transport: string; ouch: { kind: string; accepted: number }; fix: { kind: string; accepted: number }; loop: { idle: string; work: number } | null }> {
  v.child.kill('SIGTERM');
  expect(await v.exited).to.equal(0);
  const line = /venue-sim: SIGTERM, stopping; (.*)/.exec(v.out());
  expect(line, v.out()).to.not.equal(null);
  return JSON.parse(line![1]).transport;
}

function order(venue: string, side: string, count: number): { status: number | null; summary: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, 'order', '--venue', venue, '--symbol', 'IBM', '--side', side, '--qty', '100', '--price', '10',
    '--count', String(count), '--rate', '1000', '--transport', 'native'], { encoding: 'utf8', timeout: 60000 });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, summary: JSON.parse(lines[lines.length - 1]), stderr: r.stderr };
}

describe('tickpath venue-sim over the native transport (CLI, real processes)', function () {
  this.timeout(90000);

  it('is the default: OUCH and FIX orders from `tickpath order` are acked and filled, and the stats say the native loop did the work', async () => {
    const v = await startVenueSimProcess([]);
    let stats;
    try {
      expect(v.out()).to.match(/venue-sim: transport native \(idle block/);
      const buys = order(`ouch://127.0.0.1:${v.ouchPort}`, 'buy', 50);
      expect(buys.status, buys.stderr).to.equal(0);
      expect(buys.summary).to.include({ sent: 50, acked: 50, unanswered: 0, transport: 'native' });
      // FIX sells cross the OUCH buys in the one book: both front ends on the native loop.
      const sells = order(`fix44://127.0.0.1:${v.fixPort}`, 'sell', 50);
      expect(sells.status, sells.stderr).to.equal(0);
      expect(sells.summary).to.include({ sent: 50, acked: 50, filled: 50, unanswered: 0, transport: 'native' });
    } finally {
      stats = await stopVenue(v);
    }
    expect(stats.transport).to.equal('native');
    expect(stats.ouch).to.include({ kind: 'native', accepted: 1 });
    expect(stats.fix).to.include({ kind: 'native', accepted: 1 });
    expect(stats.loop!.idle).to.equal('block');
    expect(stats.loop!.work, 'bytes handled by the native loop').to.be.greaterThan(100 * 40);
    // Both sessions' order ids came in ascending order: the duplicate check stayed on its ordered list.
    const all = JSON.parse(/venue-sim: SIGTERM, stopping; (.*)/.exec(v.out())![1]);
    expect(all).to.include({ tokenOwnersOrdered: 2, tokenOwnersUnordered: 0 });
  });

  for (const idle of ['block', 'spin', 'backoff'] as const) {
    it(`--idle ${idle}: heartbeats keep coming on an idle session (timers run beside the loop), and a dropped OUCH session reconnects and is acked again`, async () => {
      const v = await startVenueSimProcess(['--idle', idle, '--heartbeat-ms', '100', '--drop-after', '2', '--max-drops', '1']);
      let stats;
      try {
        expect(v.out()).to.include(`transport native (idle ${idle}`);
        const raw = net.connect({ host: '127.0.0.1', port: v.ouchPort });
        let bytes = Buffer.alloc(0);
        raw.on('data', (d: Buffer) => { bytes = Buffer.concat([bytes, d]); });
        await new Promise<void>((r) => raw.once('connect', () => r()));
        const login = Buffer.alloc(64);
        // Frames: 2-byte length, type. Count the server heartbeats after the Login Accepted.
        const heartbeats = (): number => {
          let hb = 0;
          for (let o = 0; o + 3 <= bytes.length; o += 2 + bytes.readUInt16BE(o)) if (bytes[o + 2] === kSoupServerHeartbeat) hb++;
          return hb;
        };
        // At least 6 heartbeats in 1.2 s (one every 100 ms, checked every 50 ms: 8-12), counted in the
        // time the venue could run: wall time less what its main thread (where the timers run) spent
        // runnable but waiting for a CPU. Counted in wall time, a loaded machine (load 11-16 on 2 CPUs)
        // that kept the venue off its CPU for 700 ms of the 1.2 s failed it with 4.
        const t0 = Date.now();
        const delay0 = runDelayMs(v.child.pid!);
        raw.write(login.subarray(0, encodeLoginRequest(login, 0, 'HB', '', '', 0)));
        let wall = 0, waited = 0;
        while (heartbeats() < 6) {
          await new Promise((r) => setTimeout(r, 20));
          await new Promise((r) => setImmediate(r));   // what arrived meanwhile is read (poll phase) before counting
          wall = Date.now() - t0;
          waited = runDelayMs(v.child.pid!) - delay0;
          if (wall - waited >= 1200 || wall > 30_000) break;
        }
        const hb = heartbeats();
        raw.destroy();
        expect(hb, `server heartbeats at 100 ms in the ${Math.round(wall - waited)} ms the venue could run (${wall} ms, of which ${Math.round(waited)} ms waiting for a CPU) (${idle})`)
          .to.be.at.least(6);

        // The venue drops the session after its second order (--drop-after 2): the OUCH connector
        // over the native transport reconnects, logs in from its next expected sequence, and the
        // order sent after that is acked too.
        const c = new OuchConnector({ name: 'R', host: '127.0.0.1', port: v.ouchPort, username: 'RC', password: 'P', transport: transportFactory('native'),
          reconnectAttempts: 5, reconnectDelayMs: 20 });
        const l = new RecordingListener();
        c.setListener(l);
        await c.connect();
        const drive = async (done: () => boolean, what: string): Promise<void> => {
          const t0 = Date.now();
          while (!done()) {
            if (Date.now() - t0 > 10000) throw new Error(`timed out: ${what} (${idle})`);
            c.poll!(Date.now());
            await new Promise((r) => setImmediate(r));
          }
        };
        for (const id of ['A1', 'A2']) {
          l.track(id, 10);
          c.sendNew({ clOrdId: id, symbol: 'IBM', side: 'B', qty: 10, price: 1000, ordType: 'LIMIT', tif: 'DAY' });
        }
        await drive(() => l.orders.get('A2')!.acked === 1 && Number(c.stats().reconnects) >= 1, 'acks, the drop and the reconnect');
        l.track('A3', 10);
        // Sent once the session is logged in again.
        await drive(() => c.sendNew({ clOrdId: 'A3', symbol: 'IBM', side: 'B', qty: 10, price: 1000, ordType: 'LIMIT', tif: 'DAY' }), 'logged in again');
        await drive(() => l.orders.get('A3')!.acked === 1, 'ack after the reconnect');
        expect(l.orders.get('A1')!.acked).to.equal(1);
        expect(c.stats().transport).to.equal('native');
        await c.close();
      } finally {
        stats = await stopVenue(v);
      }
      expect(stats.transport).to.equal('native');
      expect(stats.ouch.accepted).to.equal(3); // the raw client, the connector, its reconnect
      expect(stats.loop!.idle).to.equal(idle);
    });
  }

  it('--busy-poll sets SO_BUSY_POLL on every accepted socket and says whether the kernel took it', async () => {
    const v = await startVenueSimProcess(['--busy-poll', '50', '--fix-port', 'off']);
    let stats;
    try {
      expect(v.out()).to.include('busy-poll 50 us');
      const r = order(`ouch://127.0.0.1:${v.ouchPort}`, 'buy', 3);
      expect(r.summary).to.include({ acked: 3, transport: 'native' });
    } finally {
      stats = await stopVenue(v);
    }
    const o = stats.ouch as unknown as { busyPollUs: number; busyPollSockets: number; busyPollRefused: number; accepted: number };
    expect(o.busyPollUs).to.equal(50);
    expect(o.busyPollSockets + o.busyPollRefused).to.equal(o.accepted);
  });

  it('--transport libuv is the fallback, reported as such; native-only options are refused with it', async () => {
    const v = await startVenueSimProcess(['--transport', 'libuv']);
    let stats;
    try {
      expect(v.out()).to.include('venue-sim: transport libuv (event loop)');
      const r = order(`ouch://127.0.0.1:${v.ouchPort}`, 'buy', 5);
      expect(r.summary).to.include({ acked: 5 });
    } finally {
      stats = await stopVenue(v);
    }
    expect(stats).to.include({ transport: 'libuv', loop: null });
    const bad = spawnSync(process.execPath, [kCli, 'venue-sim', '--transport', 'libuv', '--idle', 'spin'], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('apply to --transport native only');
    const badIdle = spawnSync(process.execPath, [kCli, 'venue-sim', '--idle', 'nap'], { encoding: 'utf8' });
    expect(badIdle.status).to.equal(2);
    expect(badIdle.stderr).to.include('option --idle is "nap", expected block, spin or backoff');
  });
});
