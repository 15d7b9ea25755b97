import { expect } from 'chai';
import { RecoverySequencer, RecoverySequencerOptions } from '../../../lib/feed/recovery/recovery-sequencer';
import { endOfSessionPacket, heartbeatPacket, packetize, SessionGenerator } from '../../../lib/tools/session-generator';
import { bookFingerprint, isExactly, RecordingBooks } from './helpers';

const session = new SessionGenerator({ symbols: 3, rate: 600, durationSeconds: 1, seed: 7 }).messages();
const packets = packetize(session, 'SESS1', 1, 5);

function gapless(): RecordingBooks {
  const books = new RecordingBooks();
  const s = new RecoverySequencer(books, { firstSequence: 1 });
  for (const p of packets) s.onPacket(p.payload, 0, p.payload.length);
  return books;
}

function make(opts: RecoverySequencerOptions = {}) {
  const books = new RecordingBooks();
  const gaps: [number, number][] = [];
  const losses: [number, number][] = [];
  const stale: number[] = [];
  const resets: [boolean, number, number][] = [];
  let now = 1000;
  const seq = new RecoverySequencer(books, {
    firstSequence: 1, clock: () => now, ...opts,
    listener: {
      onGap: (a, b) => { gaps.push([a, b]); }, onLoss: (a, b) => { losses.push([a, b]); },
      onBookStale: (l) => { stale.push(l); }, onSessionReset: (n, p, e) => { resets.push([n, p, e]); },
    },
  });
  const feed = (i: number): number => seq.onPacket(packets[i].payload, 0, packets[i].payload.length);
  return { books, gaps, losses, stale, resets, seq, feed, setNow: (t: number) => { now = t; } };
}

describe('RecoverySequencer', () => {
  it('passes in-order packets straight through and drops duplicates', () => {
    const t = make();
    for (let i = 0; i < 10; i++) t.feed(i);
    t.feed(3); t.feed(9);
    expect(isExactly(t.books.sequences, 1, 50)).to.equal(true);
    expect(t.seq.counters.duplicates).to.equal(10);
    expect(t.gaps).to.deep.equal([]);
    expect(t.seq.heldCount).to.equal(0);
  });

  it('holds messages after a gap, reports the range once, and releases in order when it is filled', () => {
    const t = make();
    t.feed(0); t.feed(1); // 1..10
    t.feed(4); t.feed(3); t.feed(5); // 21..30 (held), 16..20 held, 26..30 dup? no: 26..30 is packet 5 -> held
    expect(t.gaps).to.deep.equal([[11, 20]]);
    expect(isExactly(t.books.sequences, 1, 10)).to.equal(true);
    expect(t.seq.heldCount).to.equal(15);
    expect(t.seq.firstMissing(11, 30)).to.equal(11);
    t.feed(2); // 11..15 fills the head; everything held is released
    expect(isExactly(t.books.sequences, 1, 30)).to.equal(true);
    expect([t.seq.heldCount, t.seq.counters.released, t.seq.blocked]).to.deep.equal([0, 15, false]);
    for (let i = 6; i < packets.length; i++) t.feed(i);
    expect(bookFingerprint(t.books.builder)).to.equal(bookFingerprint(gapless().builder));
  });

  it('a heartbeat ahead of expected reveals a tail gap; a heartbeat at expected does nothing', () => {
    const t = make();
    t.feed(0);
    const hb = heartbeatPacket('SESS1', 6);
    t.seq.onPacket(hb, 0, hb.length);
    expect(t.gaps).to.deep.equal([]);
    const ahead = heartbeatPacket('SESS1', 11);
    t.seq.onPacket(ahead, 0, ahead.length);
    expect(t.gaps).to.deep.equal([[6, 10]]);
    expect([t.seq.counters.heartbeats, t.seq.blocked]).to.deep.equal([2, true]);
    t.feed(1);
    expect(isExactly(t.books.sequences, 1, 10)).to.equal(true);
    expect(t.seq.blocked).to.equal(false);
  });

  it('declared loss: held messages are released, the range reported, and books touched afterwards marked stale', () => {
    const t = make();
    t.feed(0); t.feed(2); t.feed(3);
    t.seq.declareLost(6, 10);
    expect(t.losses).to.deep.equal([[6, 10]]);
    expect(t.books.sequences.length).to.equal(15);
    expect(t.books.sequences.slice(5)).to.deep.equal([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(t.seq.lossesSinceSnapshot).to.equal(1);
    const touched = new Set<number>();
    expect(t.stale.length).to.be.greaterThan(0);
    for (const l of t.stale) { expect(t.seq.staleBooks[l]).to.equal(1); touched.add(l); }
    expect(touched.size).to.equal(t.stale.length); // once per locate
    t.seq.markFresh();
    expect([t.seq.lossesSinceSnapshot, t.seq.staleBooks[t.stale[0]]]).to.deep.equal([0, 0]);
    // A late copy of a lost message is a duplicate now.
    t.feed(1);
    expect(t.seq.counters.duplicates).to.equal(5);
  });

  it('declares the head gap lost after maxHoldMs, and when the held window is full', () => {
    const t = make({ maxHoldMs: 50 });
    t.feed(0); t.feed(2);
    expect(t.seq.poll(1049)).to.equal(0);
    expect(t.seq.poll(1050)).to.equal(1);
    expect(t.losses).to.deep.equal([[6, 10]]);
    expect(t.seq.counters.holdTimeouts).to.equal(1);

    const w = make({ maxHeldMessages: 8 });
    w.feed(0); w.feed(2); // 1..5 delivered, 11..15 held (5 of 8)
    w.feed(3); // 16..20: 20 >= 6 + 8 forces 6..12 out: 6..10 lost, 11,12 released
    expect(w.losses).to.deep.equal([[6, 10]]);
    expect(w.seq.counters.windowOverflows).to.be.greaterThan(0);
    expect(w.books.sequences).to.deep.equal([1, 2, 3, 4, 5, ...Array.from({ length: 10 }, (_, i) => 11 + i)]);
  });

  it('a new session resets the expectation; a large backwards jump in the same session is a restart', () => {
    const t = make({ restartThreshold: 100 });
    for (let i = 0; i < 40; i++) t.feed(i); // 1..200
    const other = packetize(session.slice(0, 10), 'SESS2', 1, 5);
    t.seq.onPacket(other[0].payload, 0, other[0].payload.length);
    expect(t.resets).to.deep.equal([[true, 201, 1]]);
    expect(t.seq.expected).to.equal(6);
    for (let i = 1; i < other.length; i++) t.seq.onPacket(other[i].payload, 0, other[i].payload.length);
    // Same session, far back: treated as a restart, not 10 duplicates.
    const r = make({ restartThreshold: 100 });
    for (let i = 0; i < 40; i++) r.feed(i);
    r.feed(1); // 6..10 while expecting 201: more than 100 back
    expect(r.resets).to.deep.equal([[false, 201, 6]]);
    expect([r.seq.counters.restarts, r.seq.expected, r.seq.lossesSinceSnapshot]).to.deep.equal([1, 11, 1]);
    r.feed(2);
    expect(r.books.sequences.slice(-10)).to.deep.equal([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('end of session is flagged and its sequence can reveal a tail gap', () => {
    const t = make();
    t.feed(0);
    const eos = endOfSessionPacket('SESS1', 8);
    t.seq.onPacket(eos, 0, eos.length);
    expect([t.seq.endOfSession, t.gaps]).to.deep.equal([true, [[6, 7]]]);
  });

  it('suspended (late join) holds live messages, resumeAt drops what the snapshot covered and reports gaps after it', () => {
    const t = make({ suspended: true, firstSequence: 0 });
    t.feed(10); t.feed(11); t.feed(13); // 51..60, 66..70 held
    expect(t.books.sequences).to.deep.equal([]);
    t.seq.resumeAt(56);
    expect(t.seq.counters.coveredBySnapshot).to.equal(5);
    expect(t.gaps).to.deep.equal([[61, 65]]);
    expect(t.books.sequences).to.deep.equal([56, 57, 58, 59, 60]);
    t.feed(12);
    expect(isExactly(t.books.sequences, 56, 70)).to.equal(true);
  });

  it('delivers exactly once in order for shuffled, duplicated arrival of every packet', () => {
    const t = make();
    let x = 12345;
    const order: number[] = [];
    for (let i = 0; i < packets.length; i++) order.push(i, i);
    for (let i = order.length - 1; i > 0; i--) { x = (x * 1103515245 + 12345) >>> 0; const j = x % (i + 1); [order[i], order[j]] = [order[j], order[i]]; }
    for (const i of order) t.feed(i); // 240 packets x 5 messages: fits the default 4096-message window
    expect(t.seq.counters.duplicates).to.equal(session.length);
    expect(isExactly(t.books.sequences, 1, session.length)).to.equal(true);
    expect(t.losses).to.deep.equal([]);
    expect(bookFingerprint(t.books.builder)).to.equal(bookFingerprint(gapless().builder));
  });
});
