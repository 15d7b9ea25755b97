import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderJournal, JournalRecordType, RECORD_SIZE, HEADER_SIZE, crc32, crc32Words, execIdKey, type JournalRecovery } from '../../lib/router/journal';
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

  it('crc32Words (the writer\'s slicing-by-16) gives crc32 of the same bytes, for every length from 0 to 24 words', () => {
    const words = new Uint32Array(64);
    let x = 0x12345678;
    for (let trial = 0; trial < 200; trial++) {
      for (let i = 0; i < words.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; words[i] = x ^ (x >>> 7); }
      const from = trial % 8;
      const to = from + (trial % 25);
      const bytes = new Uint8Array(words.buffer);
      expect(crc32Words(words, from, to), `words ${from}..${to}`).to.equal(crc32(bytes, from * 4, to * 4));
    }
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
    expect(fs.statSync(file).size).to.equal(HEADER_SIZE + j.records * RECORD_SIZE);

    const r = OrderJournal.recover(file);
    expect(r.tornRecords).to.equal(0);
    expect(r.damaged).to.deep.equal([]);
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

  it('venue sessions: a new session forgets the old one\'s sequence and exec ids; order records keep the venue sequence that changed them', () => {
    const file = tmpFile('sessions.bin');
    const j = OrderJournal.open(file, { fsync: 'never' });
    const om = new OrderManager({ capacity: 16 });
    j.appendVenueSession(1, 'NSDQ', 'DAY1');
    j.appendVenueSession(2, 'ARCA', 'Fabc');
    const c = journalOrder(j, om, 1, 0);
    om.onFill('C1', 30);
    j.appendOrder(JournalRecordType.FILL, om, c, null, 30, 1_000_100, '77-5', 5);   // exec id 77-5 at NSDQ sequence 5
    j.appendVenueSeq(1, 'NSDQ', 5);
    j.appendVenueSeq(2, 'ARCA', 9);
    let r = OrderJournal.recover(file);
    expect([r.venueSessions.get('NSDQ'), r.venueSeqs.get('NSDQ'), r.fillExecIds.has('1/77-5'), r.orders.get('C1')!.venueSeq])
      .to.deep.equal(['DAY1', 5, true, 5]);
    j.appendVenueSession(1, 'NSDQ', 'DAY1');              // the same session again: nothing changes
    j.appendVenueSession(1, 'NSDQ', 'DAY2');
    j.appendVenueSeq(1, 'NSDQ', 2);
    j.close();
    r = OrderJournal.recover(file);
    expect([r.venueSessions.get('NSDQ'), r.venueSeqs.get('NSDQ'), r.fillExecIds.has('1/77-5')]).to.deep.equal(['DAY2', 2, false]);
    expect([r.venueSessions.get('ARCA'), r.venueSeqs.get('ARCA')]).to.deep.equal(['Fabc', 9]);
  });

  it('a bit flip in record 1001 of 3900 costs that record only: reported with offset and cause, file length kept', () => {
    const file = tmpFile('flip.bin');
    let j = OrderJournal.open(file, { fsync: 'never' });
    for (let i = 1; i <= 3900; i++) j.appendVenueSeq(i % 3, `V${i % 3}`, i);
    j.close();
    expect(fs.statSync(file).size).to.equal(HEADER_SIZE + 3900 * RECORD_SIZE);     // 374,496
    const data = fs.readFileSync(file);
    const bad = 1001 * RECORD_SIZE;
    data[bad + 50] ^= 0x08;
    fs.writeFileSync(file, data);

    j = OrderJournal.open(file, { fsync: 'never' });
    const r = j.recovered;
    expect(r.records).to.equal(3899);
    expect(r.lastRecordNo).to.equal(3900);
    expect(r.damaged).to.deep.equal([{ offset: 1001 * RECORD_SIZE, cause: 'bad crc' }]);
    expect(r.tornRecords).to.equal(0);
    expect(r.venueSeqs.get('V0')).to.equal(3900);                    // records after the damage kept
    expect(r.venueSeqs.get('V2')).to.equal(3899);
    expect(fs.statSync(file).size).to.be.at.least(HEADER_SIZE + 3900 * RECORD_SIZE);
    j.appendVenueSeq(0, 'V0', 3901);                                  // goes to slot 3901
    j.close();
    const after = fs.readFileSync(file);
    expect(after.length).to.equal(HEADER_SIZE + 3901 * RECORD_SIZE);
    expect(after.subarray(0, data.length).equals(data)).to.equal(true); // damaged slot left as found
    const again = OrderJournal.recover(file);
    expect(again).to.include({ records: 3900, lastRecordNo: 3901 });
    expect(again.damaged).to.deep.equal([{ offset: 1001 * RECORD_SIZE, cause: 'bad crc' }]);
  });

  it('names each kind of damage: bad magic, wrong record number, an empty slot, a damaged header', () => {
    const file = tmpFile('causes.bin');
    const j = OrderJournal.open(file, { fsync: 'never', identity: 'TPATH1' });
    for (let i = 1; i <= 10; i++) j.appendVenueSeq(0, 'NSDQ', i);
    j.close();
    const data = fs.readFileSync(file);
    data[6 * RECORD_SIZE + 93] ^= 0xff;                                           // magic
    data.copy(data, 7 * RECORD_SIZE, 5 * RECORD_SIZE, 6 * RECORD_SIZE);          // record 5 again in slot 7
    data.fill(0, 8 * RECORD_SIZE, 9 * RECORD_SIZE);                               // a page never written back
    data[30] ^= 0x01;                                                             // header crc
    fs.writeFileSync(file, data);
    const r = OrderJournal.recover(file);
    expect(r.damaged).to.deep.equal([
      { offset: 0, cause: 'bad crc' },
      { offset: 6 * RECORD_SIZE, cause: 'bad magic' },
      { offset: 7 * RECORD_SIZE, cause: 'wrong record number' },
      { offset: 8 * RECORD_SIZE, cause: 'empty' },
    ]);
    expect(r).to.include({ records: 7, lastRecordNo: 10 });
    expect(r.venueSeqs.get('NSDQ')).to.equal(10);
    // Open rewrites the damaged header and keeps every record.
    const j2 = OrderJournal.open(file, { fsync: 'never' });
    j2.close();
    expect(OrderJournal.recover(file).damaged.map((d) => d.offset)).to.deep.equal([6, 7, 8].map((s) => s * RECORD_SIZE));
  });

  it('keeps the header identity and creation time', () => {
    const file = tmpFile('id.bin');
    const before = Date.now();
    OrderJournal.open(file, { fsync: 'never', identity: 'TPATH1' }).close();
    const r = OrderJournal.open(file, { fsync: 'never', identity: 'ignored on reopen' }).recovered;
    expect(r.identity).to.equal('TPATH1');
    expect(r.createdMs).to.be.within(before, Date.now());
  });

  it('cuts a torn tail (half a record) on open and continues after the last record', () => {
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
    expect(r.damaged).to.deep.equal([]);

    j = OrderJournal.open(file, { fsync: 'always' });
    expect(j.recovered.tornRecords).to.equal(1);
    expect(OrderJournal.recover(file)).to.include({ records: 3, tornRecords: 0, ignoredBytes: 0 });   // zeroed in place
    j.appendVenueSeq(0, 'NSDQ', 5);                          // continues at recordNo 4
    j.close();
    r = OrderJournal.recover(file);
    expect(r).to.include({ records: 4, lastRecordNo: 4, tornRecords: 0 });
    expect(fs.statSync(file).size).to.equal(good + RECORD_SIZE);
  });

  it('zeroes a torn tail on reopen when the file is already past its first grow chunk', () => {
    // A file larger than growRecords at open is not grown, so its size must still be published to
    // the writer: the torn-tail clear-out is bounded by it.
    const file = tmpFile('j-big.bin');
    let j = OrderJournal.open(file, { fsync: 'never', growRecords: 16 });
    const om = new OrderManager({ capacity: 64 });
    for (let n = 1; n <= 10; n++) journalOrder(j, om, n, 0);   // 30 records, past 16 slots
    j.close();
    fs.appendFileSync(file, Buffer.alloc(RECORD_SIZE, 0x41));   // a whole bad slot: the file stays slot-aligned
    expect(OrderJournal.recover(file)).to.include({ records: 30, tornRecords: 1 });
    j = OrderJournal.open(file, { fsync: 'always', growRecords: 16 });
    expect(j.recovered.tornRecords).to.equal(1);
    expect(OrderJournal.recover(file)).to.include({ records: 30, tornRecords: 0, ignoredBytes: 0 });
    j.appendVenueSeq(0, 'NSDQ', 5);
    j.close();
    expect(OrderJournal.recover(file)).to.include({ records: 31, lastRecordNo: 31, tornRecords: 0 });
  });

  it('a bad last record is a torn tail (cut); the same damage before a good record is skipped and reported', () => {
    const file = tmpFile('j3.bin');
    const j = OrderJournal.open(file, { fsync: 'never' });
    journalOrder(j, new OrderManager({ capacity: 16 }), 1, 25);   // NEW_PARENT NEW_CHILD STATE FILL PARENT_STATE
    j.close();
    const clean = fs.readFileSync(file);
    const fill = clean.length - 2 * RECORD_SIZE;

    const middle = Buffer.from(clean);
    middle[fill + 40] ^= 0xff;                                // corrupt the FILL's lastQty
    fs.writeFileSync(file, middle);
    let r = OrderJournal.recover(file);
    expect(r).to.include({ records: 4, lastRecordNo: 5, tornRecords: 0 });
    expect(r.damaged).to.deep.equal([{ offset: fill, cause: 'bad crc' }]);
    expect(r.positions.get('AAPL') ?? 0).to.equal(0);        // the fill itself is lost, nothing after it
    expect(r.orders.get('P1')!.filled).to.equal(25);          // PARENT_STATE after it still read

    const last = Buffer.from(clean);
    last[last.length - 10] ^= 0xff;
    fs.writeFileSync(file, last);
    r = OrderJournal.recover(file);
    expect(r).to.include({ records: 4, lastRecordNo: 4, tornRecords: 1, ignoredBytes: RECORD_SIZE });
    expect(r.damaged).to.deep.equal([]);
    expect(r.positions.get('AAPL')).to.equal(25);
  });

  it('zeros after the last record are free space, not damage', () => {
    const file = tmpFile('zero.bin');
    const j = OrderJournal.open(file, { fsync: 'never' });
    for (let i = 1; i <= 5; i++) j.appendVenueSeq(0, 'NSDQ', i);
    j.close();
    fs.appendFileSync(file, Buffer.alloc(10 * RECORD_SIZE + 17));
    const r = OrderJournal.recover(file);
    expect(r).to.include({ records: 5, lastRecordNo: 5, tornRecords: 0, ignoredBytes: 0 });
    expect(r.damaged).to.deep.equal([]);
    const j2 = OrderJournal.open(file, { fsync: 'never' });
    j2.appendVenueSeq(0, 'NSDQ', 6);
    j2.close();
    expect(OrderJournal.recover(file)).to.include({ records: 6, lastRecordNo: 6 });
  });

  it('refuses a layout 1 journal and a layout 4 header, leaving both files as they were', () => {
    const v1 = tmpFile('v1.bin');
    const rec = Buffer.alloc(RECORD_SIZE);
    rec.writeUInt32LE(1, 4);
    rec.writeUInt32LE(0x314a5054, 92);                         // 'TPJ1'
    rec.writeUInt32LE(crc32(rec, 4, RECORD_SIZE), 0);
    fs.writeFileSync(v1, Buffer.concat([rec, rec]));
    expect(() => OrderJournal.open(v1, { fsync: 'group' })).to.throw(TickpathError, /is a layout 1 journal.*layouts 2 and 3 only.*move .*v1\.bin away/)
      .with.property('code', 'ERR_JOURNAL_VERSION');
    expect(fs.readFileSync(v1).equals(Buffer.concat([rec, rec]))).to.equal(true);

    const v3 = tmpFile('v3.bin');
    OrderJournal.open(v3, { fsync: 'never' }).close();
    const h = fs.readFileSync(v3);
    h.writeUInt16LE(4, 8);
    h.writeUInt32LE(crc32(h, 4, RECORD_SIZE), 0);
    fs.writeFileSync(v3, h);
    expect(() => OrderJournal.open(v3, { fsync: 'never' })).to.throw(TickpathError, /is a layout 4 journal \(header version 4\)/)
      .with.property('code', 'ERR_JOURNAL_VERSION');
    expect(fs.readFileSync(v3).equals(h)).to.equal(true);

    const other = tmpFile('other.bin');
    fs.writeFileSync(other, Buffer.alloc(500, 0x41));
    expect(() => OrderJournal.open(other, { fsync: 'never' })).to.throw(TickpathError, /not a tickpath journal/);
  });

  it("'always' is durable when append returns; 'group' becomes durable within groupCommitUs; 'never' is not", async () => {
    // API level only (the journal's view of its own syncs); the power-loss test below is the
    // independent check.
    const a = OrderJournal.open(tmpFile('ja.bin'), { fsync: 'always' });
    const g = OrderJournal.open(tmpFile('jg.bin'), { fsync: 'group', groupCommitUs: 1000 });
    const n = OrderJournal.open(tmpFile('jn.bin'), { fsync: 'never' });
    for (let i = 1; i <= 3; i++) {
      a.appendVenueSeq(0, 'X', i); g.appendVenueSeq(0, 'X', i); n.appendVenueSeq(0, 'X', i);
      expect(a.durablePosition).to.equal(i);
    }
    const t0 = Date.now();
    while (g.durablePosition < 3 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 1));
    expect(g.durablePosition).to.equal(3);
    expect(g.stats().groupSyncs).to.be.greaterThan(0);
    expect(n.durablePosition).to.equal(0);
    expect(a.stats()).to.include({ syncs: 3, records: 3 });
    a.close(); g.close(); n.close();
  });

  it("a record's time is the journal's clock (the commit thread's, ticking every millisecond): no clock call per record", async () => {
    const realNow = Date.now;
    let calls = 0;
    const file = tmpFile('clock.bin');
    const opened = realNow();
    const j = OrderJournal.open(file, { fsync: 'group' });
    const om = new OrderManager({ capacity: 64 });
    Date.now = () => { calls++; return realNow(); };
    try {
      for (let i = 0; i < 20; i++) journalOrder(j, om, i, 100);
    } finally {
      Date.now = realNow;
    }
    expect(calls, 'Date.now calls while appending 100 records').to.equal(0);
    await new Promise((r) => setTimeout(r, 30));
    j.appendVenueSeq(0, 'X', 1);
    const afterSleep = realNow();
    j.close();
    const data = fs.readFileSync(file);
    const time = (record: number) => data.readDoubleLE(record * RECORD_SIZE + 8);
    // Stored at open, then every period: never before the open, never ahead of the wall clock.
    expect(time(1)).to.be.within(opened - 1, afterSleep);
    expect(time(101)).to.be.within(time(1) + 10, afterSleep);
  });

  it('pre-faults the pages ahead of the writer: the writing thread takes far fewer page faults', async function () {
    if (!fs.existsSync(`/proc/self/task/${process.pid}/stat`)) this.skip();
    this.timeout(60000);
    // Minor faults of this (the main) thread only: the commit thread's own faults are its business.
    const minorFaults = () => Number(fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]);
    const om = new OrderManager({ capacity: 64 });
    const p = om.createParent('P1', 'AAPL', 'B', 100, 1_000_000, 'LIMIT', 'DAY');
    const faultsPer1k = async (prefaultBytes: number, ringRecords = 0) => {
      // ringRecords 0: straight into the file mapping, the writer's own stores into the ext4 file.
      const j = OrderJournal.open(tmpFile('prefault.bin'), { fsync: 'group', prefaultBytes, ringRecords });
      let faults = 0;
      // Bursts of 400 records (about 9 pages) with pauses in which the commit thread runs.
      for (let burst = 0; burst < 60; burst++) {
        await new Promise((r) => setTimeout(r, 8));
        const f0 = minorFaults();
        for (let i = 0; i < 400; i++) j.appendOrder(JournalRecordType.STATE, om, p, null, 0, 0, '');
        faults += minorFaults() - f0;
      }
      const prefaulted = j.stats().prefaultedPages;
      j.close();
      return { per1k: (faults / 24000) * 1000, prefaulted };
    };
    const off = await faultsPer1k(0);
    const on = await faultsPer1k(1024 * 1024);
    // The shipped default: the ring on tmpfs, populated at open and never write-protected again.
    const ring = await faultsPer1k(1024 * 1024, 65536);
    expect(ring.per1k, JSON.stringify({ off, on, ring })).to.be.lessThan(off.per1k * 0.25);
    expect(off.prefaulted).to.equal(0);
    expect(on.prefaulted).to.be.greaterThan(0);
    // Without it, about one fault per 4 KiB page (42 records); with it, most pages are ready.
    expect(off.per1k, JSON.stringify({ off, on })).to.be.greaterThan(15);
    // Broken pre-faulting gives a ratio near 1; a starved commit thread on a loaded machine about 0.5.
    expect(on.per1k, JSON.stringify({ off, on })).to.be.lessThan(off.per1k * 0.75);
  });

  it('grows the file ahead of the writer and refuses records beyond its capacity', () => {
    const file = tmpFile('grow.bin');
    const j = OrderJournal.open(file, { fsync: 'never', growRecords: 16, capacityRecords: 100 });
    for (let i = 1; i <= 100; i++) j.appendVenueSeq(0, 'X', i);
    expect(() => j.appendVenueSeq(0, 'X', 101)).to.throw(TickpathError, /full \(100 records\)/).with.property('code', 'ERR_JOURNAL_WRITE');
    expect(j.writable).to.equal(false);
    j.appendVenueSeq(0, 'X', 102);                             // after a failure: counted, not written
    expect(j.stats().lostRecords).to.equal(2);
    j.close();
    expect(OrderJournal.recover(file)).to.include({ records: 100, lastRecordNo: 100 });
  });

  it('validates options with exact messages, and says what replaced batch', () => {
    expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'sometimes' as 'always' }))
      .to.throw(TickpathError, "OrderJournal: option 'fsync' is \"sometimes\", expected 'always', 'group' or 'never'");
    expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'batch' as 'always' }))
      .to.throw(TickpathError, /"batch", which was removed.*use 'group'/);
    expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'group', groupCommitUs: 10 }))
      .to.throw(TickpathError, "OrderJournal: option 'groupCommitUs' is 10, expected an integer from 50 to 1000000");
    expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'group', prefaultBytes: -1 }))
      .to.throw(TickpathError, "OrderJournal: option 'prefaultBytes' is -1, expected an integer from 0 to 67108864");
  });

  for (const policy of ['always', 'group', 'never'] as const) {
    it(`page-cache survival: SIGKILL of an OrderRouter mid-stream loses nothing acknowledged (fsync ${policy}; says nothing about power loss)`, async function () {
      this.timeout(30000);
      const file = tmpFile('crash.bin');
      const { acked } = await runChild(file, policy, { killAfterAcks: 400 });
      const r = expectSurvivedKill(file, acked);
      let expectedPosition = 0;
      for (const o of r.orders.values()) if (o.kind === 'child') expectedPosition += o.side === 'B' ? o.filled : -o.filled;
      expect(r.positions.get('AAPL')! + (r.positions.get('MSFT') ?? 0)).to.equal(expectedPosition);
    });
  }

  describe('the shared-memory ring (records written into /dev/shm, copied into the file by the commit thread)', () => {
    it('SIGKILL mid-stream with the keep-warm storing back the next ring slot after every record (a 64-record ring, lapped many times): nothing acknowledged is lost, nothing damaged', async function () {
      this.timeout(30000);
      const file = tmpFile('ring-warm-crash.bin');
      const { acked } = await runChild(file, 'group', { killAfterAcks: 400, env: { JOURNAL_CHILD_RING: '64', JOURNAL_CHILD_WARM: '8' } });
      expect(Number(acked[acked.length - 1].split(' ')[5]), 'the keep-warm stores ran').to.be.greaterThan(1000);
      expectSurvivedKill(file, acked);
    });

    it('SIGKILL while the ring holds records the file does not: every acknowledged order is recovered from the ring and copied into the file', async function () {
      this.timeout(30000);
      const file = tmpFile('ring-crash.bin');
      // The child holds the copy after 100 orders: the file stops there, the ring goes on.
      const { acked } = await runChild(file, 'group', { killAfterAcks: 400, hold: true });
      const ringFile = OrderJournal.ringPath(file);
      expect(fs.existsSync(ringFile), 'the killed router left its ring').to.equal(true);
      const fileOnly = OrderJournal.recover(file, { ring: false });
      const missing = acked.filter((l) => !fileOnly.orders.has(l.split(' ')[1]));
      expect(missing.length, 'acknowledged orders only the ring holds').to.be.greaterThan(100);
      // Read-only recovery (tickpath journal) sees them and leaves both files alone.
      const r = OrderJournal.recover(file);
      expect(r.fromRing).to.be.greaterThan(300);
      expect(r.damaged).to.deep.equal([]);
      expectAcked(r, acked, acked.length);
      expect(fs.existsSync(ringFile)).to.equal(true);
      // Opening copies the ring's tail into the file, fdatasynced, before anything is appended.
      const j = OrderJournal.open(file, { fsync: 'group' });
      expect(j.recovered.fromRing).to.equal(r.fromRing);
      expect(j.recovered.lastRecordNo).to.equal(r.lastRecordNo);
      j.appendVenueSeq(0, 'NSDQ', 1_000_000);
      j.close();
      expect(fs.existsSync(ringFile), 'a closed journal removes its ring').to.equal(false);
      const after = OrderJournal.recover(file, { ring: false });
      expectAcked(after, acked, acked.length);
      expect(after.lastRecordNo).to.equal(r.lastRecordNo + 1);
    });

    it('a ring of another journal that reused the inode is ignored, never merged', () => {
      const file = tmpFile('ring-other.bin');
      const j = OrderJournal.open(file, { fsync: 'never' });
      for (let i = 1; i <= 5; i++) j.appendVenueSeq(0, 'X', i);
      j.holdFileCopy(true);
      for (let i = 6; i <= 9; i++) j.appendVenueSeq(0, 'X', i);
      const ring = Buffer.from(fs.readFileSync(OrderJournal.ringPath(file)));
      j.close();
      // The same ring file, but its header names another creation time.
      ring.writeDoubleLE(ring.readDoubleLE(16) + 1, 16);
      ring.writeUInt32LE(crc32(ring, 4, RECORD_SIZE), 0);
      const data = fs.readFileSync(file);
      fs.writeFileSync(file, data.subarray(0, 6 * RECORD_SIZE));
      fs.writeFileSync(OrderJournal.ringPath(file), ring);
      expect(OrderJournal.recover(file)).to.include({ lastRecordNo: 5, fromRing: 0 });
      // With its own header it is merged: records 6..9 come back from it.
      ring.writeDoubleLE(ring.readDoubleLE(16) - 1, 16);
      ring.writeUInt32LE(crc32(ring, 4, RECORD_SIZE), 0);
      fs.writeFileSync(OrderJournal.ringPath(file), ring);
      expect(OrderJournal.recover(file)).to.include({ lastRecordNo: 9, fromRing: 4 });
      fs.rmSync(OrderJournal.ringPath(file), { force: true });
    });

    it('the router stores a ring record\'s number last and leaves its crc to the copier: a slot without its number ends the tail, and every copied record is sealed', () => {
      const file = tmpFile('ring-seal.bin');
      const j = OrderJournal.open(file, { fsync: 'never' });
      for (let i = 1; i <= 3; i++) j.appendVenueSeq(0, 'X', i);
      j.holdFileCopy(true);
      for (let i = 4; i <= 7; i++) j.appendVenueSeq(0, 'X', i);
      const ringPath = OrderJournal.ringPath(file);
      const ring = Buffer.from(fs.readFileSync(ringPath));
      const slots = ring.readUInt32LE(12);
      const at = (n: number) => 4096 + (n & (slots - 1)) * RECORD_SIZE;
      expect(ring.readUInt16LE(8), 'ring layout').to.equal(3);
      for (let n = 4; n <= 7; n++) {
        expect(ring.readUInt32LE(at(n) + 4), `record number in ring slot of ${n}`).to.equal(n);
        expect(ring.readUInt32LE(at(n)), `crc of ${n} not yet written by the router`).to.not.equal(crc32(ring, at(n) + 4, at(n) + RECORD_SIZE));
      }
      j.close();
      // The copier sealed every record on its way into the file.
      const whole = OrderJournal.recover(file, { ring: false });
      expect(whole).to.include({ lastRecordNo: 7, records: 7 });
      expect(whole.damaged).to.deep.equal([]);
      // As if killed while record 6 was half written: its slot does not hold its number yet.
      ring.writeUInt32LE(0, at(6) + 4);
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 4 * RECORD_SIZE));
      fs.writeFileSync(ringPath, ring);
      const r = OrderJournal.recover(file);
      expect(r).to.include({ lastRecordNo: 5, records: 5, fromRing: 2 });
      expect(r.damaged).to.deep.equal([]);
      expect(r.venueSeqs.get('X')).to.equal(5);
      fs.rmSync(ringPath, { force: true });
    });

    it("ringCrcBy 'writer' (perf:router's previous path) seals ring records on the router's thread; anything else is refused", () => {
      const file = tmpFile('ring-writer-crc.bin');
      const j = OrderJournal.open(file, { fsync: 'never', ringCrcBy: 'writer' });
      j.holdFileCopy(true);
      for (let i = 1; i <= 3; i++) j.appendVenueSeq(0, 'X', i);
      const ring = fs.readFileSync(OrderJournal.ringPath(file));
      const slots = ring.readUInt32LE(12);
      for (let n = 1; n <= 3; n++) {
        const at = 4096 + (n & (slots - 1)) * RECORD_SIZE;
        expect(ring.readUInt32LE(at), `crc of ${n}`).to.equal(crc32(ring, at + 4, at + RECORD_SIZE));
      }
      j.close();
      expect(OrderJournal.recover(file, { ring: false })).to.include({ lastRecordNo: 3, records: 3 });
      expect(() => OrderJournal.open(tmpFile('y'), { fsync: 'group', ringCrcBy: 'router' as 'writer' }))
        .to.throw(TickpathError, "OrderJournal: option 'ringCrcBy' is \"router\", expected 'copier' or 'writer'");
    });

    it('a full ring is copied by the writer itself; with the copy held the writer refuses instead of overwriting', () => {
      const file = tmpFile('ring-full.bin');
      const j = OrderJournal.open(file, { fsync: 'group', ringRecords: 16 });
      expect(j.stats().ringRecords).to.equal(16);
      for (let i = 1; i <= 1000; i++) j.appendVenueSeq(0, 'X', i);
      expect(j.stats().copiedRecordNo).to.be.at.least(1000 - 16);
      j.holdFileCopy(true);
      let written = 0;
      expect(() => { for (;;) { j.appendVenueSeq(0, 'X', 1001 + written); written++; } })
        .to.throw(TickpathError, /ring of .* is full and its copy is held/).with.property('code', 'ERR_JOURNAL_WRITE');
      // The writer may already stand at the limit it read at its last copy (the commit thread had
      // copied nothing newer): then it refuses at once. Never more than a ring's worth.
      expect(written).to.be.within(0, 16);
      expect(j.stats().ringFullCopies, 'the writer copied a full ring itself').to.be.at.least(1);
      j.close();
      const r = OrderJournal.recover(file, { ring: false });
      expect(r).to.include({ lastRecordNo: 1000 + written, records: 1000 + written });
      expect(r.venueSeqs.get('X')).to.equal(1000 + written);
    });

    it('the failover shipper\'s mapping: reading it copies the ring out and the journal writes into the file from then on', () => {
      const file = tmpFile('ring-mapping.bin');
      const j = OrderJournal.open(file, { fsync: 'never' });
      j.holdFileCopy(true);
      for (let i = 1; i <= 10; i++) j.appendVenueSeq(0, 'X', i);
      const map = j.mapping;
      expect(j.stats().ringRecords).to.equal(0);
      j.appendVenueSeq(0, 'X', 11);
      const dv = new DataView(map.buffer, map.byteOffset, map.byteLength);
      for (let n = 1; n <= 11; n++) expect(dv.getUint32(n * RECORD_SIZE + 4, true), `record number in slot ${n}`).to.equal(n);
      expect(fs.existsSync(OrderJournal.ringPath(file))).to.equal(false);
      j.close();
      expect(OrderJournal.recover(file, { ring: false })).to.include({ lastRecordNo: 11 });
    });

    /** A child process that opens `file`, writes `n` records with the ring's copy held, then ends as `how`. */
    function ringChild(file: string, n: number, how: 'exit' | 'kill'): void {
      const journalJs = path.resolve(__dirname, '../../lib/router/journal.js');
      const src = `const { OrderJournal } = require(${JSON.stringify(journalJs)});
        const j = OrderJournal.open(${JSON.stringify(file)}, { fsync: 'group' });
        j.holdFileCopy(true);
        for (let i = 1; i <= ${n}; i++) j.appendVenueSeq(0, 'X', i);
        ${how === 'exit' ? 'process.exit(0);' : "process.kill(process.pid, 'SIGKILL');"}`;
      const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8' });
      expect(r.signal, r.stderr).to.equal(how === 'exit' ? null : 'SIGKILL');
    }

    it('a process that exits without closing its journal copies the ring into the file and removes it', () => {
      const file = tmpFile('ring-exit.bin');
      ringChild(file, 50, 'exit');
      expect(fs.existsSync(OrderJournal.ringPath(file))).to.equal(false);
      expect(OrderJournal.recover(file, { ring: false })).to.include({ lastRecordNo: 50, fromRing: 0 });
    });

    it('a killed router\'s ring stays while its journal exists and is removed once the journal is gone', () => {
      const kept = tmpFile('ring-kept.bin');
      const gone = tmpFile('ring-gone.bin');
      ringChild(kept, 40, 'kill');
      ringChild(gone, 40, 'kill');
      const keptRing = OrderJournal.ringPath(kept);
      const goneRing = OrderJournal.ringPath(gone);
      expect([fs.existsSync(keptRing), fs.existsSync(goneRing)]).to.deep.equal([true, true]);
      fs.rmSync(path.dirname(gone), { recursive: true, force: true });
      // Any journal attaching its ring sweeps the directory.
      const other = OrderJournal.open(tmpFile('ring-sweeper.bin'), { fsync: 'never' });
      other.close();
      expect([fs.existsSync(keptRing), fs.existsSync(goneRing)]).to.deep.equal([true, false]);
      expect(OrderJournal.recover(kept)).to.include({ lastRecordNo: 40 });
      OrderJournal.open(kept, { fsync: 'never' }).close();
      expect(fs.existsSync(keptRing)).to.equal(false);
    });

    it('validates ringRecords with an exact message', () => {
      expect(() => OrderJournal.open(tmpFile('x'), { fsync: 'group', ringRecords: 1000 }))
        .to.throw(TickpathError, "OrderJournal: option 'ringRecords' is 1000, expected 0 or a power of two from 16 to 4194304");
    });
  });

  describe('power loss, observed through the fsync shim (LD_PRELOAD)', function () {
    /*
     * Method: the child journals orders with the fsync shim (test/router/fsync-shim.c) preloaded.
     * At every fsync/fdatasync of a file in the journal's directory the shim copies the file as it
     * is when the sync starts and, once the real sync returns, publishes that copy: the disk's
     * content if power failed right after that sync, assuming the kernel wrote back nothing else
     * (the worst case a power loss allows). The test SIGKILLs the child mid-stream and recovers
     * the last published copy. Each check uses only the shim's record of sync calls and the
     * child's acknowledgements (printed after sendOrder returned), never the journal's counters.
     */
    this.timeout(60000);
    let shim = '';
    before(function () {
      const src = path.resolve(__dirname, '../../../test/router/fsync-shim.c');
      shim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-shim-')), 'fsync-shim.so');
      const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, src, '-ldl'], { encoding: 'utf8' });
      if (cc.status !== 0) throw new Error(`cannot build the fsync shim: ${cc.stderr}`);
    });

    const GROUP_US = 2000;
    // An fdatasync on this disk, the shim's copy and scheduling on a busy 2-core machine: the
    // bound is generous, yet 20x shorter than the run, so it still fails if the thread stalls.
    const SLACK_MS = 60;

    async function powerLoss(policy: 'always' | 'group' | 'never') {
      const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-power-')));
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-power-out-'));
      const file = path.join(dir, 'orders.journal');
      const run = await runChild(file, policy, {
        runMs: 1500, pauseUs: 200, groupCommitUs: GROUP_US, growRecords: 512,
        env: { LD_PRELOAD: shim, TP_SHIM_WATCH: dir, TP_SHIM_OUT: out },
      });
      const log = fs.existsSync(path.join(out, 'log')) ? fs.readFileSync(path.join(out, 'log'), 'latin1').trim().split('\n') : [];
      const events = log.map((l) => { const f = l.split(' '); return { event: f[0], path: f[1], t0: BigInt(f[2]), t1: BigInt(f[3]) }; });
      const snapshot = path.join(out, 'orders.journal');
      const durable = fs.existsSync(snapshot) ? OrderJournal.recover(snapshot) : undefined;
      return { ...run, events, durable, dir, file, pageCache: OrderJournal.recover(file) };
    }

    function dirSyncedOnCreate(events: { event: string; path: string; t0: bigint }[], dir: string): void {
      const dirSync = events.findIndex((e) => e.event === 'dirsync' && e.path === dir);
      const firstFileSync = events.findIndex((e) => e.path !== dir);
      expect(dirSync, 'the journal directory is fsynced after the file is created').to.be.at.least(0);
      expect(dirSync, 'before any record is made durable').to.be.below(firstFileSync < 0 ? Infinity : firstFileSync);
      expect(events.map((e) => e.event)).to.not.include('msync');
    }

    it("'always': every acknowledged order is on disk", async () => {
      const p = await powerLoss('always');
      dirSyncedOnCreate(p.events, p.dir);
      expect(p.acked.length).to.be.greaterThan(50);
      expectAcked(p.durable!, p.acked, p.acked.length);
    });

    it(`'group' (${GROUP_US} us): everything acknowledged more than ${GROUP_US} us + ${SLACK_MS} ms before the power loss is on disk`, async () => {
      const p = await powerLoss('group');
      dirSyncedOnCreate(p.events, p.dir);
      const bound = p.killedAt - BigInt(GROUP_US * 1000 + SLACK_MS * 1_000_000);
      const mustHave = p.acked.filter((l) => BigInt(l.split(' ')[4]) < bound);
      expect(mustHave.length).to.be.greaterThan(p.acked.length / 2);
      expect(p.durable, 'a group commit happened').to.not.equal(undefined);
      expectAcked(p.durable!, mustHave, mustHave.length, true);
      // The commit thread synced throughout the run (about every GROUP_US plus one fdatasync).
      expect(p.events.filter((e) => e.path === p.file).length).to.be.greaterThan(20);
    });

    it("'never': nothing beyond the header is promised, and the shim sees that (the page cache still has it all)", async () => {
      const p = await powerLoss('never');
      dirSyncedOnCreate(p.events, p.dir);
      expect(p.acked.length).to.be.greaterThan(50);
      expect(p.durable?.records ?? 0, 'no record was synced').to.equal(0);
      expectAcked(p.pageCache, p.acked, p.acked.length);
    });
  });
});

interface ChildRun { acked: string[]; killedAt: bigint }

/** Journals of children this file SIGKILLed: their rings (left for recovery) are removed at the end. */
const killedJournals: string[] = [];
after(() => {
  for (const f of killedJournals) {
    try { fs.rmSync(OrderJournal.ringPath(f), { force: true }); } catch { /* the journal is gone: swept later */ }
  }
});

/** Runs journal-crash-child.js and SIGKILLs it after `killAfterAcks` acks or `runMs`. */
async function runChild(file: string, policy: string, o: { killAfterAcks?: number; runMs?: number; pauseUs?: number;
  groupCommitUs?: number; growRecords?: number; env?: Record<string, string>; hold?: boolean }): Promise<ChildRun> {
  const child = spawn(process.execPath, [path.join(__dirname, 'journal-crash-child.js'), file, policy,
    String(o.groupCommitUs ?? 1000), String(o.growRecords ?? 16384), String(o.pauseUs ?? 100), o.hold ? 'hold' : ''],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...o.env } });
  const acked: string[] = [];
  let partial = '';
  let killedAt = 0n;
  const started = Date.now();
  const kill = (): void => {
    if (child.killed || child.exitCode !== null) return;
    killedAt = process.hrtime.bigint();
    child.kill('SIGKILL');
  };
  const timer = o.runMs ? setTimeout(kill, o.runMs) : undefined;
  await new Promise<void>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('latin1')).split('\n');
      partial = lines.pop()!;
      acked.push(...lines);
      if (o.killAfterAcks && (acked.length >= o.killAfterAcks || Date.now() - started > 10000)) kill();
    });
    child.on('exit', () => resolve());
  });
  clearTimeout(timer);
  expect(child.signalCode, 'the child must have been killed, not finished').to.equal('SIGKILL');
  killedJournals.push(file);
  expect(acked.length).to.be.greaterThan(20);
  return { acked, killedAt };
}

/** Every acknowledged order in `lines` is in `r` as acknowledged (or further along if `atLeast`). */
/**
 * After a SIGKILL mid-stream: the journal recovers undamaged (at most one torn record), every
 * acknowledged order is in it, and it holds at most one order beyond them.
 */
function expectSurvivedKill(file: string, acked: string[]): JournalRecovery {
  const r = OrderJournal.recover(file);
  expect(r.damaged).to.deep.equal([]);
  expect(r.tornRecords).to.be.at.most(1);
  expectAcked(r, acked, acked.length);
  const childCount = [...r.orders.values()].filter((o) => o.kind === 'child').length;
  expect(childCount - acked.length).to.be.within(0, 1);
  return r;
}

function expectAcked(r: JournalRecovery, lines: string[], n: number, atLeast = false): void {
  let lastSeq = 0;
  for (const line of lines.slice(0, n)) {
    const [pid, cid, filled, seq] = line.split(' ');
    const c = r.orders.get(cid);
    expect(c, `${cid} acknowledged but lost`).to.not.equal(undefined);
    expect(c!.parentId).to.equal(pid);
    if (atLeast) expect(c!.filled).to.be.at.least(Number(filled)); else expect(c!.filled).to.equal(Number(filled));
    expect(c!.state).to.be.oneOf([OrderState.ACKNOWLEDGED, OrderState.PARTIALLY_FILLED]);
    expect(r.orders.get(pid)!.kind).to.equal('parent');
    lastSeq = Number(seq);
  }
  expect(r.venueSeqs.get('NSDQ') ?? 0).to.be.at.least(lastSeq);
}
