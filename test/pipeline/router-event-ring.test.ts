import { expect } from 'chai';
import { SpscRing } from '../../lib/common/spsc-ring';
import { RouterEventReader, RouterEventWriter, kRouterEventRecordBytes } from '../../lib/pipeline/stage-rings';

/** The router -> strategy ring as a split pipeline uses it: ids written as bytes, read as strings. */
describe('router -> strategy event ring', () => {
  function pair() {
    const ring = SpscRing.create({ capacity: 64, recordBytes: kRouterEventRecordBytes });
    const got: { kind: string; id: string; qty: number; price: number; detail: string }[] = [];
    const reader = new RouterEventReader(ring, (kind, id, qty, price, detail) => { got.push({ kind, id, qty, price, detail }); }, 64);
    return { writer: new RouterEventWriter(ring), reader, got };
  }

  it('delivers each id exactly, one string per id shared by its events, and the empty and 16-character ids', () => {
    const { writer, reader, got } = pair();
    writer.write('accepted', 'Pmwx2q9ry1', 0, 0, '');
    writer.write('acked', 'Pmwx2q9ry1', 0, 0, '');
    writer.write('filled', 'Pmwx2q9ry1', 100, 1_000_100, '');
    writer.write('accepted', 'Pmwx2q9ry2', 0, 0, '');
    writer.write('rejected', '', 0, 0, 'RISK_LIMIT qty');
    writer.write('accepted', 'ABCDEFGHIJKLMNOP', 0, 0, '');
    expect(reader.doWork()).to.equal(6);
    expect(got.map((e) => `${e.kind} ${e.id} ${e.qty} ${e.price} ${e.detail}`)).to.deep.equal([
      'accepted Pmwx2q9ry1 0 0 ', 'acked Pmwx2q9ry1 0 0 ', 'filled Pmwx2q9ry1 100 1000100 ', 'accepted Pmwx2q9ry2 0 0 ',
      'rejected  0 0 RISK_LIMIT qty', 'accepted ABCDEFGHIJKLMNOP 0 0 ',
    ]);
  });

  it('ids that share a table entry are never confused: 5000 ids, each read back as written', () => {
    const { writer, reader, got } = pair();
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push(`C${(i * 7919).toString(36).padStart(9, '0')}`);
    // Each id twice, then all again in reverse order: hits, misses and overwritten entries.
    const order = [...ids.flatMap((id) => [id, id]), ...ids.slice().reverse()];
    for (let i = 0; i < order.length; i++) {
      writer.write('acked', order[i], i, 0, '');
      if ((i & 31) === 31) reader.doWork();
    }
    while (reader.doWork() > 0) { /* drain */ }
    expect(got.length).to.equal(order.length);
    for (let i = 0; i < order.length; i++) expect(got[i].id, `event ${i}`).to.equal(order[i]);
  });
});
