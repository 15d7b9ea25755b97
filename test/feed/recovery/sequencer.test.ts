import { expect } from 'chai';
import * as fc from 'fast-check';
import { Sequencer } from '../../../lib/feed/recovery/sequencer';

const s1 = Buffer.from('SESSION001');
const s2 = Buffer.from('SESSION002');

function withGaps(first?: number) {
  const gaps: [number, number][] = [];
  const seq = new Sequencer({ firstSequence: first, gapListener: { onGap: (a, b) => { gaps.push([a, b]); } } });
  return { seq, gaps };
}

describe('Sequencer', () => {
  it('accepts in-order packets and drops whole duplicates', () => {
    const { seq, gaps } = withGaps(1);
    expect(seq.accept(s1, 0, 1, 3)).to.equal(0);
    expect(seq.accept(s1, 0, 4, 2)).to.equal(0);
    expect(seq.accept(s1, 0, 1, 3)).to.equal(3);
    expect(seq.accept(s1, 0, 4, 2)).to.equal(2);
    expect(seq.expected).to.equal(6);
    expect(gaps).to.deep.equal([]);
    expect([seq.counters.accepted, seq.counters.duplicates]).to.deep.equal([5, 5]);
  });

  it('skips the seen head of an overlapping packet', () => {
    const { seq } = withGaps(1);
    seq.accept(s1, 0, 1, 5);
    expect(seq.accept(s1, 0, 4, 5)).to.equal(2);
    expect(seq.expected).to.equal(9);
  });

  it('reports each gap once as an inclusive range, from data packets and from heartbeats', () => {
    const { seq, gaps } = withGaps(1);
    seq.accept(s1, 0, 1, 2);
    expect(seq.accept(s1, 0, 10, 2)).to.equal(0);
    expect(seq.accept(s1, 0, 15, 0)).to.equal(0); // heartbeat: next is 15
    expect(seq.accept(s1, 0, 15, 1)).to.equal(0);
    expect(gaps).to.deep.equal([[3, 9], [12, 14]]);
    expect([seq.counters.gaps, seq.counters.missing, seq.expected]).to.deep.equal([2, 10, 16]);
    // A late packet from inside a reported gap is below expected: dropped, not re-reported.
    expect(seq.accept(s1, 0, 5, 1)).to.equal(1);
    expect(gaps).to.have.length(2);
  });

  it('without firstSequence starts from the first packet; a new session resets; end of session is flagged', () => {
    const { seq, gaps } = withGaps();
    expect(seq.accept(s1, 0, 2 ** 40, 3)).to.equal(0);
    expect(seq.expected).to.equal(2 ** 40 + 3);
    seq.accept(s1, 0, 2 ** 40 + 3, 0, true);
    expect(seq.endOfSession).to.equal(true);
    expect(seq.accept(s2, 0, 1, 1)).to.equal(0);
    expect([seq.endOfSession, seq.expected, seq.counters.sessionChanges]).to.deep.equal([false, 2, 1]);
    expect(gaps).to.deep.equal([]);
  });

  it('delivers every sequence number exactly once for any arrival order of overlapping packets (fast-check)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 8 })), { maxLength: 80 }), (packets) => {
      const { seq, gaps } = withGaps(1);
      const delivered: number[] = [];
      for (const [start, count] of packets) {
        const skip = seq.accept(s1, 0, start, count);
        for (let i = skip; i < count; i++) delivered.push(start + i);
      }
      // Strictly increasing: no duplicate, no reordering.
      for (let i = 1; i < delivered.length; i++) expect(delivered[i]).to.be.greaterThan(delivered[i - 1]);
      // Delivered + gaps cover 1..expected-1 exactly.
      const covered = new Set(delivered);
      for (const [a, b] of gaps) for (let x = a; x <= b; x++) { expect(covered.has(x)).to.equal(false); covered.add(x); }
      expect(covered.size).to.equal(seq.expected - 1);
      expect(seq.counters.accepted).to.equal(delivered.length);
    }), { numRuns: 300 });
  });

  it('validates options', () => {
    expect(() => new Sequencer({ firstSequence: -1 })).to.throw("Sequencer: option 'firstSequence' is -1, expected a safe integer >= 0");
  });
});
