/**
 * FixFileStore records when its session began (created, or reset to sequence 1) instead of reading
 * the `.seqnums` file's mtime, which moves with every message: a session created before the daily
 * reset time but written after it must still be recognised as yesterday's.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixFileStore } from '../../lib/protocols/fix/fix-store';
import { FixConnector } from '../../lib/router/connectors/fix-connector';
import { VenueSimulator } from '../../lib/venue-sim/venue-simulator';

describe('FixFileStore creation time', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fix-created-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is recorded at creation, survives writes and reopening, and moves only on reset', () => {
    let now = 1_700_000_000_000;
    const s = new FixFileStore(dir, 'A-B', { fsync: 'never', now: () => now });
    s.open();
    expect(s.createdMs).to.equal(1_700_000_000_000);
    now += 3_600_000;
    s.setSeqs(7, 9);
    s.append(6, Buffer.from('8=FIX.4.4\x01'), 0, 10);
    expect(s.createdMs).to.equal(1_700_000_000_000);
    s.close();
    const text = fs.readFileSync(path.join(dir, 'A-B.seqnums'), 'latin1');
    expect(text).to.equal('00000000000000000007 00000000000000000009 00000001700000000000\n');
    const again = new FixFileStore(dir, 'A-B', { fsync: 'never', now: () => now });
    again.open();
    expect([again.nextSenderSeq, again.nextTargetSeq, again.createdMs, again.creationMigrated]).to.deep.equal([7, 9, 1_700_000_000_000, false]);
    now += 1000;
    again.reset();
    expect([again.nextSenderSeq, again.nextTargetSeq, again.createdMs]).to.deep.equal([1, 1, 1_700_003_601_000]);
    again.close();
    const third = new FixFileStore(dir, 'A-B', { fsync: 'never' });
    third.open();
    expect(third.createdMs).to.equal(1_700_003_601_000);
    third.close();
  });

  it('a store written before creation times were recorded is read as created at its last write, once, and rewritten', () => {
    fs.writeFileSync(path.join(dir, 'OLD-V.seqnums'), '00000000000000000012 00000000000000000034\n');
    fs.writeFileSync(path.join(dir, 'OLD-V.body'), '');
    fs.writeFileSync(path.join(dir, 'OLD-V.header'), '');
    const mtime = new Date(1_600_000_000_000);
    fs.utimesSync(path.join(dir, 'OLD-V.seqnums'), mtime, mtime);
    const s = new FixFileStore(dir, 'OLD-V', { fsync: 'never' });
    s.open();
    expect([s.nextSenderSeq, s.nextTargetSeq, s.createdMs, s.creationMigrated]).to.deep.equal([12, 34, 1_600_000_000_000, true]);
    s.setSeqs(13, 34);
    s.close();
    expect(fs.readFileSync(path.join(dir, 'OLD-V.seqnums'), 'latin1')).to.equal('00000000000000000013 00000000000000000034 00000001600000000000\n');
    const again = new FixFileStore(dir, 'OLD-V', { fsync: 'never' });
    again.open();
    expect([again.createdMs, again.creationMigrated]).to.deep.equal([1_600_000_000_000, false]);
    again.close();
  });

  it('a .seqnums file that holds no sequence numbers is refused with the file named and the way out', () => {
    fs.writeFileSync(path.join(dir, 'BAD-V.seqnums'), 'garbage\n');
    const s = new FixFileStore(dir, 'BAD-V', { fsync: 'never' });
    expect(() => s.open()).to.throw(/BAD-V\.seqnums holds "garbage\\n", not sequence numbers/).with.property('code', 'ERR_FIX_STORE');
  });

  it('FixConnector with a daily schedule: a session created before the last reset but written after it logs on with ResetSeqNumFlag=Y', async () => {
    const sim = new VenueSimulator({ ouchPort: null, fixPort: 0, fixStoreDir: path.join(dir, 'venue'), heartbeatIntervalMs: 1000 });
    const { fixPort } = await sim.start();
    // Reset time 30 minutes ago (UTC); the session was created 90 minutes ago and last written now.
    const resetAt = new Date(Date.now() - 30 * 60_000);
    const hhmmss = resetAt.toISOString().slice(11, 19);
    const storeDir = path.join(dir, 'client');
    const old = new FixFileStore(storeDir, 'FIX.4.4-OLDDAY-VENUE', { fsync: 'never', now: () => Date.now() - 90 * 60_000 });
    old.open();
    old.setSeqs(40, 1);
    old.close();
    const lines: string[] = [];
    const c = new FixConnector({ name: 'S', host: '127.0.0.1', port: fixPort, version: 'FIX.4.4', senderCompId: 'OLDDAY', targetCompId: 'VENUE',
      storeDir, heartbeatIntervalSec: 1, schedule: { resetTime: hhmmss, timeZone: 'UTC' }, log: (l) => lines.push(l) });
    expect(c.session.store.id).to.equal('FIX.4.4-OLDDAY-VENUE');
    try {
      await c.connect();
      expect(c.stats().dailyResets, lines.join('\n')).to.equal(1);
      expect(c.stats().nextSenderSeq).to.equal(2);
      expect(lines.some((l) => /before the last daily reset; logging on with ResetSeqNumFlag=Y/.test(l))).to.equal(true);
      expect(c.session.store.createdMs).to.be.greaterThan(resetAt.getTime());
    } finally {
      await c.close();
      await sim.stop();
    }
  });
});
