/**
 * `tickpath journal FILE` (the CLI in a child process) and `venue-sim --report`: what an operator
 * compares after a crash drill. Exact lines and counts.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderJournal, JournalRecordType, RECORD_SIZE } from '../../lib/router/journal';
import { OrderManager } from '../../lib/router/order-manager';
import { VenueSimulator } from '../../lib/venue-sim/venue-simulator';
import { OuchConnector } from '../../lib/router/connectors/ouch-connector';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const lines = (s: string) => s.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);

describe('tickpath journal', () => {
  function writeJournal(file: string): void {
    const j = OrderJournal.open(file, { fsync: 'never', identity: 'ouch:TEST1' });
    const om = new OrderManager({ capacity: 16 });
    for (let n = 1; n <= 3; n++) {
      const p = om.createParent(`P${n}`, 'AAPL', 'B', 100, 1_000_000, 'LIMIT', 'DAY');
      j.appendOrder(JournalRecordType.NEW_PARENT, om, p, null, 0, 0, '');
      const c = om.createChild(p, `C${n}`, 0, 100, 1_000_000);
      om.markSent(c);
      j.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, `P${n}`);
      if (n === 3) continue;                                  // C3 stays SENT
      om.onAck(`C${n}`);
      j.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, `P${n}`);
      if (n === 1) {
        om.onFill('C1', 100);
        j.appendOrder(JournalRecordType.FILL, om, c, null, 100, 1_000_000, 'E1');
        j.appendOrder(JournalRecordType.PARENT_STATE, om, p, null, 0, 0, '');
      }
    }
    j.appendVenueSeq(0, 'NSDQ', 12);
    j.close();
  }

  it('prints every order (parents from their children while live) and a summary; exit 0 when clean', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-jr-')), 'orders.journal');
    writeJournal(file);
    const r = spawnSync(process.execPath, [kCli, 'journal', file], { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    const out = lines(r.stdout);
    expect(out.slice(0, -1).map((o) => `${o.kind} ${o.venue} ${o.clOrdId} ${o.side} ${o.symbol} ${o.qty}@${o.price} ${o.filled} ${o.state}`)).to.deep.equal([
      'parent  P1 B AAPL 100@1000000 100 FILLED',
      'child NSDQ C1 B AAPL 100@1000000 100 FILLED',
      'parent  P2 B AAPL 100@1000000 0 ACKNOWLEDGED',
      'child NSDQ C2 B AAPL 100@1000000 0 ACKNOWLEDGED',
      'parent  P3 B AAPL 100@1000000 0 SENT',
      'child NSDQ C3 B AAPL 100@1000000 0 SENT',
    ]);
    expect(out.at(-1)).to.deep.include({
      event: 'summary', identity: 'ouch:TEST1', parents: 3, children: 3, positions: { AAPL: 100 }, venue_seqs: { NSDQ: 12 }, damaged: [], torn_records: 0,
    });
  });

  it('names the byte offset and cause of a damaged slot, keeps the records after it, exits 1', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-jr-')), 'orders.journal');
    writeJournal(file);
    const data = fs.readFileSync(file);
    data[4 * RECORD_SIZE + 30] ^= 0xff;                      // inside record 4: its crc no longer holds
    fs.writeFileSync(file, data);
    const r = spawnSync(process.execPath, [kCli, 'journal', file], { encoding: 'utf8', timeout: 60000 });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain(`damaged slot at byte ${4 * RECORD_SIZE} (bad crc)`);
    const summary = lines(r.stdout).at(-1)!;
    expect(summary.damaged).to.deep.equal([{ offset: 4 * RECORD_SIZE, cause: 'bad crc' }]);
    expect(summary.venue_seqs).to.deep.equal({ NSDQ: 12 });  // the last record survives
  });

  it('usage errors exit 2', () => {
    expect(spawnSync(process.execPath, [kCli, 'journal'], { encoding: 'utf8' }).status).to.equal(2);
  });
});

describe('venue-sim --report', () => {
  it('lists every order once, counting a token sent twice as a duplicate, not a second order', async () => {
    const sim = new VenueSimulator({ ouchPort: 0, fixPort: null });
    const { ouchPort } = await sim.start();
    const conn = new OuchConnector({ name: 'V', host: '127.0.0.1', port: ouchPort, username: 'RPT1', password: '', reconnectAttempts: 0 });
    const acks: string[] = [];
    conn.setListener({ onAck: (id) => acks.push(id), onReject() {}, onFill() {}, onCancelled() {}, onReplaced() {}, onSessionState() {} });
    await conn.connect();
    const order = { clOrdId: 'T1', symbol: 'AAPL', side: 'B' as const, qty: 100, price: 1_000_000, ordType: 'LIMIT' as const, tif: 'DAY' as const };
    conn.sendNew(order);
    conn.sendNew(order);                                       // as a restart resends it
    conn.sendNew({ ...order, clOrdId: 'T2', side: 'S', qty: 40 });
    const end = Date.now() + 10000;
    while (acks.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-rpt-')), 'report.jsonl');
    expect(sim.writeReport(file)).to.equal(2);
    await conn.close();
    await sim.stop();
    expect(lines(fs.readFileSync(file, 'utf8'))).to.deep.equal([
      { session: 'ouch:RPT1', token: 'T1', side: 'B', symbol: 'AAPL', qty: 100, price: 1_000_000, filled: 40, cancelled: 0, state: 'PARTIALLY_FILLED', duplicates: 1 },
      { session: 'ouch:RPT1', token: 'T2', side: 'S', symbol: 'AAPL', qty: 40, price: 1_000_000, filled: 40, cancelled: 0, state: 'FILLED', duplicates: 0 },
    ]);
  });

  it('the CLI writes the report on SIGTERM', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-rpt-')), 'report.jsonl');
    const child = spawn(process.execPath, [kCli, 'venue-sim', '--fix-port', 'off', '--report', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const end = Date.now() + 30000;
    while (!out.includes('listening') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).to.equal(0);
    expect(out).to.contain(`0 order(s) written to ${file}`);
    expect(fs.readFileSync(file, 'utf8')).to.equal('');
  });
});
