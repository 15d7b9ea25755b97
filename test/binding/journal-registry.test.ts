import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { binding } from '../../lib/binding';
import { RECORD_SIZE } from '../../lib/router/journal';

/** journal_glue.cc's id registry, called directly: ids, failures and lookups from another thread. */
interface Registry {
  journalOpen(path: string, slotBytes: number, capacitySlots: number, growSlots: number, groupCommitUs: number,
    groupCommit: boolean, prefaultBytes: number): { id: number };
  journalSync(id: number): void;
  journalDrainRing(id: number): void;
  journalEnsure(id: number, slots: number): void;
  journalHoldCopy(id: number, held: boolean): void;
  journalClose(id: number, keepSlots: number, sync: boolean): void;
}

describe('journal id registry (journal_glue.cc)', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-jreg-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const n = () => binding() as unknown as Registry;
  const open = (file: string) => n().journalOpen(file, RECORD_SIZE, 1024, 1024, 1000, false, 0).id;

  it('a failed open gives its id back: 300 failures (more than the 256 ids) and the next open still gets the lowest id', () => {
    const first = open(path.join(dir, 'a'));
    n().journalClose(first, 1, false);
    for (let i = 0; i < 300; i++) expect(() => open(path.join(dir, 'no-such-dir', `j${i}`))).to.throw(/no-such-dir|ENOENT|No such file/);
    const again = open(path.join(dir, 'a'));
    expect(again).to.equal(first);
    n().journalClose(again, 1, false);
  });

  it('every call on a closed or unknown id throws RangeError instead of touching freed memory', () => {
    const id = open(path.join(dir, 'b'));
    n().journalSync(id);
    n().journalDrainRing(id);
    n().journalClose(id, 1, true);
    for (const bad of [id, -1, 256, 1e9]) {
      expect(() => n().journalSync(bad), `sync ${bad}`).to.throw(RangeError, 'no open journal with that id');
      expect(() => n().journalDrainRing(bad), `drain ${bad}`).to.throw(RangeError, 'no open journal with that id');
      expect(() => n().journalEnsure(bad, 10), `ensure ${bad}`).to.throw(RangeError, 'no open journal with that id');
      expect(() => n().journalHoldCopy(bad, false), `hold ${bad}`).to.throw(RangeError, 'no open journal with that id');
      expect(() => n().journalClose(bad, 1, false), `close ${bad}`).to.throw(RangeError, 'no open journal with that id');
    }
  });

  it("a journal's owner thread syncs it while another thread opens and closes other journals", async () => {
    const id = open(path.join(dir, 'owned'));
    const addon = require.resolve('../../lib/binding/native');
    // The owner: a worker that syncs the journal by id, as the router's stage worker does.
    const w = new Worker(`
      const { parentPort, workerData } = require('worker_threads');
      const b = require(workerData.addon).binding();
      let syncs = 0;
      const until = Date.now() + 1500;
      while (Date.now() < until) { b.journalSync(workerData.id); b.journalDrainRing(workerData.id); syncs++; }
      parentPort.postMessage(syncs);`, { eval: true, workerData: { addon, id } });
    const syncs = new Promise<number>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    let opens = 0;
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const other = open(path.join(dir, `other-${opens % 4}`));
      expect(other).to.not.equal(id);
      n().journalClose(other, 1, false);
      opens++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await syncs).to.be.greaterThan(0);
    expect(opens).to.be.greaterThan(0);
    n().journalClose(id, 1, true);
  });
});
