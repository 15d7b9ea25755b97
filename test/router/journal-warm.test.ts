import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JournalRecordType, OrderJournal } from '../../lib/router/journal';
import { OrderIdFormat, OrderManager } from '../../lib/router/order-manager';

/**
 * OrderJournal.warmNextSlot, the keep-warm's one store into real state: it stores back what it
 * read in the next ring slot and the written position, so a reader, the copier and a restart see
 * the same bytes; and it stores nothing into a slot the copier has not passed yet.
 */
describe('router/journal warmNextSlot (keep-warm ownership of the next ring slot)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-journal-warm-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const om = new OrderManager({ capacity: 64 });
  const p = om.createParentKey(OrderIdFormat.key(false, 3), 'AAPL', 'B', 100, 1_000_000, 'LIMIT', 'DAY');
  const append = (j: OrderJournal, n: number): void => {
    for (let i = 0; i < n; i++) j.appendOrder(JournalRecordType.NEW_PARENT, om, p, null, 0, 0, '');
  };
  const waitCopied = async (j: OrderJournal): Promise<void> => {
    for (let i = 0; i < 500 && j.stats().copiedRecordNo < j.lastRecordNo; i++) await new Promise((r) => setTimeout(r, 2));
    expect(j.stats().copiedRecordNo).to.equal(j.lastRecordNo);
  };

  it('stores back what it read: ring bytes, file bytes and the published position do not change, and a restart recovers the same records', async () => {
    const file = path.join(dir, 'warm.journal');
    // A 16-record ring lapped twice: the next slot holds an old, copied record (a wrong store shows in recovery).
    const j = OrderJournal.open(file, { fsync: 'group', ringRecords: 16, ringDir: dir });
    append(j, 37);
    await waitCopied(j);
    const ringFile = OrderJournal.ringPath(file, dir);
    const ring = fs.readFileSync(ringFile);
    const stored = fs.readFileSync(file);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += j.warmNextSlot();
    expect(sum).to.be.greaterThan(0);
    expect(j.warmedSlots, 'the stores ran').to.equal(10_000);
    expect(fs.readFileSync(ringFile).equals(ring), 'ring bytes unchanged').to.equal(true);
    expect(fs.readFileSync(file).equals(stored), 'file bytes unchanged').to.equal(true);
    expect([j.lastRecordNo, j.stats().copiedRecordNo]).to.deep.equal([37, 37]);
    // The next record goes exactly where it would have; the copier still copies it.
    append(j, 5);
    for (let i = 0; i < 100; i++) j.warmNextSlot();
    await waitCopied(j);
    j.close();
    const r = OrderJournal.recover(file, { ringDir: dir });
    expect([r.lastRecordNo, r.damaged.length, r.tornRecords]).to.deep.equal([42, 0, 0]);
  });

  it('stores nothing into a slot the copier has not passed (copy held, ring full up to the next slot)', async () => {
    const file = path.join(dir, 'held.journal');
    const j = OrderJournal.open(file, { fsync: 'group', ringRecords: 16, ringDir: dir });
    append(j, 3);
    await waitCopied(j);
    j.holdFileCopy(true);
    // Records 1..3 are in the file (copied position 4): the writer may fill slots up to 4 + 16 - 1 =
    // 19, whose ring slot held record 3. Slot 20's ring slot holds record 4, which the held copier
    // has not copied: the next record cannot go there yet, and the keep-warm must not store there.
    append(j, 16);
    expect(j.lastRecordNo).to.equal(19);
    const ring = fs.readFileSync(OrderJournal.ringPath(file, dir));
    expect(j.warmNextSlot()).to.equal(0);
    expect(j.warmedSlots).to.equal(0);
    expect(fs.readFileSync(OrderJournal.ringPath(file, dir)).equals(ring)).to.equal(true);
    j.holdFileCopy(false);
    j.close();
    expect(OrderJournal.recover(file, { ringDir: dir }).lastRecordNo).to.equal(19);
  });

  it('does nothing without a ring (fsync always writes straight into the file mapping)', () => {
    const file = path.join(dir, 'direct.journal');
    const j = OrderJournal.open(file, { fsync: 'always', capacityRecords: 1024, growRecords: 256 });
    append(j, 2);
    const bytes = fs.readFileSync(file);
    expect(j.warmNextSlot()).to.equal(0);
    expect(j.warmedSlots).to.equal(0);
    expect(fs.readFileSync(file).equals(bytes)).to.equal(true);
    j.close();
  });
});
