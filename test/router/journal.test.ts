import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderJournal, JournalRecordType, RECORD_SIZE, crc32, execIdKey } from '../../lib/router/journal';
import { OrderManager } from '../../lib/router/order-manager';
import { OrderState } from '../../lib/router/types';
import { TickpathError } from '../../lib/errors';

function tmpFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-journal-'));
  return path.join(dir, name);
}

/** Journals one parent+child, acks it and fills `fill` shares; returns the child slot. */
function journalOrder(j: OrderJournal, om: OrderManager, n: number, fill: number) {
  const p = om.createParent(`P${n}`, 'AAPL', 'B', 100, 1_000_000, 'LIMIT', 'DAY');
  j.appendOrder(JournalRecordType.NEW_PARENT, om, p, null, 0, 0, '');
  const c = om.createChild(p, `C${n}`, 1, 100, 1_000_000);
  j.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, `P${n}`);
  om.markSent(c); om.onAck(`C${n}`);
  j.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, `P${n}`);
  if (fill > 0) {
    om.onFill(`C${n}`, fill);
    j.appendOrder(JournalRecordType.FILL, om, c, null, fill, 1_000_100, `P${n}`);
    j.appendOrder(JournalRecordType.PARENT_STATE, om, p, null, 0, 0, '');
  }
  return c;
}

describe('OrderJournal', () => {
  it('crc32 matches the IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'), 0, 9)).to.equal(0xcbf43926);
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'), 0, 43)).to.equal(0x414fa339);
  });

  it('execIdKey keeps short exec ids and hashes long ones to 14 stable characters', () => {
    expect(execIdKey('E1')).to.equal('E1');
    expect(execIdKey('12345678901234')).to.equal('12345678901234');
    const k = execIdKey('123456789012345678-42');
    expect(k).to.have.length(14);
    expect(execIdKey('123456789012345678-42')).to.equal(k);
    expect(execIdKey('123456789012345678-43')).to.not.equal(k);
    const keys = new Set<string>();
    for (let i = 0; i < 100000; i++) keys.add(execIdKey(`${10_000_000_000_000 + i}-${i}`));
    expect(keys.size).to.equal(100000);
  });

  it('round-trips orders, fills, replaces, positions and venue sequence numbers', () => {
    const file = tmpFile('j1.bin');
    const j = OrderJournal.open(file, { fsync: 'never' });
    const om = new OrderManager({ capacity: 16 });
    journalOrder(j, om, 1, 40);
    const c2 = journalOrder(j, om, 2, 0);
    journalOrder(j, om, 3, 100);               // filled: closed
    om.requestReplace(c2, 'C2r', 150, 999_000);
    om.onReplaced('C2', 'C2r', 150, 999_000);
    j.appendOrder(JournalRecordType.REPLACED, om, c2, null, 0, 0, 'C2');
    j.appendVenueSeq(1, 'NSDQ', 41);
    j.appendVenueSeq(2, 'ARCA', 7);
    j.appendVenueSeq(1, 'NSDQ', 42);
    j.close();
    expect(fs.statSync(file).size).to.equal(j.records * RECORD_SIZE);

    const r = OrderJournal.recover(file);
    expect(r.tornRecords).to.equal(0);
    expect(r.records).to.equal(j.records);
    expect(r.positions.get('AAPL')).to.equal(140);
    expect(r.venueSeqs.get('NSDQ')).to.equal(42);
    expect(r.venueSeqs.get('ARCA')).to.equal(7);
    expect(r.openChildren.map((o) => o.clOrdId)).to.deep.equal(['C1', 'C2r']);
    expect(r.openParents.map((o) => o.clOrdId)).to.deep.equal(['P1', 'P2']);
    const c2r = r.orders.get('C2r')!;
    expect(c2r).to.include({ qty: 150, price: 999_000, parentId: 'P2', state: OrderState.ACKNOWLEDGED, venue: 1, side: 'B' });
    expect(r.orders.get('C2')!.state).to.equal(OrderState.REPLACED);
    expect(r.orders.get('C1')).to.include({ filled: 40, state: OrderState.PARTIALLY_FILLED, symbol: 'AAPL' });
    expect(r.orders.get('C3')!.state).to.equal(OrderState.FILLED);
    expect(r.orders.get('P3')!.state).to.equal(OrderState.FILLED);
  });

  it('detects a torn last record, ignores and counts it, and cuts it off on open', () => {
    const file = tmpFile('j2.bin');
    let j = OrderJournal.open(file, { fsync: 'never' });
    const om = new OrderManager({ capacity: 16 });
    journalOrder(j, om, 1, 0);
    j.close();
    const good = fs.statSync(file).size;
    fs.appendFileSync(file, Buffer.alloc(50, 0x41));          // half a record
    let r = OrderJournal.recover(file);
    expect(r.records).to.equal(3);
    expect(r.tornRecords).to.equal(1);
    expect(r.ignoredBytes).to.equal(50);
    expect(r.validBytes).to.equal(good);

    j = OrderJournal.open(file, { fsync: 'always' });
    expect(j.recovered.tornRecords).to.equal(1);
    expect(fs.statSync(file).size).to.equal(good);
    j.appendVenueSeq(0, 'NSDQ', 5);                          // continues at recordNo 4
    j.close();
    r = OrderJournal.recover(file);
    expect(r).to.include({ records: 4, lastRecordNo: 4, tornRecords: 0 });
  });

  it('a full-length last record with a bad checksum is ignored, not half-read', () => {
    const file = tmpFile('j3.bin');
    const j = OrderJournal.open(file, { fsync: 'never' });
    journalOrder(j, new OrderManager({ capacity: 16 }), 1, 25);
    j.close();
    const data = fs.readFileSync(file);
    const lastFill = data.length - 2 * RECORD_SIZE;          // FILL record, then PARENT_STATE
    data[lastFill + 40] ^= 0xff;                              // corrupt lastQty
    fs.writeFileSync(file, data);
    const r = OrderJournal.recover(file);
    expect(r.records).to.equal(3);                            // stops at the bad record
    expect(r.tornRecords).to.equal(1);
    expect(r.ignoredBytes).to.equal(2 * RECORD_SIZE);
    expect(r.positions.get('AAPL') ?? 0).to.equal(0);
    expect(r.orders.get('C1')!.state).to.equal(OrderState.ACKNOWLEDGED);
  });

  it("'batch' writes and fsyncs once per batchRecords records or at flush()", () => {
    const file = tmpFile('j4.bin');
    const j = OrderJournal.open(file, { fsync: 'batch', batchRecords: 4 });
    for (let i = 1; i <= 3; i++) j.appendVenueSeq(0, 'NSDQ', i);
    expect(fs.statSync(file).size).to.equal(0);
    j.appendVenueSeq(0, 'NSDQ', 4);
    expect(fs.statSync(file).size).to.equal(4 * RECORD_SIZE);
    expect(j.stats()).to.include({ writes: 1, fsyncs: 1 });
    j.appendVenueSeq(0, 'NSDQ', 5);
    j.flush();
    expect(fs.statSync(file).size).to.equal(5 * RECORD_SIZE);
    expect(j.stats()).to.include({ writes: 2, fsyncs: 2 });
    j.close();
  });

  it("'always' fsyncs every record; 'never' writes every record and never fsyncs", () => {
    const a = OrderJournal.open(tmpFile('ja.bin'), { fsync: 'always' });
    const n = OrderJournal.open(tmpFile('jn.bin'), { fsync: 'never' });
    for (let i = 1; i <= 3; i++) { a.appendVenueSeq(0, 'X', i); n.appendVenueSeq(0, 'X', i); }
    expect(a.stats()).to.include({ writes: 3, fsyncs: 3 });
    expect(n.stats()).to.include({ writes: 3, fsyncs: 0 });
    expect(fs.statSync(n.path).size).to.equal(3 * RECORD_SIZE);
    a.close(); n.close();
  });

  it('validates options with exact messages', () => {
    expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'sometimes' as 'always' }))
      .to.throw(TickpathError, "OrderJournal: option 'fsync' is \"sometimes\", expected 'always', 'batch' or 'never'");
    expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'batch', batchRecords: 0 }))
      .to.throw(TickpathError, "OrderJournal: option 'batchRecords' is 0, expected an integer from 1 to 65536");
  });

  it('crash: SIGKILL of an OrderRouter mid-stream loses nothing that was acknowledged (fsync always)', async function () {
    this.timeout(20000);
    const file = tmpFile('crash.bin');
    const child = spawn(process.execPath, [path.join(__dirname, 'journal-crash-child.js'), file],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    let partial = '';
    const started = Date.now();
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString('latin1')).split('\n');
        partial = lines.pop()!;
        acked.push(...lines);
        if ((acked.length >= 400 || Date.now() - started > 6000) && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode, 'the child must have been killed, not finished').to.equal('SIGKILL');
    expect(acked.length).to.be.greaterThan(20);

    const r = OrderJournal.recover(file);
    expect(r.tornRecords).to.be.at.most(1);
    expect(r.validBytes % RECORD_SIZE).to.equal(0);
    let expectedPosition = 0;
    let lastSeq = 0;
    for (const line of acked) {
      const [pid, cid, filled, seq] = line.split(' ');
      const c = r.orders.get(cid);
      expect(c, `${cid} acknowledged but lost`).to.not.equal(undefined);
      expect(c!.parentId).to.equal(pid);
      expect(c!.filled).to.equal(Number(filled));
      expect(c!.state).to.be.oneOf([OrderState.ACKNOWLEDGED, OrderState.PARTIALLY_FILLED]);
      expect(r.orders.get(pid)!.kind).to.equal('parent');
      lastSeq = Number(seq);
    }
    expect(r.venueSeqs.get('NSDQ')).to.be.at.least(lastSeq);
    // Everything in the journal is either what was acknowledged or at most one order beyond it.
    const childCount = [...r.orders.values()].filter((o) => o.kind === 'child').length;
    expect(childCount - acked.length).to.be.within(0, 1);
    for (const o of r.orders.values()) if (o.kind === 'child' && o.side !== 'B') expectedPosition -= o.filled;
    for (const o of r.orders.values()) if (o.kind === 'child' && o.side === 'B') expectedPosition += o.filled;
    expect(r.positions.get('AAPL')! + (r.positions.get('MSFT') ?? 0)).to.equal(expectedPosition);
  });
});
