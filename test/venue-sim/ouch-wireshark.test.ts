/**
 * The OUCH 4.2 / SoupBinTCP bytes on a real session, read by an independent decoder: Wireshark's
 * `soupbintcp` and `ouch` dissectors (tshark). `tickpath order` sends to `tickpath venue-sim` over
 * loopback while tshark captures the port (day buys, a sell that takes them, an IOC buy that finds
 * nothing); tshark then decodes the capture. Our encoders write both
 * sides (the router's OUCH connector the client's, the simulator the venue's), so our own decoder
 * reading them back proves little; here another implementation must find every Enter Order,
 * Accepted and Executed message with the fields we meant, and nothing malformed. Fails if a field
 * moves, a length or a message type is wrong, or SoupBinTCP framing is off.
 *
 * Also: `tickpath order` whose reader goes away (`| head -1`) finishes the run instead of dying on
 * EPIPE with orders in flight.
 *
 * tshark comes from scripts/setup.sh; CI sets TICKPATH_REQUIRE_TSHARK=1, so there a missing tshark
 * fails instead of skipping.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { haveTool } from '../helpers/netns';
import { jsonLines, kCli, sleep, startVenueSimProcess, waitFor } from '../helpers/drill';

function order(port: number, side: string, qty: number, count: number, tif = 'day'): { status: number | null; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, 'order', '--venue', `ouch://127.0.0.1:${port}`, '--symbol', 'MSFT', '--side', side, '--qty', String(qty),
    '--price', '10.25', '--count', String(count), '--rate', '1000', '--tif', tif], { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, lines: jsonLines(r.stdout), stderr: r.stderr };
}

describe('OUCH 4.2 on the wire, read by Wireshark\'s dissectors (tshark)', function () {
  this.timeout(120000);

  before(function () {
    if (haveTool('tshark')) return;
    if (process.env.TICKPATH_REQUIRE_TSHARK === '1') throw new Error('tshark is required (TICKPATH_REQUIRE_TSHARK=1) but not installed: apt-get install tshark (scripts/setup.sh does)');
    this.skip();
  });

  it('every Enter Order, Accepted, Executed and Canceled of `tickpath order` runs decodes with the fields sent, nothing malformed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ouch-ws-'));
    const pcap = path.join(dir, 'ouch.pcap');
    const v = await startVenueSimProcess([]);
    let cap: ReturnType<typeof spawn> | undefined;
    try {
      cap = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${v.ouchPort}`, '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
      let capErr = '';
      cap.stderr!.on('data', (d: Buffer) => { capErr += d.toString(); });
      await waitFor('tshark to start capturing', () => /Capturing on/.test(capErr) || cap!.exitCode !== null, 20000);
      if (!/Capturing on/.test(capErr)) throw new Error(`tshark did not start capturing: ${capErr}`);
      await sleep(300);
      const buys = order(v.ouchPort, 'buy', 100, 3);
      expect(buys.status, buys.stderr).to.equal(0);
      const sells = order(v.ouchPort, 'sell', 300, 1);
      expect(sells.status, sells.stderr).to.equal(0);
      expect(sells.lines[sells.lines.length - 1]).to.include({ sent: 1, filled: 1 });
      // The book is empty now: an IOC buy is cancelled by the venue.
      const ioc = order(v.ouchPort, 'buy', 100, 1, 'ioc');
      expect(ioc.status, ioc.stderr).to.equal(0);
      expect(ioc.lines[ioc.lines.length - 1]).to.include({ sent: 1, cancelled: 1 });
      await sleep(500);
      const exited = new Promise((r) => cap!.on('exit', r));
      cap.kill('SIGINT');
      await exited;
      cap = undefined;

      const fields = ['soupbintcp.packet_type', 'ouch.packet_type', 'ouch.order_token', 'ouch.buy_sell_indicator', 'ouch.shares', 'ouch.stock', 'ouch.price',
        'ouch.order_reference_number', 'ouch.order_state', 'ouch.executed_shares', 'ouch.execution_price', 'ouch.match_number', 'ouch.liquidity_flag',
        'ouch.tif', 'ouch.decrement_shares', 'ouch.cancel_reason'];
      const r = spawnSync('tshark', ['-r', pcap, '-d', `tcp.port==${v.ouchPort},soupbintcp`, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f',
        ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      const rows = r.stdout.split('\n').filter((l) => l.replace(/\|/g, '').trim() !== '').map((l) => {
        const c = l.split('|');
        return Object.fromEntries(fields.map((f, i) => [f === 'soupbintcp.packet_type' ? 'soup_type' : f.replace(/^.*\./, ''), (c[i] ?? '').replace(/^'|'$/g, '').trim()]));
      });
      const malformed = spawnSync('tshark', ['-r', pcap, '-d', `tcp.port==${v.ouchPort},soupbintcp`, '-Y', '_ws.malformed || _ws.expert.severity >= error'], { encoding: 'utf8' });
      expect(malformed.stdout.trim(), 'malformed or erroneous frames').to.equal('');

      // Login request and logout: once per session (three).
      expect(rows.filter((x) => x.soup_type === 'L').length).to.equal(3);
      expect(rows.filter((x) => x.soup_type === 'O').length).to.equal(3);
      const enter = rows.filter((x) => x.soup_type === 'U');
      expect(enter.every((x) => x.packet_type === 'O'), 'every unsequenced message an Enter Order').to.equal(true);
      expect(enter.map((x) => [x.buy_sell_indicator, x.shares, x.stock, x.price])).to.deep.equal([
        ['B', '100', 'MSFT', '102500'], ['B', '100', 'MSFT', '102500'], ['B', '100', 'MSFT', '102500'], ['S', '300', 'MSFT', '102500'], ['B', '100', 'MSFT', '102500'],
      ]);
      // Time in force: 0 (immediate or cancel) on the IOC order only.
      expect(enter.map((x) => x.tif === '0')).to.deep.equal([false, false, false, false, true]);
      // Five distinct tokens; the venue's Accepted echoes each with its fields.
      const sent = enter.map((x) => x.order_token);
      expect(new Set(sent).size).to.equal(5);
      expect([...buys.lines, ...sells.lines, ...ioc.lines].filter((e) => e.event === 'acked').length).to.equal(5);
      const seq = rows.filter((x) => x.soup_type === 'S');
      const accepted = seq.filter((x) => x.packet_type === 'A');
      expect(accepted.every((x) => x.order_state === 'L')).to.equal(true);
      expect(accepted.map((x) => [x.order_token, x.buy_sell_indicator, x.shares, x.stock, x.price])).to.deep.equal(enter.map((x) => [x.order_token, x.buy_sell_indicator, x.shares, x.stock, x.price]));
      expect(new Set(accepted.map((x) => x.order_reference_number)).size).to.equal(5);
      // The sell of 300 takes the three resting buys: three Executed to the sell's session (the buys'
      // session has logged out by then), 100 shares at the price each, distinct match numbers.
      const executed = seq.filter((x) => x.packet_type === 'E');
      expect(executed.map((x) => [x.order_token, x.executed_shares, x.execution_price, x.liquidity_flag])).to.deep.equal(
        [0, 1, 2].map(() => [sent[3], '100', '102500', 'R']));
      expect(new Set(executed.map((x) => x.match_number)).size).to.equal(3);
      // The IOC buy finds nothing to take: one Canceled, all 100 shares, reason I (immediate or cancel).
      expect(seq.filter((x) => x.packet_type === 'C').map((x) => [x.order_token, x.decrement_shares, x.cancel_reason])).to.deep.equal([[sent[4], '100', 'I']]);
    } finally {
      cap?.kill('SIGKILL');
      v.child.kill('SIGTERM');
      await v.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tickpath order with a reader that goes away', function () {
  this.timeout(60000);

  it('stops printing on EPIPE and finishes the run: every order answered, exit 0, no unhandled error', async () => {
    const v = await startVenueSimProcess([]);
    try {
      // As a user would: a shell pipe into `head -1`, which exits after the first line (a real
      // pipe(2): writes after that get EPIPE). pipefail makes the status tickpath's.
      const cmd = `set -o pipefail; "${process.execPath}" "${kCli}" order --venue ouch://127.0.0.1:${v.ouchPort} --symbol IBM --side buy --qty 10`
        + ' --price 10 --count 40 --rate 200 | head -1';
      const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 60000 });
      const code = r.status;
      const stderr = r.stderr;
      expect(r.stdout.trim().split('\n')).to.have.length(1);
      expect(stderr).to.not.match(/EPIPE|Unhandled/);
      // 0 only when all 40 were answered (unanswered or rejected orders exit 1, and so did the
      // unhandled EPIPE before).
      expect(code, stderr).to.equal(0);
    } finally {
      if (v.child.exitCode === null) { v.child.kill('SIGTERM'); await v.exited; }
    }
  });
});
