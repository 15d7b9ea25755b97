/**
 * MoexInstrumentTable: Symbol + TradingSessionID from a decoded X-OLR message's entries to dense
 * locates. Random instruments (symbols of 1-30 characters, sessions of 0-15, many sharing prefixes
 * and suffixes, as MOEX names do) go through the real encoder and decoder; each distinct pair must
 * get its own locate, the same pair the same one every time (from the packet or a copied dictionary
 * value), and the display name must read "SESSION:SYMBOL". Fails if the hash or the key comparison
 * merges two instruments or splits one.
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import { FastDecoder } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder } from '../../../lib/feed/fast/fast-encoder';
import { MoexInstrumentTable } from '../../../lib/feed/fast/moex/moex-instruments';
import { MoexLayouts } from '../../../lib/feed/fast/moex/moex-messages';
import { moexTemplates } from './fast-helpers';

describe('MoexInstrumentTable (instrument keys from the tape, hashed and compared a word at a time)', () => {
  const registry = moexTemplates();
  const layout = new MoexLayouts(registry, 'ANY').layout(registry.templateNamed('X-OLR-CURR').id)!;
  const entry = layout.entry!;

  it('one locate per distinct (session, symbol), the same one on every sighting, named SESSION:SYMBOL (fast-check)', () => {
    const chars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'.split(''));
    const symbol = fc.oneof(
      fc.stringOf(chars, { minLength: 1, maxLength: 30 }),
      // Names that differ in one character in the middle, like SYM001TOM / SYM002TOM.
      fc.integer({ min: 0, max: 999 }).map((k) => `SYM${String(k).padStart(3, '0')}TOM`),
    );
    const session = fc.constantFrom('', 'CETS', 'TQBR', 'CNGD', 'A', 'LONGSESSIONID15');
    fc.assert(fc.property(fc.array(fc.tuple(session, symbol), { minLength: 1, maxLength: 120 }), (pairs) => {
      const table = new MoexInstrumentTable(1000);
      const encoder = new FastEncoder(registry);
      const decoder = new FastDecoder(registry, { transientStrings: true });
      const seen = new Map<string, number>();
      // Three entries per message: the copy operator sends a repeated session only once.
      for (let at = 0; at < pairs.length * 2; at += 3) {
        const part = [0, 1, 2].map((k) => pairs[(at + k) % pairs.length]);
        encoder.resetDictionaries();
        decoder.resetDictionaries();
        const bytes = encoder.encode('X-OLR-CURR', {
          MsgSeqNum: 1, SendingTime: 20170301101500000n,
          GroupMDEntries: part.map(([s, y]) => (s === '' ? { Symbol: y, MDEntryType: '0' } : { Symbol: y, TradingSessionID: s, MDEntryType: '0' })),
        });
        expect(decoder.decode(bytes, 0, bytes.length)).to.be.at.least(0);
        part.forEach(([s, y], i) => {
          const base = decoder.elementBase(layout.entries, i);
          const locate = table.resolve(decoder, base + entry.symbol, base + entry.tradingSessionId);
          const key = s === '' ? y : `${s}:${y}`;
          expect(locate, key).to.be.greaterThan(0);
          if (seen.has(key)) expect(locate, `${key} again`).to.equal(seen.get(key));
          else {
            expect([...seen.values()], `${key} new`).to.not.include(locate);
            seen.set(key, locate);
          }
          expect(table.name(locate)).to.equal(key);
        });
      }
      expect(table.count).to.equal(seen.size);
    }), { numRuns: 150 });
  });

  it('a full table counts the overflow and answers 0; a symbol longer than the key refuses', () => {
    const table = new MoexInstrumentTable(2);
    const encoder = new FastEncoder(registry);
    const decoder = new FastDecoder(registry, { transientStrings: true });
    const bytes = encoder.encode('X-OLR-CURR', {
      MsgSeqNum: 1, SendingTime: 20170301101500000n,
      GroupMDEntries: ['AAA', 'BBB', 'CCC', 'X'.repeat(60)].map((y) => ({ Symbol: y, TradingSessionID: 'CETS', MDEntryType: '0' })),
    });
    expect(decoder.decode(bytes, 0, bytes.length)).to.be.at.least(0);
    const at = (i: number): number => {
      const base = decoder.elementBase(layout.entries, i);
      return table.resolve(decoder, base + entry.symbol, base + entry.tradingSessionId);
    };
    expect([at(0), at(1), at(2), at(0), at(3)]).to.deep.equal([1, 2, 0, 1, 0]);
    expect(table.overflows).to.equal(1);
  });

  it('keys are hashed and compared in zero-padded 32-bit words: names one byte apart across a word boundary stay apart, the longest key fits', () => {
    const table = new MoexInstrumentTable(100);
    const encoder = new FastEncoder(registry);
    const decoder = new FastDecoder(registry, { transientStrings: true });
    const sessions = ['', 'C', 'CETS', 'LONGSESSIONID15'];
    // Lengths 1-9 share every prefix, so a word compare that read only part of the last word, or
    // padding left over from a longer key, would merge two of them; 'Y' x 32 after a 15-byte session
    // is exactly the 48-byte key.
    const symbols = ['A', 'AA', 'AAA', 'AAAA', 'AAAAA', 'AAAAAAA', 'AAAAAAAA', 'AAAAAAAAA', 'AAAAAAAB', 'Y'.repeat(32)];
    const resolveAll = (): number[] => {
      const out: number[] = [];
      for (const s of sessions) {
        // Longest first, then shorter ones into the same key buffer: stale bytes past a key's end must not count.
        for (const y of [...symbols].reverse()) {
          encoder.resetDictionaries();
          decoder.resetDictionaries();
          const bytes = encoder.encode('X-OLR-CURR', {
            MsgSeqNum: 1, SendingTime: 20170301101500000n,
            GroupMDEntries: [s === '' ? { Symbol: y, MDEntryType: '0' } : { Symbol: y, TradingSessionID: s, MDEntryType: '0' }],
          });
          expect(decoder.decode(bytes, 0, bytes.length)).to.be.at.least(0);
          const base = decoder.elementBase(layout.entries, 0);
          const locate = table.resolve(decoder, base + entry.symbol, base + entry.tradingSessionId);
          expect(locate, `${s}:${y}`).to.be.greaterThan(0);
          expect(table.name(locate)).to.equal(s === '' ? y : `${s}:${y}`);
          out.push(locate);
        }
      }
      return out;
    };
    const first = resolveAll();
    expect(new Set(first).size).to.equal(sessions.length * symbols.length);
    expect(resolveAll()).to.deep.equal(first);
    expect(table.count).to.equal(sessions.length * symbols.length);
  });
});
