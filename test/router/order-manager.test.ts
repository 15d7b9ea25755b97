import { expect } from 'chai';
import fc from 'fast-check';
import { OrderIdFormat, OrderManager, OmResult } from '../../lib/router/order-manager';
import { ORDER_STATE_NAMES, isTerminal } from '../../lib/router/types';

const name = (s: number) => ORDER_STATE_NAMES[s];

function newOrder(om: OrderManager, id: string, qty = 100, children: number[] = [qty]) {
  const p = om.createParent(id, 'AAPL', 'B', qty, 1_000_000, 'LIMIT', 'DAY');
  const cs = children.map((q, i) => om.createChild(p, `${id}.${i}`, i, q, 1_000_000));
  return { p, cs };
}

describe('OrderManager', () => {
  it('walks a child and its parent through PENDING -> SENT -> ACKNOWLEDGED -> PARTIALLY_FILLED -> FILLED', () => {
    const om = new OrderManager({ capacity: 8 });
    const { p, cs: [c] } = newOrder(om, 'P1');
    expect(name(om.state(c))).to.equal('PENDING');
    expect(name(om.state(p))).to.equal('PENDING');
    expect(om.markSent(c)).to.equal(c);
    expect(name(om.state(p))).to.equal('SENT');
    expect(om.onAck('P1.0')).to.equal(c);
    expect(name(om.state(p))).to.equal('ACKNOWLEDGED');
    expect(om.onFill('P1.0', 40)).to.equal(c);
    expect(name(om.state(c))).to.equal('PARTIALLY_FILLED');
    expect(name(om.state(p))).to.equal('PARTIALLY_FILLED');
    expect(om.position('AAPL')).to.equal(40);
    expect(om.openOrders('AAPL')).to.equal(1);
    expect(om.onFill('P1.0', 60)).to.equal(c);
    expect(name(om.state(c))).to.equal('FILLED');
    expect(name(om.state(p))).to.equal('FILLED');
    expect(om.filled(p)).to.equal(100);
    expect(om.openOrders('AAPL')).to.equal(0);
    expect(om.freeSlots).to.equal(8);
    // terminal: the id is forgotten, later events are refused and counted
    expect(om.onFill('P1.0', 1)).to.equal(OmResult.UNKNOWN_ORDER);
    expect(om.unknownOrders).to.equal(1);
  });

  it('refuses a fill that would exceed the quantity and counts it', () => {
    const om = new OrderManager({ capacity: 8 });
    const { cs: [c] } = newOrder(om, 'P1');
    om.markSent(c); om.onAck('P1.0');
    expect(om.onFill('P1.0', 101)).to.equal(OmResult.OVERFILL);
    expect(om.overfills).to.equal(1);
    expect(om.filled(c)).to.equal(0);
    expect(om.position('AAPL')).to.equal(0);
  });

  it('refuses illegal transitions and counts them', () => {
    const om = new OrderManager({ capacity: 8 });
    const { cs: [c] } = newOrder(om, 'P1');
    expect(om.onAck('P1.0')).to.equal(OmResult.ILLEGAL_TRANSITION);       // not sent yet
    expect(om.onFill('P1.0', 1)).to.equal(OmResult.ILLEGAL_TRANSITION);
    om.markSent(c);
    expect(om.markSent(c)).to.equal(OmResult.ILLEGAL_TRANSITION);
    om.onAck('P1.0');
    expect(om.onAck('P1.0')).to.equal(OmResult.ILLEGAL_TRANSITION);       // duplicate ack
    expect(om.onFill('P1.0', 0)).to.equal(OmResult.ILLEGAL_TRANSITION);
    expect(om.illegalTransitions).to.equal(5);
    expect(name(om.state(c))).to.equal('ACKNOWLEDGED');
  });

  it('cancel: PENDING_CANCEL then CANCELLED with fills kept; a cancel reject returns to the previous state', () => {
    const om = new OrderManager({ capacity: 8 });
    const { p, cs: [c] } = newOrder(om, 'P1');
    om.markSent(c); om.onAck('P1.0'); om.onFill('P1.0', 30);
    expect(om.requestCancel(c)).to.equal(c);
    expect(name(om.state(p))).to.equal('PENDING_CANCEL');
    expect(om.onReject('P1.0')).to.equal(c);                               // cancel refused
    expect(name(om.state(c))).to.equal('PARTIALLY_FILLED');
    expect(name(om.state(p))).to.equal('PARTIALLY_FILLED');
    om.requestCancel(c);
    expect(om.onFill('P1.0', 10)).to.equal(c);                             // fill races the cancel
    expect(name(om.state(c))).to.equal('PENDING_CANCEL');
    expect(om.onCancelled('P1.0', 60)).to.equal(c);
    expect(name(om.state(c))).to.equal('CANCELLED');
    expect(name(om.state(p))).to.equal('CANCELLED');
    expect(om.filled(p)).to.equal(40);
    expect(om.openOrders('AAPL')).to.equal(0);
  });

  it('a partial unsolicited cancel leaves the rest working', () => {
    const om = new OrderManager({ capacity: 8 });
    const { cs: [c] } = newOrder(om, 'P1');
    om.markSent(c); om.onAck('P1.0');
    om.onCancelled('P1.0', 30);
    expect(name(om.state(c))).to.equal('ACKNOWLEDGED');
    expect(om.leavesQty(c)).to.equal(70);
    expect(om.onFill('P1.0', 71)).to.equal(OmResult.OVERFILL);
    expect(om.onFill('P1.0', 70)).to.equal(c);
    expect(name(om.state(c))).to.equal('FILLED');
  });

  it('replace: PENDING_REPLACE, then the order lives on under the new id with the new qty and price', () => {
    const om = new OrderManager({ capacity: 8 });
    const { p, cs: [c] } = newOrder(om, 'P1');
    om.markSent(c); om.onAck('P1.0'); om.onFill('P1.0', 20);
    expect(om.requestReplace(c, 'P1.0r', 10, 999_000)).to.equal(OmResult.ILLEGAL_TRANSITION);  // below filled
    expect(om.requestReplace(c, 'P1.0r', 150, 999_000)).to.equal(c);
    expect(name(om.state(p))).to.equal('PENDING_REPLACE');
    expect(om.onReplaced('P1.0', 'P1.0r', 150, 999_000)).to.equal(c);
    expect(om.idOf(c)).to.equal('P1.0r');
    expect(om.slotOf('P1.0')).to.equal(OmResult.UNKNOWN_ORDER);
    expect(name(om.state(c))).to.equal('PARTIALLY_FILLED');
    expect(om.qty(c)).to.equal(150);
    expect(om.price(c)).to.equal(999_000);
    expect(om.qty(p)).to.equal(150);
    expect(om.onFill('P1.0r', 130)).to.equal(c);
    expect(name(om.state(p))).to.equal('FILLED');
  });

  it('a replace reject keeps the old id and drops the new one', () => {
    const om = new OrderManager({ capacity: 8 });
    const { cs: [c] } = newOrder(om, 'P1');
    om.markSent(c); om.onAck('P1.0');
    om.requestReplace(c, 'NEW', 50, 1);
    expect(om.onReject('NEW')).to.equal(c);
    expect(name(om.state(c))).to.equal('ACKNOWLEDGED');
    expect(om.slotOf('NEW')).to.equal(OmResult.UNKNOWN_ORDER);
    expect(om.slotOf('P1.0')).to.equal(c);
  });

  it('derives a split parent from its children', () => {
    const om = new OrderManager({ capacity: 8 });
    const { p, cs: [a, b, d] } = newOrder(om, 'P1', 300, [100, 100, 100]);
    om.markSent(a); om.markSent(b); om.markSent(d);
    expect(om.onReject('P1.2')).to.equal(d);                  // one venue says no
    expect(name(om.state(p))).to.equal('SENT');
    om.onAck('P1.0');
    expect(name(om.state(p))).to.equal('ACKNOWLEDGED');
    om.onAck('P1.1');
    om.onFill('P1.0', 100);
    expect(name(om.state(p))).to.equal('PARTIALLY_FILLED');
    om.onCancelled('P1.1', 100);
    expect(name(om.state(p))).to.equal('CANCELLED');           // 100 of 300 filled, nothing open
    expect(om.filled(p)).to.equal(100);
    expect(om.freeSlots).to.equal(8);
  });

  it('a parent whose every child is rejected is REJECTED', () => {
    const om = new OrderManager({ capacity: 8 });
    const { p, cs: [a, b] } = newOrder(om, 'P1', 200, [100, 100]);
    om.markSent(a); om.markSent(b);
    om.onReject('P1.0'); om.onReject('P1.1');
    expect(name(om.state(p))).to.equal('REJECTED');
    expect(om.openOrders('AAPL')).to.equal(0);
  });

  it('reports TABLE_FULL instead of growing, and reuses released slots', () => {
    const om = new OrderManager({ capacity: 2 });
    const { cs: [c] } = newOrder(om, 'P1');
    expect(om.createParent('P2', 'AAPL', 'S', 1, 1, 'LIMIT', 'DAY')).to.equal(OmResult.TABLE_FULL);
    om.markSent(c); om.onReject('P1.0');
    expect(om.createParent('P2', 'AAPL', 'S', 1, 1, 'LIMIT', 'DAY')).to.be.at.least(0);
  });

  it('sells and short sells reduce the position', () => {
    const om = new OrderManager({ capacity: 8 });
    const p = om.createParent('S1', 'MSFT', 'SS', 50, 1, 'LIMIT', 'DAY');
    const c = om.createChild(p, 'S1.0', 0, 50, 1);
    om.markSent(c); om.onAck('S1.0'); om.onFill('S1.0', 20);
    expect(om.position('MSFT')).to.equal(-20);
  });

  describe('property: random venue event sequences never break the invariants', () => {
    type Op = { kind: number; order: number; child: number; qty: number };
    const opArb = fc.record({
      kind: fc.integer({ min: 0, max: 7 }),
      order: fc.integer({ min: 0, max: 3 }),
      child: fc.integer({ min: 0, max: 2 }),
      qty: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 31, max: 120 })),
    });

    it('filled <= qty, no exit from a terminal state, positions = sum of accepted fills, refusals counted', function () {
      this.timeout(20000);
      fc.assert(fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3 }), { minLength: 4, maxLength: 4 }),
        fc.array(opArb, { maxLength: 120 }),
        (sizes, ops: Op[]) => {
          const om = new OrderManager({ capacity: 64 });
          const parents: string[] = [];
          const childIds: string[][] = [];
          const sides = ['B', 'S', 'SS'] as const;
          let expectedPosition = 0;
          sizes.forEach((qs, i) => {
            const total = qs.reduce((a, b) => a + b, 0);
            const side = sides[i % 3];
            const p = om.createParent(`P${i}`, 'SYM', side, total, 100, 'LIMIT', 'DAY');
            parents.push(`P${i}`);
            childIds.push(qs.map((q, j) => { om.createChild(p, `C${i}.${j}`, j, q, 100); return `C${i}.${j}`; }));
          });
          const terminalIds = new Set<string>();
          let replaceSeq = 0;
          for (const op of ops) {
            const ids = childIds[op.order];
            const idx = op.child % ids.length;
            const id = ids[idx];
            const slot = om.slotOf(id);
            const before = om.illegalTransitions + om.unknownOrders + om.overfills;
            const sideSign = op.order % 3 === 0 ? 1 : -1;
            let r: number;
            switch (op.kind) {
              case 0: r = slot >= 0 ? om.markSent(slot) : om.onAck(id); break;
              case 1: r = om.onAck(id); break;
              case 2: {
                const f = slot >= 0 ? om.filled(slot) : 0;
                r = om.onFill(id, op.qty);
                if (r >= 0) expectedPosition += sideSign * op.qty;
                else if (slot >= 0) expect(om.filled(slot)).to.equal(f);
                break;
              }
              case 3: r = om.onCancelled(id, op.qty); break;
              case 4: r = om.onReject(id); break;
              case 5: r = slot >= 0 ? om.requestCancel(slot) : om.onAck(id); break;
              case 6: r = slot >= 0 ? om.requestReplace(slot, `R${replaceSeq++}`, op.qty, 101) : om.onAck(id); break;
              default: {
                const pend = slot >= 0 ? om.pendingIdOf(slot) : undefined;
                r = om.onReplaced(id, pend ?? 'none', op.qty, 101);
                if (r >= 0 && pend !== undefined) ids[idx] = pend;
              }
            }
            const after = om.illegalTransitions + om.unknownOrders + om.overfills;
            if (r < 0) expect(after - before, 'every refusal is counted once').to.equal(1);
            else expect(after).to.equal(before);
            if (terminalIds.has(id)) expect(r, `event on terminal ${id}`).to.be.lessThan(0);
            if (r >= 0 && isTerminal(om.state(r))) terminalIds.add(id);
            if (r >= 0 && op.kind === 7 && isTerminal(om.state(r))) terminalIds.add(ids[idx]);

            // Invariants over every live order.
            let liveParents = 0;
            for (let o = 0; o < parents.length; o++) {
              const ps = om.slotOf(parents[o]);
              if (ps >= 0) {
                liveParents++;
                expect(om.filled(ps)).to.be.at.most(om.qty(ps));
                let sum = 0;
                for (let c = om.firstLiveChild(ps); c >= 0; c = om.nextLiveSibling(c)) {
                  expect(om.filled(c) + om.cancelledQty(c)).to.be.at.most(om.qty(c));
                  expect(isTerminal(om.state(c))).to.equal(false);
                  sum += om.qty(c);
                }
                expect(sum).to.be.at.most(om.qty(ps));
              }
            }
            expect(om.openOrders('SYM')).to.equal(liveParents);
            let liveChildren = 0;
            for (let o = 0; o < parents.length; o++) {
              const ps = om.slotOf(parents[o]);
              if (ps >= 0) for (let c = om.firstLiveChild(ps); c >= 0; c = om.nextLiveSibling(c)) liveChildren++;
            }
            expect(om.liveChildSlots()).to.have.length(liveChildren);
            expect(om.freeSlots).to.equal(om.capacity - liveParents - liveChildren);
            expect(om.position('SYM')).to.equal(expectedPosition);
          }
        }), { numRuns: 300 });
    });
  });
});

describe('OrderManager.createSentChildKey (the send path: create and mark SENT in one step)', () => {
  it('property: leaves every slot, the parent state and later transitions as createChildKey + markSent does', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 4 }), fc.nat({ max: 3 }), (qtys, acked) => {
      const snapshot = (sent: boolean) => {
        const om = new OrderManager({ capacity: 16 });
        om.idFormat = new OrderIdFormat(1_700_000_000_000);   // the same id text in both tables
        const total = qtys.reduce((a, b) => a + b, 0);
        const p = om.createParentKey(OrderIdFormat.key(false, 1), 'AAPL', 'B', total, 1_000_000, 'LIMIT', 'DAY');
        const cs = qtys.map((q, i) => {
          const key = OrderIdFormat.key(true, i + 1);
          if (sent) return om.createSentChildKey(p, key, i, q, 1_000_000);
          const c = om.createChildKey(p, key, i, q, 1_000_000);
          om.markSent(c);
          return c;
        });
        const states = [om.state(p), ...cs.map((c) => om.state(c))];
        if (acked < cs.length) om.ackAt(cs[acked]);
        om.fillAt(cs[0], qtys[0]);
        return { cs, states, after: [om.state(p), ...cs.map((c) => om.state(c))], open: om.openOrders('AAPL'),
          position: om.position('AAPL'), illegal: om.illegalTransitions, ids: cs.map((c) => om.idOf(c)) };
      };
      const two = snapshot(false);
      const one = snapshot(true);
      expect(one).to.deep.equal(two);
      expect(one.states.slice(1).every((s) => name(s) === 'SENT')).to.equal(true);
      expect(name(one.states[0])).to.equal('SENT');
      expect(one.illegal).to.equal(0);
    }), { numRuns: 200 });
  });
});
