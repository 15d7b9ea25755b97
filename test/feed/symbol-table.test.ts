import { expect } from 'chai';
import { SymbolTable } from '../../lib/feed/book/symbol-table';

describe('SymbolTable', () => {
  it('builds a symbol string once per locate and returns the same string after', () => {
    const t = new SymbolTable();
    const a = Buffer.from('xxMETA    ');
    const first = t.resolve(6514, a, 2);
    expect(first).to.equal('META');
    expect(t.resolve(6514, Buffer.from('META    '), 0)).to.equal(first);
    expect(t.resolutions).to.equal(1);
    expect(t.symbolOf(6514)).to.equal('META');
    expect(t.symbolOf(1)).to.equal('');
  });

  it('re-resolves when the exchange reuses a locate for another symbol', () => {
    const t = new SymbolTable();
    t.resolve(9, Buffer.from('AAPL    '), 0);
    expect(t.resolve(9, Buffer.from('AAPLW   '), 0)).to.equal('AAPLW');
    expect(t.resolutions).to.equal(2);
  });
});
