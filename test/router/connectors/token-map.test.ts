import { expect } from 'chai';
import { TokenMap } from '../../../lib/router/connectors/token-map';

/**
 * TokenMap (the OUCH connector's per-order maps) against a Map as the oracle: random sets, deletes
 * and lookups over a small key space (so probe runs collide, wrap and shift back), through growth,
 * and iteration in insertion order (what resends after a re-login rely on).
 */
describe('router/connectors/TokenMap', () => {
  // A small deterministic generator (xorshift32): the same sequence every run.
  const rng = (seed: number) => () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 4294967296; };

  it('agrees with Map on get, has, size, delete and insertion-ordered entries over 200,000 random operations', () => {
    const r = rng(12345);
    const t = new TokenMap<number>(4);
    const m = new Map<string, number>();
    const key = () => `T${Math.floor(r() * 300)}`;
    for (let i = 0; i < 200_000; i++) {
      const k = key();
      const op = r();
      if (op < 0.45) { t.set(k, i); m.set(k, i); }
      else if (op < 0.9) expect(t.delete(k), `delete ${k} at ${i}`).to.equal(m.delete(k));
      else expect(t.get(k), `get ${k} at ${i}`).to.equal(m.get(k));
      expect(t.size).to.equal(m.size);
      if (i % 5000 === 0) {
        expect(t.entries()).to.deep.equal([...m.entries()]);
        for (let j = 0; j < 300; j++) expect(t.has(`T${j}`)).to.equal(m.has(`T${j}`));
      }
    }
    expect(t.entries()).to.deep.equal([...m.entries()]);
    t.clear();
    expect(t.size).to.equal(0);
    expect(t.entries()).to.deep.equal([]);
    expect(t.get('T1')).to.equal(undefined);
  });

  it('an existing key keeps its place in insertion order when set again, as with Map', () => {
    const t = new TokenMap<string>();
    t.set('A', 'a'); t.set('B', 'b'); t.set('A', 'a2');
    expect(t.entries()).to.deep.equal([['A', 'a2'], ['B', 'b']]);
  });
});
