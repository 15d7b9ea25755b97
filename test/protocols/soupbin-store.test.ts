import { expect } from 'chai';
import { SoupSessionStream } from '../../lib/protocols/soupbin/soupbin-server';

describe('SoupSessionStream store: every published payload kept for replay, in chunks', () => {
  it('gives back each message byte for byte by sequence number, across chunk boundaries and a payload near the 64 KiB limit', () => {
    const s = new SoupSessionStream('user', 'S1');
    let seed = 7;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    for (let i = 0; i < 3000; i++) {
      // Mostly order-sized messages, a large one now and then, one of 65534 bytes (SoupBinTCP's most).
      const len = i === 1500 ? 65534 : i % 500 === 499 ? 20000 + rnd(40000) : 1 + rnd(200);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = rnd(256);
      expect(s.publish(b, false)).to.equal(i + 1);
      b.fill(0); // the store copied it: the caller may reuse its buffer
    }
    expect(s.size).to.equal(3000);
    expect(s.nextSeq).to.equal(3001);
    seed = 7;
    for (let i = 0; i < 3000; i++) {
      const len = i === 1500 ? 65534 : i % 500 === 499 ? 20000 + rnd(40000) : 1 + rnd(200);
      const want = Buffer.alloc(len);
      for (let j = 0; j < len; j++) want[j] = rnd(256);
      expect(Buffer.compare(s.message(i + 1), want), `message ${i + 1}`).to.equal(0);
    }
    expect(() => s.message(0)).to.throw(RangeError);
    expect(() => s.message(3001)).to.throw(RangeError);
  });

  it('clear() forgets everything: numbering starts again at 1', () => {
    const s = new SoupSessionStream('user', 'S1');
    for (let i = 0; i < 10; i++) s.publish(Buffer.from(`m${i}`), false);
    s.clear();
    expect(s.nextSeq).to.equal(1);
    expect(s.publish(Buffer.from('again'), false)).to.equal(1);
    expect(s.message(1).toString()).to.equal('again');
    expect(() => s.message(2)).to.throw(RangeError);
  });
});
