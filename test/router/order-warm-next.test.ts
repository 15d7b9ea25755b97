import { expect } from 'chai';
import { loadRoutingConfig } from '../../lib/router/routing-config';
import type { RouterStack } from '../../lib/router/router-stack';
import { kRoutingConfig, recordingRouterStack, type RecordingRouterStack } from '../helpers/router-stack-fixture';
import { OrderIdFormat, OrderManager } from '../../lib/router/order-manager';
import { OrderPathWarmer } from '../../lib/pipeline/stages/order-path';


type Any = Record<string, any>;

/** Every byte and value of an object's own state, two levels deep (typed arrays copied, arrays and Maps listed). */
function snapshot(o: Any, depth = 2): unknown {
  const out: Any = {};
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (ArrayBuffer.isView(v)) out[k] = Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)).toString('base64');
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'object' && x !== null ? '[object]' : x));
    else if (v instanceof Map) out[k] = [...v.entries()].map(([a, b]) => [a, typeof b === 'object' ? '[object]' : b]);
    else if (typeof v === 'object' && v !== null) out[k] = depth > 0 && v.constructor?.name === 'KeyTable' ? snapshot(v, depth - 1) : '[object]';
    else if (typeof v !== 'function') out[k] = v;
  }
  return out;
}

/** Wraps `arr` (a typed array field of `owner`) so each indexed store is recorded as [index, old, new]. */
function recordStores(owner: Any, field: string): [number, number, number][] {
  const stores: [number, number, number][] = [];
  const arr = owner[field];
  owner[field] = new Proxy(arr, {
    set(t, k, v) {
      if (typeof k === 'string' && /^\d+$/.test(k)) stores.push([Number(k), t[Number(k)], v]);
      t[k as any] = v;
      return true;
    },
    get(t, k) { const v = t[k as any]; return typeof v === 'function' ? v.bind(t) : v; },
  });
  return stores;
}

/**
 * OrderRouter.warmNextOrder / OrderManager.warmNext: the keep-warm's stores into the real order
 * table. They must land exactly where the next order will store (the next parent and child slots,
 * the key-table entries of the next keys), store what is there (no byte changes), and never move
 * a slot, key, count or free-list position.
 */
describe('router/order table warmNext (keep-warm ownership of the next order\'s lines)', () => {
  let fx: RecordingRouterStack;
  let dir: string;
  let stack: RouterStack;
  let sent: string[];
  let bbo: RecordingRouterStack['bbo'];
  let order: RecordingRouterStack['order'];

  beforeEach(() => {
    fx = recordingRouterStack('MSFT', 'tp-om-warm-', (cfg) => { cfg.orderCapacity = 256; });
    ({ dir, stack, sent, bbo, order } = fx);
  });
  afterEach(() => fx.close());

  it('changes no byte of the order table, its key table, free list or the router\'s slot arrays, over live, ended and reused slots', () => {
    const om = stack.orderManager as unknown as Any;
    const router = stack.router as unknown as Any;
    const state = (): unknown => [snapshot(om), snapshot(router, 0)];
    // Orders live, ended (rejected: slots back on the free list with their stale data) and reused.
    for (let i = 0; i < 40; i++) {
      const p = stack.router.submitOrder(order('MSFT'));
      expect(p).to.be.at.least(0);
      if (i % 3 === 0) { const c = om.firstChild[p]; om.rejectAt(c); }
    }
    const before = state();
    let sum = 0;
    for (let i = 0; i < 5000; i++) sum += stack.router.warmNextOrder(i % 2 === 0 ? 'MSFT' : 'NEVERSEEN');
    expect(sum).to.be.greaterThan(0);
    expect(state(), 'warmNextOrder changed the real order table or router').to.deep.equal(before);
    // The same orders follow as without it: the next order takes the predicted slot and keys.
    const slot = (stack.orderManager as OrderManager).nextFreeSlot();
    const p = stack.router.submitOrder(order('MSFT'));
    expect(p).to.equal(slot);
    expect(om.idKeyOf(p)).to.equal(OrderIdFormat.key(false, 41));
  });

  it('stores into exactly the entries the next order stores into: its two slots and its keys\' key-table entries', () => {
    const om = stack.orderManager as unknown as Any;
    for (let i = 0; i < 20; i++) stack.router.submitOrder(order('MSFT'));
    const kt = om.keyToSlot as Any;
    const keyStores = recordStores(kt, 'keys');
    const idStores = recordStores(om, 'idKeys');
    const kindStores = recordStores(om, 'kind');
    const fl = om.freeList as Int32Array;
    const top = om.freeTop as number;
    const [nextP, nextC] = [fl[top - 1], fl[top - 2]];
    stack.router.warmNextOrder('MSFT');
    // Every store wrote back the value it found.
    for (const [, was, now] of [...keyStores, ...idStores, ...kindStores]) expect(now).to.equal(was);
    const warmedSlots = idStores.map((s) => s[0]).sort((a, b) => a - b);
    expect(warmedSlots).to.deep.equal([nextP, nextC].sort((a, b) => a - b));
    expect(kindStores.map((s) => s[0]).sort((a, b) => a - b)).to.deep.equal(warmedSlots);
    const warmedKeyEntries = new Set(keyStores.map((s) => s[0]));
    keyStores.length = 0; idStores.length = 0;
    // The real order now stores into those same entries.
    const p = stack.router.submitOrder(order('MSFT'));
    expect(p).to.equal(nextP);
    expect(om.firstChild[p]).to.equal(nextC);
    const orderKeyEntries = keyStores.map((s) => s[0]);
    expect(orderKeyEntries).to.have.length(2);
    for (const e of orderKeyEntries) expect(warmedKeyEntries.has(e), `key entry ${e} stored by the order was not warmed`).to.equal(true);
    expect(idStores.map((s) => s[0]).sort((a, b) => a - b)).to.deep.equal(warmedSlots);
  });

  it('a full table: warms nothing, changes nothing', () => {
    const om = new OrderManager({ capacity: 2 });
    om.createParentKey(OrderIdFormat.key(false, 1), 'MSFT', 'B', 1, 1, 'LIMIT', 'DAY');
    const before = snapshot(om as unknown as Any);
    expect(om.warmNext(OrderIdFormat.key(false, 2), OrderIdFormat.key(true, 2), 0)).to.equal(0);
    expect(snapshot(om as unknown as Any)).to.deep.equal(before);
  });

  it('each keep-warm dry run calls it on the real router (ownNext), and ownNext: false does not', () => {
    const cfg = loadRoutingConfig(kRoutingConfig);
    stack.router.submitOrder(order('MSFT'));
    const om = stack.orderManager as unknown as Any;
    const before = snapshot(om);
    const warm = stack.router.warmNextOrder;
    const symbols: string[] = [];
    stack.router.warmNextOrder = (s: string) => { symbols.push(s); return warm.call(stack.router, s); };
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowRoute: false });
    warmer.noteOrder(order('MSFT'));
    for (let i = 0; i < 500; i++) warmer.run();
    expect([warmer.turns, warmer.nextWarms, symbols.length]).to.deep.equal([500, 500, 500]);
    expect(new Set(symbols)).to.deep.equal(new Set(['MSFT']));
    expect(snapshot(om), 'the dry runs changed the real order table').to.deep.equal(before);
    const off = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { shadowRoute: false, ownNext: false });
    off.noteOrder(order('MSFT'));
    for (let i = 0; i < 10; i++) off.run();
    expect([off.nextWarms, symbols.length]).to.deep.equal([0, 500]);
    sent.length = 0;
    expect(stack.router.submitOrder(order('MSFT'))).to.be.at.least(0);
    expect(sent).to.have.length(1);
    warmer.close();
    off.close();
  });
});
