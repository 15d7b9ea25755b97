import { expect } from 'chai';
import * as fc from 'fast-check';
import { ResendQueue } from '../../lib/protocols/fix/resend-queue';

/** Drains the queue into "seq:R" (replay) / "seq:F" (gap fill) entries. */
function drain(q: ResendQueue): string[] {
  const out: string[] = [];
  while (!q.isEmpty) {
    const replay = q.firstIsReplay;
    out.push(`${q.takeOne()}:${replay ? 'R' : 'F'}`);
  }
  return out;
}

describe('ResendQueue', () => {
  it('merges an overlapping request into the one being answered', () => {
    const q = new ResendQueue();
    q.add(2, 1001, 2);
    for (let i = 0; i < 200; i++) q.takeOne(); // first batch answered: 202..1001 owed
    q.add(600, 610, 600);
    expect(q.first).to.equal(202);
    expect(q.size).to.equal(800);
  });

  it('keeps the capped part of a request as gap fill and lets a later replay win over it', () => {
    const q = new ResendQueue();
    q.add(1, 6, 4); // 1..3 fill, 4..6 replay
    q.add(2, 2, 2); // a later request replays 2
    expect(drain(q)).to.deep.equal(['1:F', '2:R', '3:F', '4:R', '5:R', '6:R']);
  });

  it('takeFillRun takes a whole gap-fill run and nothing of a replay run', () => {
    const q = new ResendQueue();
    q.add(10, 20, 15);
    expect(q.takeFillRun()).to.equal(14);
    expect(q.first).to.equal(15);
    expect(q.takeFillRun()).to.equal(0);
    expect(q.size).to.equal(6);
  });

  it('property: owes exactly the union of the requests, ascending, each number once, replay winning over gap fill', () => {
    const req = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 25 }))
      .map(([b, len, cut]) => [b, b + len, b + cut] as const);
    fc.assert(fc.property(fc.array(req, { maxLength: 8 }), (reqs) => {
      const q = new ResendQueue();
      const model = new Map<number, boolean>();
      for (const [b, e, r] of reqs) {
        q.add(b, e, r);
        for (let s = b; s <= e; s++) model.set(s, (model.get(s) ?? false) || s >= r);
      }
      const want = [...model.keys()].sort((x, y) => x - y).map((s) => `${s}:${model.get(s) ? 'R' : 'F'}`);
      expect(q.size).to.equal(want.length);
      expect(drain(q)).to.deep.equal(want);
    }));
  });
});
