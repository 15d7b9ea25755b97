import { expect } from 'chai';
import { LineArbiter } from '../../../lib/feed/recovery/line-arbiter';
import { RecoverySequencer } from '../../../lib/feed/recovery/recovery-sequencer';
import { packetize, SessionGenerator } from '../../../lib/tools/session-generator';
import { bookFingerprint, isExactly, RecordingBooks } from './helpers';

const messages = new SessionGenerator({ symbols: 4, rate: 800, durationSeconds: 1, seed: 3 }).messages();
const packets = packetize(messages, 'ABLINE', 1, 4);

describe('LineArbiter (A/B)', () => {
  it('A misses some packets, B others, both miss one: only that one is a gap; everything delivered once in order', () => {
    const books = new RecordingBooks();
    const gaps: [number, number][] = [];
    let now = 5000;
    const arb = new LineArbiter(books, { lineWaitMs: 3, staleAfterMs: 100, clock: () => now, sequencer: { firstSequence: 1 }, listener: { onGap: (a, b) => { gaps.push([a, b]); } } });
    const missA = new Set([5, 6, 20, 77, 120, 150]);
    const missB = new Set([9, 33, 34, 35, 121, 150]);
    // Lines drift apart: each chunk of 10 packets comes on A, then on B.
    for (let c = 0; c < packets.length; c += 10) {
      for (const [line, miss] of [[0, missA], [1, missB]] as const) {
        for (let i = c; i < Math.min(c + 10, packets.length); i++) {
          if (!miss.has(i)) arb.onLinePacket(line, packets[i].payload, 0, packets[i].payload.length, now);
        }
      }
      now += 1; // less than the wait: B's copies arrive in time
      arb.poll(now);
    }
    now += 10;
    arb.poll(now);
    const both = packets[150];
    expect(gaps).to.deep.equal([[both.sequenceNumber, both.sequenceNumber + both.messageCount - 1]]);
    expect(arb.counters.confirmedGaps).to.equal(1);
    expect(arb.counters.coveredByOtherLine).to.be.greaterThan(0);
    // The retransmission of the confirmed gap goes through the same sequencer.
    arb.onPacket(both.payload, 0, both.payload.length);
    expect(isExactly(books.sequences, 1, messages.length)).to.equal(true);

    const [a, b] = arb.lines;
    const count = (miss: Set<number>) => packets.reduce((n, p, i) => n + (miss.has(i) ? 0 : p.messageCount), 0);
    expect(a.messages).to.equal(count(missA));
    expect(b.messages).to.equal(count(missB));
    expect(a.firsts + b.firsts + both.messageCount).to.equal(messages.length);
    expect(a.duplicates + b.duplicates).to.equal(a.messages + b.messages - a.firsts - b.firsts);
    expect(b.firsts).to.equal([5, 6, 20, 77, 120].reduce((n, i) => n + packets[i].messageCount, 0));
    expect([a.gaps, b.gaps]).to.deep.equal([5, 4]); // 5,6 | 20 | 77 | 120 | 150  and  9 | 33-35 | 121 | 150

    const gapless = new RecordingBooks();
    const s = new RecoverySequencer(gapless, { firstSequence: 1 });
    for (const p of packets) s.onPacket(p.payload, 0, p.payload.length);
    expect(bookFingerprint(books.builder)).to.equal(bookFingerprint(gapless.builder));
  });

  it('detects a stale line once, and its return', () => {
    let now = 0;
    const events: string[] = [];
    const arb = new LineArbiter(new RecordingBooks(), {
      staleAfterMs: 50, clock: () => now, sequencer: { firstSequence: 1 },
      listener: { onLineStale: (_i, n) => events.push(`stale ${n}`), onLineAlive: (_i, n) => events.push(`alive ${n}`) },
    });
    for (let i = 0; i < 20; i++) {
      now += 10;
      arb.onLinePacket(0, packets[i].payload, 0, packets[i].payload.length, now);
      if (i < 3) arb.onLinePacket(1, packets[i].payload, 0, packets[i].payload.length, now);
      arb.poll(now);
    }
    expect(events).to.deep.equal(['stale B']);
    expect([arb.lines[0].stale, arb.lines[1].stale, arb.lines[1].lastArrivalMs]).to.deep.equal([false, true, 30]);
    arb.onLinePacket(1, packets[20].payload, 0, packets[20].payload.length, now);
    expect(events).to.deep.equal(['stale B', 'alive B']);
    expect(arb.lines[1].gaps).to.equal(1);
  });
});
