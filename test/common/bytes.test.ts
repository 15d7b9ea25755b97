import { expect } from 'chai';
import * as fc from 'fast-check';
import { readAlpha, readU16, readU32, readU48, readU64, writeAlpha, writeU16, writeU32, writeU48, writeU64 } from '../../lib/common/bytes';

describe('bytes', () => {
  it('reads big-endian integers at any offset, matching Buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 16 }), fc.nat(8), (bytes, at) => {
      const o = Math.min(at, bytes.length - 8);
      const b = Buffer.from(bytes);
      expect(readU16(bytes, o)).to.equal(b.readUInt16BE(o));
      expect(readU32(bytes, o)).to.equal(b.readUInt32BE(o));
      expect(readU48(bytes, o)).to.equal(b.readUIntBE(o, 6));
      // hi * 2^32 is exact and the one addition rounds to nearest: exact below 2^53, correctly rounded above.
      expect(readU64(bytes, o)).to.equal(Number(b.readBigUInt64BE(o)));
    }));
  });

  it('writes round-trip through the readers (exact below 2^53)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.maxSafeNat(), (a, b, c, d) => {
      const buf = new Uint8Array(20);
      writeU16(buf, 0, a); writeU32(buf, 2, b); writeU48(buf, 6, c); writeU64(buf, 12, d);
      expect([readU16(buf, 0), readU32(buf, 2), readU48(buf, 6), readU64(buf, 12)]).to.deep.equal([a, b, c, d]);
    }));
  });

  it('alphanumerics are space-padded on write and right-trimmed on read', () => {
    const b = new Uint8Array(8);
    writeAlpha(b, 0, 8, 'BRK A');
    expect(Buffer.from(b).toString('latin1')).to.equal('BRK A   ');
    expect(readAlpha(b, 0, 8)).to.equal('BRK A');
    writeAlpha(b, 0, 8, '');
    expect(readAlpha(b, 0, 8)).to.equal('');
  });
});
