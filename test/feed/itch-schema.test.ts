import { expect } from 'chai';
import { itchSpec, kItchLengthByCode, kItchMessageSpecs } from '../../lib/feed/itch/itch-schema';

describe('ITCH 5.0 schema', () => {
  it('has every message type of the spec with the spec lengths', () => {
    // NASDAQ TotalView-ITCH 5.0, section 1: message lengths in bytes.
    const expected: Record<string, number> = {
      S: 12, R: 39, H: 25, Y: 20, L: 26, V: 35, W: 12, K: 28, J: 35, h: 21, A: 36, F: 40, E: 31, C: 36, X: 23, D: 19,
      U: 35, P: 44, Q: 40, B: 19, I: 50, N: 20, O: 48,
    };
    const got: Record<string, number> = {};
    for (const s of kItchMessageSpecs) got[s.type] = s.length;
    expect(got).to.deep.equal(expected);
    for (const [t, n] of Object.entries(expected)) expect(kItchLengthByCode[t.charCodeAt(0)]).to.equal(n);
    expect(kItchLengthByCode['Z'.charCodeAt(0)]).to.equal(0);
  });

  it('fields are contiguous after the type byte', () => {
    for (const s of kItchMessageSpecs) {
      let at = 1;
      for (const f of s.fields) { expect(f.offset, `${s.type}.${f.name}`).to.equal(at); at += f.length; }
      expect(at).to.equal(s.length);
    }
  });

  it('itchSpec rejects unknown types with ERR_ITCH_UNKNOWN_TYPE', () => {
    expect(itchSpec('A').name).to.equal('Add Order (No MPID Attribution)');
    expect(() => itchSpec('Z')).to.throw('unknown ITCH 5.0 message type').with.property('code', 'ERR_ITCH_UNKNOWN_TYPE');
    expect(() => itchSpec('AB')).to.throw().with.property('code', 'ERR_ITCH_UNKNOWN_TYPE');
  });
});
