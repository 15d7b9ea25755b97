/**
 * FixMappedStore (one mapped file): numbers and messages survive reopening, a reset or adopt
 * retires every older message (none comes back on reopen), a three-file store is imported once,
 * an append cut short is not read as a message, a message encoded in place is recorded where it was
 * reserved (and one never committed is not), and the three-file store refuses a mapped one
 * with the way out. Reads the file's bytes independently where the layout matters.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixMappedStore, mappedStoreAvailable } from '../../lib/protocols/fix/fix-mapped-store';
import { FixFileStore } from '../../lib/protocols/fix/fix-store';
import { FixSession } from '../../lib/protocols/fix/fix-session';

const msg = (seq: number, pad = 0): Buffer => Buffer.from(`8=FIX.4.4\x019=5\x0135=D\x0134=${seq}\x0158=${'x'.repeat(pad)}\x0110=000\x01`, 'latin1');

describe('FixMappedStore', function () {
  let dir: string;
  before(function () { if (!mappedStoreAvailable()) this.skip(); });
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fixmapped-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps both numbers, the creation time and every message (of any length) across reopening', () => {
    const a = new FixMappedStore(dir, 'S', { now: () => 1_700_000_000_123 });
    a.open();
    for (let s = 1; s <= 300; s++) { a.append(s, msg(s, s * 7), 0, msg(s, s * 7).length); a.setSeqs(s + 1, s * 2); }
    a.close();
    const b = new FixMappedStore(dir, 'S');
    b.open();
    expect([b.nextSenderSeq, b.nextTargetSeq, b.createdMs]).to.deep.equal([301, 600, 1_700_000_000_123]);
    for (const s of [1, 2, 150, 300]) expect(b.get(s)!.equals(msg(s, s * 7)), `message ${s}`).to.equal(true);
    expect(b.get(301)).to.equal(null);
    // Append after reopening continues the file.
    b.append(301, msg(301), 0, msg(301).length);
    b.close();
    const c = new FixMappedStore(dir, 'S');
    c.open();
    expect(c.get(301)!.equals(msg(301))).to.equal(true);
    expect(c.get(300)!.equals(msg(300, 2100))).to.equal(true);
    c.close();
  });

  it('reset and adopt retire the older messages: none is read back after reopening, even where the file still holds it', () => {
    const a = new FixMappedStore(dir, 'S', { fsync: 'never' });
    a.open();
    for (let s = 1; s <= 50; s++) a.append(s, msg(s, 100), 0, msg(s, 100).length);
    a.setSeqs(51, 9);
    a.reset();
    a.append(1, msg(1), 0, msg(1).length);
    a.setSeqs(2, 1);
    // Read while `a` is still open, as after a kill: its close would trim the old records away.
    const b = new FixMappedStore(dir, 'S');
    b.open();
    expect(fs.statSync(path.join(dir, 'S.fixlog')).size).to.be.greaterThan(50 * 128);
    expect([b.nextSenderSeq, b.nextTargetSeq]).to.deep.equal([2, 1]);
    expect(b.get(1)!.equals(msg(1))).to.equal(true);
    for (const s of [2, 3, 50]) expect(b.get(s), `message ${s} of the old session`).to.equal(null);
    a.close();
    b.adopt(1_600_000_000_000, 500, 77);
    b.close();
    const c = new FixMappedStore(dir, 'S');
    c.open();
    expect([c.nextSenderSeq, c.nextTargetSeq, c.createdMs]).to.deep.equal([500, 77, 1_600_000_000_000]);
    expect(c.get(1)).to.equal(null);
    c.close();
  });

  it('an append cut short (no record magic yet) is not a message, and the next append takes its place', () => {
    const a = new FixMappedStore(dir, 'S');
    a.open();
    for (let s = 1; s <= 3; s++) a.append(s, msg(s), 0, msg(s).length);
    a.close();
    // A fourth record's bytes without its magic: what a kill between the copy and the magic leaves.
    const f = path.join(dir, 'S.fixlog');
    const b = fs.readFileSync(f);
    let off = 64;
    for (let i = 0; i < 3; i++) off += Math.ceil((16 + b.readUInt32LE(off + 8)) / 64) * 64;
    const torn = Buffer.alloc(128);
    torn.writeUInt32LE(4, 4); torn.writeUInt32LE(msg(4).length, 8); torn.writeUInt32LE(b.readUInt32LE(32), 12);
    msg(4).copy(torn, 16);
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, torn, 0, torn.length, off);
    fs.closeSync(fd);
    const c = new FixMappedStore(dir, 'S');
    c.open();
    expect(c.get(4)).to.equal(null);
    expect(c.nextSenderSeq).to.equal(4);
    c.append(4, msg(4, 3), 0, msg(4, 3).length);
    c.close();
    const d = new FixMappedStore(dir, 'S');
    d.open();
    expect(d.get(4)!.equals(msg(4, 3))).to.equal(true);
    d.close();
  });

  it('a message encoded in place is recorded where reserveInPlace said, read back after reopening; never committed, it is not a message; near the end of the capacity it says no and append still stores', () => {
    const a = new FixMappedStore(dir, 'S', { capacityBytes: 1 << 20 });
    a.open();
    a.append(1, msg(1), 0, msg(1).length);
    const at = a.reserveInPlace(8192);
    expect(at % 64).to.equal(16);
    msg(2, 40).copy(a.bytes, at);
    a.commitInPlace(2, at, at + msg(2, 40).length);
    // Encoded and abandoned (a send refused before it was recorded): bytes past every record.
    const at3 = a.reserveInPlace(8192);
    expect(at3).to.be.greaterThan(at);
    msg(3).copy(a.bytes, at3);
    a.setSeqs(3, 1);
    a.close();
    const b = new FixMappedStore(dir, 'S', { capacityBytes: 1 << 20 });
    b.open();
    expect(b.get(2)!.equals(msg(2, 40))).to.equal(true);
    expect(b.get(3)).to.equal(null);
    expect(b.nextSenderSeq).to.equal(3);
    // Fill to within one largest message of the capacity: in place is refused, not counted as a drop.
    let seq = 3;
    const big = msg(0, 4000);
    while (b.reserveInPlace(8192) >= 0) { b.append(seq, big, 0, big.length); seq++; }
    expect(b.fullDrops).to.equal(0);
    b.append(seq, msg(seq), 0, msg(seq).length);
    expect(b.get(seq)!.equals(msg(seq))).to.equal(true);
    b.close();
  });

  it('imports a three-file store once (numbers, creation time, messages) and renames its files', () => {
    const old = new FixFileStore(dir, 'S', { now: () => 1_650_000_000_000 });
    old.open();
    old.append(1, msg(1), 0, msg(1).length);
    old.append(3, msg(3), 0, msg(3).length);
    old.setSeqs(4, 12);
    old.close();
    const m = new FixMappedStore(dir, 'S');
    m.open();
    expect([m.nextSenderSeq, m.nextTargetSeq, m.createdMs]).to.deep.equal([4, 12, 1_650_000_000_000]);
    expect(m.get(1)!.equals(msg(1))).to.equal(true);
    expect(m.get(2)).to.equal(null);
    expect(m.get(3)!.equals(msg(3))).to.equal(true);
    m.close();
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['S.body.imported', 'S.fixlog', 'S.header.imported', 'S.seqnums.imported']);
    // The three-file store refuses the mapped one rather than start the session from 1.
    expect(() => new FixFileStore(dir, 'S').open()).to.throw(/S\.fixlog \(the mapped store\)[\s\S]*/).with.property('code', 'ERR_FIX_STORE');
  });

  it('a session (storeKind auto) that finds the addon\'s table of mapped files full keeps its store in three files and says so; asked for mapped, it is refused', () => {
    const sessions: FixSession[] = [];
    const logs: string[] = [];
    try {
      let fellBack: FixSession | null = null;
      for (let i = 0; i < 300 && !fellBack; i++) {
        const s = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: `V${i}`, role: 'initiator', storeDir: dir, log: (l) => logs.push(l) });
        sessions.push(s);
        if (s.store.kind === 'files') fellBack = s;
      }
      expect(fellBack, 'no session fell back within 300').to.not.equal(null);
      expect(logs.join('\n')).to.match(/too many open journals[\s\S]*at most 256 files per process[\s\S]*this session keeps its FIX store in three files/);
      expect(() => new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'W', role: 'initiator', storeDir: dir, storeKind: 'mapped' }))
        .to.throw(/too many open journals/).with.property('code', 'ERR_FIX_STORE');
    } finally {
      for (const s of sessions) s.close();
    }
    // Slots are free again once the sessions closed.
    const again = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'X', role: 'initiator', storeDir: dir });
    expect(again.store.kind).to.equal('mapped');
    again.close();
  });

  it('refuses a file that is not a FIX store, naming the file and the way out', () => {
    fs.writeFileSync(path.join(dir, 'S.fixlog'), Buffer.alloc(4096, 0x41));
    const m = new FixMappedStore(dir, 'S');
    expect(() => m.open()).to.throw(/not a layout 1 FIX store/).with.property('code', 'ERR_FIX_STORE');
    expect(m.isOpen).to.equal(false);
  });
});
