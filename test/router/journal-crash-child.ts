/**
 * Child process for the journal crash test (not a test file itself). Journals orders with the
 * policy given on the command line and, only after each append returns, tells the parent on
 * stdout what it acknowledged. The parent SIGKILLs it mid-stream and checks the journal.
 *
 * argv: <journal path> <fsync policy>
 */
import * as fs from 'fs';
import { OrderJournal, JournalRecordType } from '../../lib/router/journal';
import { OrderManager } from '../../lib/router/order-manager';

const [path, policy] = process.argv.slice(2);
const journal = OrderJournal.open(path, { fsync: policy as 'always' });
const om = new OrderManager({ capacity: 1 << 16 });
for (let i = 0; i < 30000; i++) {
  const pid = `P${i}`;
  const cid = `C${i}`;
  const p = om.createParent(pid, i % 2 ? 'MSFT' : 'AAPL', i % 3 ? 'B' : 'S', 100, 1_000_000 + i, 'LIMIT', 'DAY');
  journal.appendOrder(JournalRecordType.NEW_PARENT, om, p, null, 0, 0, '');
  const c = om.createChild(p, cid, 0, 100, 1_000_000 + i);
  journal.appendOrder(JournalRecordType.NEW_CHILD, om, c, null, 0, 0, pid);
  om.markSent(c);
  journal.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, pid);
  om.onAck(cid);
  journal.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, pid);
  journal.appendVenueSeq(0, 'NSDQ', i + 1);
  let filled = 0;
  if (i % 4 === 0) {
    om.onFill(cid, 30);
    journal.appendOrder(JournalRecordType.FILL, om, c, null, 30, 1_000_000 + i, pid);
    filled = 30;
  }
  journal.flush();
  fs.writeSync(1, `${pid} ${cid} ${filled} ${i + 1}\n`);
}
journal.close();
