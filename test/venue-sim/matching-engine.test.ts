import { expect } from 'chai';
import * as fc from 'fast-check';
import { MatchingEngine, type EngineOrder, type MatchListener } from '../../lib/venue-sim/matching-engine';

class Log implements MatchListener {
  events: string[] = [];
  filled = new Map<string, number>();
  cancelled = new Map<string, number>();
  onAccepted(o: EngineOrder): void { this.events.push(`A ${o.token}`); }
  onExecuted(o: EngineOrder, qty: number, price: number, m: number, liq: 'A' | 'R'): void {
    this.events.push(`E ${o.token} ${qty}@${price} #${m} ${liq}`);
    this.filled.set(o.token, (this.filled.get(o.token) ?? 0) + qty);
  }
  onCanceled(o: EngineOrder, qty: number, reason: string): void {
    this.events.push(`C ${o.token} ${qty} ${reason}`);
    this.cancelled.set(o.token, (this.cancelled.get(o.token) ?? 0) + qty);
  }
  onReplaced(p: EngineOrder, n: EngineOrder): void { this.events.push(`U ${p.token}->${n.token} ${n.open}@${n.price}`); }
}

describe('MatchingEngine', () => {
  it('matches by price then time and executes at the resting price', () => {
    const log = new Log();
    const e = new MatchingEngine(log);
    e.submit('a', 'S1', 'X', 'S', 100, 101, false, false);
    e.submit('a', 'S2', 'X', 'S', 100, 100, false, false);
    e.submit('b', 'S3', 'X', 'S', 100, 100, false, false);
    log.events = [];
    e.submit('c', 'B1', 'X', 'B', 250, 101, false, false);
    expect(log.events).to.deep.equal([
      'A B1',
      'E S2 100@100 #1 A', 'E B1 100@100 #1 R',
      'E S3 100@100 #2 A', 'E B1 100@100 #2 R',
      'E S1 50@101 #3 A', 'E B1 50@101 #3 R',
    ]);
    expect(e.top('X')).to.deep.equal({ bid: 0, bidQty: 0, ask: 101, askQty: 50 });
  });

  it('IOC and market remainders are cancelled, not booked', () => {
    const log = new Log();
    const e = new MatchingEngine(log);
    e.submit('a', 'S1', 'X', 'S', 10, 100, false, false);
    e.submit('a', 'B1', 'X', 'B', 30, 0, true, false);
    expect(log.events.slice(-1)).to.deep.equal(['C B1 20 ioc']);
    e.submit('a', 'B2', 'X', 'B', 5, 99, false, true);
    expect(log.events.slice(-1)).to.deep.equal(['C B2 5 ioc']);
    expect(e.top('X').bid).to.equal(0);
  });

  it('cancel, partial cancel, replace and day-unique tokens', () => {
    const log = new Log();
    const e = new MatchingEngine(log);
    e.submit('a', 'B1', 'X', 'B', 100, 50, false, false);
    expect(e.cancel('a', 'B1', 60)).to.equal('ok');
    expect(log.events.slice(-1)).to.deep.equal(['C B1 40 user']);
    expect(e.replace('a', 'B1', 'B1b', 70, 55)).to.equal('ok');
    expect(log.events.slice(-1)).to.deep.equal(['U B1->B1b 70@55']);
    expect(e.cancel('a', 'B1', 0)).to.equal('unknown-order');
    expect(e.submit('a', 'B1', 'X', 'B', 1, 1, false, false)).to.equal('duplicate-token');
    expect(e.submit('b', 'B1', 'X', 'B', 1, 1, false, false)).to.equal('ok'); // tokens are per owner
    expect(e.cancel('a', 'B1b')).to.equal('ok');
    expect(e.top('X')).to.deep.equal({ bid: 1, bidQty: 1, ask: 0, askQty: 0 });
  });

  it('a token found unused and then burnt or entered is used from then on (the answer kept for submit is dropped)', () => {
    const e = new MatchingEngine(new Log());
    // As the FIX front end does for a refused order: ask, then burn the token without an order.
    expect(e.hasToken('a', 'R1')).to.equal(false);
    e.markTokenUsed('a', 'R1');
    expect(e.hasToken('a', 'R1')).to.equal(true);
    expect(e.submit('a', 'R1', 'X', 'B', 1, 1, false, false)).to.equal('duplicate-token');
    // Ask, enter, ask again: the same key strings, a different answer.
    expect(e.hasToken('a', 'B1')).to.equal(false);
    expect(e.submit('a', 'B1', 'X', 'B', 1, 1, false, false)).to.equal('ok');
    expect(e.hasToken('a', 'B1')).to.equal(true);
    // A replace's new token likewise.
    expect(e.hasToken('a', 'B2')).to.equal(false);
    expect(e.replace('a', 'B1', 'B2', 1, 2)).to.equal('ok');
    expect(e.hasToken('a', 'B2')).to.equal(true);
    expect(e.find('a', 'B2')!.key).to.equal('a\u0001B2');
    // Same token, other owner: its own key.
    expect(e.hasToken('b', 'B2')).to.equal(false);
  });

  it('a token below the owner\'s highest still takes the set: reused tokens are refused whatever order they come in', () => {
    const e = new MatchingEngine(new Log());
    // Base-36 counters: 'Cz' then 'C10' (longer is later), then the earlier ones again.
    for (const t of ['C8', 'Cz', 'C10']) expect(e.submit('a', t, 'X', 'B', 1, 1, false, false)).to.equal('ok');
    for (const t of ['C8', 'Cz', 'C10']) expect(e.submit('a', t, 'X', 'B', 1, 1, false, false)).to.equal('duplicate-token');
    // Below the highest but never used: entered.
    expect(e.submit('a', 'C9', 'X', 'B', 1, 1, false, false)).to.equal('ok');
    // Another owner's high mark is its own; back to the first owner, its mark is kept.
    expect(e.submit('b', 'C1', 'X', 'B', 1, 1, false, false)).to.equal('ok');
    expect(e.hasToken('a', 'C10')).to.equal(true);
    expect(e.hasToken('a', 'C11')).to.equal(false);
    expect(e.hasToken('b', 'C10')).to.equal(false);
    // 'C9' came after 'C10': owner a's tokens are no longer in order; b's still are.
    expect(e.tokenStats()).to.deep.equal({ ordered: 1, unordered: 1 });
  });

  it('a base-36 counter\'s tokens (the router\'s ids) stay in order: no set of every token for that owner', () => {
    const e = new MatchingEngine(new Log());
    for (let i = 1; i <= 2000; i++) {
      const token = `C0abcdefg${i.toString(36)}`;
      expect(e.hasToken('O:R', token)).to.equal(false);
      expect(e.submit('O:R', token, 'X', i & 1 ? 'B' : 'S', 1, 100, false, false)).to.equal('ok');
    }
    expect(e.tokenStats()).to.deep.equal({ ordered: 1, unordered: 0 });
    expect(e.hasToken('O:R', `C0abcdefg${(1000).toString(36)}`)).to.equal(true);
    expect(e.submit('O:R', 'C0abcdefg1', 'X', 'B', 1, 100, false, false)).to.equal('duplicate-token');
  });

  it('property: hasToken and submit agree with a plain set of used tokens for any order of owners and tokens', () => {
    const step = fc.record({
      op: fc.constantFrom('submit', 'burn', 'ask', 'replace'),
      owner: fc.constantFrom('a', 'b', 'O:RTT'),
      // Few characters, so tokens repeat; '1' < '9' < 'z' as base-36 digits sort.
      token: fc.stringMatching(/^[19z]{0,3}$/),
      next: fc.stringMatching(/^[19z]{1,3}$/),
    });
    fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const e = new MatchingEngine(new Log());
      const used = new Set<string>();
      const live = new Set<string>();
      for (const s of steps) {
        const k = `${s.owner}|${s.token}`;
        if (s.op === 'ask') expect(e.hasToken(s.owner, s.token)).to.equal(used.has(k));
        else if (s.op === 'burn') { e.markTokenUsed(s.owner, s.token); used.add(k); }
        else if (s.op === 'submit') {
          // Each order rests alone at its own price: every accepted one stays live for a replace.
          const r = e.submit(s.owner, s.token, `S${s.owner}${s.token}`, 'B', 1, 1, false, false);
          expect(r).to.equal(used.has(k) ? 'duplicate-token' : 'ok');
          if (r === 'ok') { used.add(k); live.add(k); }
        } else {
          const n = `${s.owner}|${s.next}`;
          const r = e.replace(s.owner, s.token, s.next, 1, 2);
          const want = !live.has(k) ? 'unknown-order' : s.next !== s.token && used.has(n) ? 'duplicate-token' : 'ok';
          expect(r).to.equal(want);
          if (r === 'ok') { live.delete(k); used.add(n); live.add(n); }
        }
      }
    }), { numRuns: 300 });
  });

  it('property: for random order flow, filled + cancelled + open = entered for every order, and buys = sells', () => {
    const op = fc.record({ side: fc.constantFrom<'B' | 'S'>('B', 'S'), qty: fc.integer({ min: 1, max: 500 }),
      price: fc.integer({ min: 95, max: 105 }), ioc: fc.boolean(), cancel: fc.boolean() });
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const log = new Log();
      const e = new MatchingEngine(log);
      const entered = new Map<string, { qty: number; side: 'B' | 'S' }>();
      ops.forEach((x, i) => {
        const tok = `T${i}`;
        e.submit('o', tok, 'X', x.side, x.qty, x.price, false, x.ioc);
        entered.set(tok, { qty: x.qty, side: x.side });
        if (x.cancel && i > 0) e.cancel('o', `T${i - 1}`);
      });
      let bought = 0;
      let sold = 0;
      for (const [tok, { qty, side }] of entered) {
        const open = e.find('o', tok)?.open ?? 0;
        expect((log.filled.get(tok) ?? 0) + (log.cancelled.get(tok) ?? 0) + open, tok).to.equal(qty);
        if (side === 'B') bought += log.filled.get(tok) ?? 0; else sold += log.filled.get(tok) ?? 0;
      }
      expect(bought).to.equal(sold);
      const top = e.top('X');
      if (top.bid && top.ask) expect(top.bid).to.be.lessThan(top.ask);
    }), { numRuns: 200 });
  });
});
