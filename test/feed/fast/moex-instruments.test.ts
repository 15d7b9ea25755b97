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
import { fastRecordHash, fastRecordKeyWords } from '../../../lib/feed/fast/fast-record-compiler';
import { MoexInstrumentTable } from '../../../lib/feed/fast/moex/moex-instruments';
import { MoexLayouts } from '../../../lib/feed/fast/moex/moex-messages';
import { moexTemplates } from './fast-helpers';

describe('MoexInstrumentTable (instrument keys from the tape, hashed and compared a word at a time)', () => {
  const registry = moexTemplates();
  const layout = new MoexLayouts(registry, 'ANY').layout(registry.templateNamed('X-OLR-CURR').id)!;
  const entry = layout.entry!;
  /** An instrument's display name: SESSION:SYMBOL, or the symbol alone without a session. */
  const named = (session: string, symbol: string): string => (session === '' ? symbol : `${session}:${symbol}`);
  /** One X-OLR entry's MDEntries element. */
  const entryOf = (session: string, symbol: string): Record<string, string> =>
    (session === '' ? { Symbol: symbol, MDEntryType: '0' } : { Symbol: symbol, TradingSessionID: session, MDEntryType: '0' });
  /** A message of these entries through the real encoder and decoder, dictionaries reset first. */
  const decodeEntries = (encoder: FastEncoder, decoder: FastDecoder, entries: [string, string][]): void => {
    encoder.resetDictionaries();
    decoder.resetDictionaries();
    const bytes = encoder.encode('X-OLR-CURR', { MsgSeqNum: 1, SendingTime: 20170301101500000n, GroupMDEntries: entries.map(([s, y]) => entryOf(s, y)) });
    expect(decoder.decode(bytes, 0, bytes.length)).to.be.at.least(0);
  };
  /** A string as sent: ASCII with the stop bit on its last byte. */
  const wire = (text: string): number[] => [...text].map((ch, k) => ch.charCodeAt(0) | (k === text.length - 1 ? 0x80 : 0));
  /** Same fastRecordHash and length as base: byte i xor 1, byte i + 1 xor 32. */
  const twin = (base: string, i: number): string => base.slice(0, i) + String.fromCharCode(base.charCodeAt(i) ^ 1, base.charCodeAt(i + 1) ^ 32) + base.slice(i + 2);
  /** resolveBytes on a key laid out in b as session at so, then symbol, with the record hashes the reader computes. */
  const resolveIn = (table: MoexInstrumentTable, b: Uint8Array, so: number, session: string, symbol: string): number => {
    const yo = so + session.length;
    return table.resolveBytes(b, yo, symbol.length, fastRecordHash(b, yo, symbol.length, 0x7f), so, session.length,
      session.length === 0 ? 0 : fastRecordHash(b, so, session.length, 0x7f));
  };

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
        decodeEntries(encoder, decoder, part);
        part.forEach(([s, y], i) => {
          const base = decoder.elementBase(layout.entries, i);
          const locate = table.resolve(decoder, base + entry.symbol, base + entry.tradingSessionId);
          const key = named(s, y);
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
          decodeEntries(encoder, decoder, [[s, y]]);
          const base = decoder.elementBase(layout.entries, 0);
          const locate = table.resolve(decoder, base + entry.symbol, base + entry.tradingSessionId);
          expect(locate, `${s}:${y}`).to.be.greaterThan(0);
          expect(table.name(locate)).to.equal(named(s, y));
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

  /**
   * resolveBytes, the incremental refresh's path: keys in a packet (stop bit on each string's last
   * byte), compared a 32-bit word at a time when the words fit in the packet and a byte at a time
   * when the key ends within 3 bytes of the packet's end. Pairs built to have the same record hash
   * and length (flipping bit 0 of one byte and bit 5 of the next cancels in fastRecordHash) reach
   * the compare, at every byte position of every word; a compare that ignored a word, its masked
   * tail, the session/symbol split or the stop bit would merge them.
   */
  it('from the packet: same-hash keys stay apart in word and byte compares, and agree with the tape path', () => {
    const table = new MoexInstrumentTable(2000);
    const tape = new MoexInstrumentTable(2000);
    const encoder = new FastEncoder(registry);
    const decoder = new FastDecoder(registry, { transientStrings: true });
    const keys: [string, string][] = [];
    for (const session of ['', 'C', 'CETS', 'TQBR1', 'LONGSESSIONID15']) {
      for (const base of ['AB', 'USD000UTSTOM', 'ABCDEFGHIJKLMNOPQ']) {
        keys.push([session, base]);
        for (let i = 0; i + 1 < base.length; i++) {
          keys.push([session, twin(base, i)]);
        }
      }
    }
    // A session/symbol split of the same bytes: 'CETS' + 'AB' against 'CET' + 'SAB' and the like.
    keys.push(['CET', 'SAB'], ['CETSA', 'B']);
    const resolveAt = (session: string, symbol: string, atEnd: boolean): number => {
      const bytes = [...wire(session), ...wire(symbol)];
      // Words fit (4 spare bytes after the key), or the key is the packet's last bytes (bytes compared).
      const b = Uint8Array.from(atEnd ? [0x80, ...bytes] : [0x80, ...bytes, 0x81, 0x82, 0x83, 0x84]);
      return resolveIn(table, b, 1, session, symbol);
    };
    // Same hash indeed (the point of the twins).
    const h = (t: string): number => fastRecordHash(Uint8Array.from(wire(t)), 0, t.length, 0x7f);
    expect(h('USD000UTSTOM')).to.equal(h('USD000UTST' + String.fromCharCode('O'.charCodeAt(0) ^ 1, 'M'.charCodeAt(0) ^ 32)));
    expect(h('AB')).to.equal(h(String.fromCharCode('A'.charCodeAt(0) ^ 1, 'B'.charCodeAt(0) ^ 32)));
    const locates = new Map<string, number>();
    for (const atEnd of [false, true, false]) {
      for (const [session, symbol] of keys) {
        const name = named(session, symbol);
        const locate = resolveAt(session, symbol, atEnd);
        expect(locate, name).to.be.greaterThan(0);
        expect(table.name(locate), name).to.equal(name);
        if (locates.has(name)) expect(locate, `${name} again (${atEnd ? 'bytes' : 'words'})`).to.equal(locates.get(name));
        locates.set(name, locate);
      }
    }
    expect(table.count).to.equal(new Set(keys.map(([s, y]) => `${s}:${y}`)).size);
    // The tape path (snapshots, trades) names the same instruments with the same locates, in the same order.
    for (const [session, symbol] of keys) {
      decodeEntries(encoder, decoder, [[session, symbol]]);
      const base = decoder.elementBase(layout.entries, 0);
      const name = named(session, symbol);
      expect(tape.resolve(decoder, base + entry.symbol, base + entry.tradingSessionId), name).to.equal(locates.get(name));
    }
    // A table filled from the tape finds them from the packet (keys stored by resolve, compared by resolveBytes).
    for (const [session, symbol] of keys) {
      const name = named(session, symbol);
      const b = Uint8Array.from([...wire(session), ...wire(symbol), 0, 0, 0, 0]);
      expect(resolveIn(tape, b, 0, session, symbol), `${name} from the packet into the tape's table`).to.equal(locates.get(name));
    }
    expect(tape.count).to.equal(table.count);
  });

  /**
   * resolveBytes' cache (one line per key hash, the packet array kept): a hit must compare every
   * word of the key. Twins (same fastRecordHash and lengths, so the same key hash and cache line)
   * take turns in one line at every byte position of every word, from one reused packet array at
   * shifting offsets; a hit that trusted the hash and lengths, or skipped a word, the session word or
   * the masked tail, would answer one twin with the other's locate. Counts show the cache is used:
   * a repeated key costs no miss, a twin evicts the line, a session longer than a word or a key at
   * the packet's end is never cached, and a new packet array misses once.
   */
  it('the cache in front of resolveBytes: twins sharing a line never answer for each other; hits, evictions and uncached keys counted', () => {
    const table = new MoexInstrumentTable(2000);
    const packet = new Uint8Array(256);
    let shift = 0;
    const at = (session: string, symbol: string, offset?: number): number => {
      const bytes = [...wire(session), ...wire(symbol)];
      const o = offset ?? 8 + (shift++ % 40);
      packet.fill(0x55);
      packet.set(bytes, o);
      return resolveIn(table, packet, o, session, symbol);
    };
    at('CETS', 'WARMUP'); // the first call on this array: the view is made
    for (const session of ['', 'C', 'CETS']) {
      for (const base of ['AB', 'SYM348TOM', 'USD000UTSTOM', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef']) {
        for (let i = 0; i + 1 < base.length; i++) {
          const other = twin(base, i);
          expect(fastRecordHash(Uint8Array.from(wire(other)), 0, other.length, 0x7f)).to.equal(fastRecordHash(Uint8Array.from(wire(base)), 0, base.length, 0x7f));
          const a = at(session, base);
          expect(table.name(a), named(session, base)).to.equal(named(session, base));
          let misses = table.cacheMisses;
          expect(at(session, base), `${named(session, base)} again`).to.equal(a);
          expect(table.cacheMisses, `${named(session, base)} again hits`).to.equal(misses);
          const b = at(session, other);
          expect(b, `${named(session, other)} is not ${named(session, base)}`).to.not.equal(a);
          expect(table.name(b)).to.equal(named(session, other));
          expect(table.cacheMisses, 'the twin misses').to.equal(misses + 1);
          expect(at(session, base), `${named(session, base)} after its twin`).to.equal(a);
          expect(table.cacheMisses, 'the twin took the line').to.equal(misses + 2);
          misses = table.cacheMisses;
          expect(at(session, base)).to.equal(a);
          expect(at(session, other)).to.equal(b);
          expect(table.cacheMisses).to.equal(misses + 1);
        }
      }
    }
    // Twins in the session's word (same session hash, same symbol).
    for (let i = 0; i < 3; i++) {
      const other = twin('CETS', i);
      const a = at('CETS', 'SYM348TOM');
      const b = at(other, 'SYM348TOM');
      expect(b, `${other}:SYM348TOM`).to.not.equal(a);
      expect(table.name(b)).to.equal(`${other}:SYM348TOM`);
      expect(at('CETS', 'SYM348TOM')).to.equal(a);
      expect(at(other, 'SYM348TOM')).to.equal(b);
    }
    // A session longer than the line's word, and a key ending within 3 bytes of the packet's end:
    // right answers, through the table every time.
    const long = at('LONGSESSIONID15', 'SYM348TOM');
    let misses = table.cacheMisses;
    expect(at('LONGSESSIONID15', 'SYM348TOM')).to.equal(long);
    expect(table.cacheMisses).to.equal(misses + 1);
    const cets = at('CETS', 'SYM348TOM');
    misses = table.cacheMisses;
    expect(at('CETS', 'SYM348TOM', packet.length - 13)).to.equal(cets);
    expect(table.cacheMisses, 'at the end of the packet').to.equal(misses + 1);
    expect(at('CETS', 'SYM348TOM')).to.equal(cets);
    expect(table.cacheMisses).to.equal(misses + 1);
    // Another packet array: one miss (a view of it), then hits.
    const copy = Uint8Array.from(packet);
    const yo = packet.indexOf(0x53, 8);
    const so = yo - 4;
    const fromCopy = (): number => table.resolveBytes(copy, yo, 9, fastRecordHash(copy, yo, 9, 0x7f), so, 4, fastRecordHash(copy, so, 4, 0x7f));
    expect(fromCopy()).to.equal(cets);
    expect(fromCopy()).to.equal(cets);
    expect(table.cacheMisses).to.equal(misses + 2);
  });
  /**
   * resolveKey, the incremental refresh's path since exact keys: a hit compares the key words and
   * lengths with a cache line and reads nothing of the packet. With one set (two lines) every key
   * shares it with every other, so each compare is exercised: names one character apart at
   * every position of every word for lengths 1-12, same-hash twins, a session/symbol split of the
   * same bytes, sessions of 0, 1 and 4 characters (two of 4 one apart), symbols whose key words
   * are equal and lengths not (a NUL starting a word), and, past the exact keys, 13-character symbols
   * and a 5-character session (the hashed path). Fails if a hit skips a word, the lengths or the
   * session word (one key answers for another), if a set loses a key it holds, or if the locates
   * differ from the tape path's.
   */
  it('resolveKey: exact keys sharing one cache set never answer for each other; same locates as the tape path; longer keys take the hash path', () => {
    const table = new MoexInstrumentTable(4000, 0);
    const tape = new MoexInstrumentTable(4000);
    const encoder = new FastEncoder(registry);
    const decoder = new FastDecoder(registry, { transientStrings: true });
    const keys: [string, string][] = [];
    const base = 'ABCDEFGHIJKLM';
    for (const session of ['', 'C', 'CETS', 'CETT', 'TQBR1']) {
      for (let len = 1; len <= 13; len++) {
        const name = base.slice(0, len);
        keys.push([session, name]);
        for (let i = 0; i < len; i++) keys.push([session, name.slice(0, i) + String.fromCharCode(name.charCodeAt(i) ^ 1) + name.slice(i + 1)]);
        if (len >= 2) keys.push([session, twin(name, len - 2)]);
      }
    }
    keys.push(['CET', 'SAB'], ['CETS', 'AB'], ['CETSA', 'B']);
    // The same key words, another length: a NUL at the start of a word adds nothing to it.
    keys.push(['CETS', 'ABCD\u0000E'], ['CETS', 'ABCDE'], ['CETS', 'ABCDEFGH\u0000I'], ['CETS', 'ABCDEFGHI']);
    const packet = new Uint8Array(128);
    const words = new Int32Array(3); const sw = new Int32Array(3);
    let shift = 0;
    const at = (session: string, symbol: string): number => {
      const o = 4 + (shift++ % 50);
      packet.fill(0x55);
      packet.set([...wire(session), ...wire(symbol)], o);
      const yo = o + session.length;
      const exact = fastRecordKeyWords(packet, yo, symbol.length, words, 0);
      const t0 = session.length === 0 ? 0 : fastRecordKeyWords(packet, o, session.length, sw, 0) ? sw[0] : -1;
      return table.resolveKey(packet, yo, symbol.length, exact ? words[0] : -1, exact ? words[1] : 0, exact ? words[2] : 0, o, session.length, t0);
    };
    // Keys that differ only in what one compare sees (the session word, the lengths) one after the
    // other, and with another key between them (the first then sits in the set's second line).
    const groups: [string, string][][] = [[['CETS', 'ABCD\u0000E'], ['CETS', 'ABCDE']], [['CETS', 'ABCDEFGH\u0000I'], ['CETS', 'ABCDEFGHI']]];
    for (const y of new Set(keys.map(([, y]) => y))) groups.push(['', 'C', 'CETS', 'CETT', 'TQBR1'].map((s) => [s, y]));
    const side: [string, string][] = [];
    for (const g of groups) { side.push(...g); for (const k of g) side.push(k, ['CETS', 'FILLER']); }
    const locates = new Map<string, number>();
    // Four passes in different orders: the sets' contents change between sightings of a key.
    for (const order of [keys, [...keys].reverse(), keys.filter((_, i) => i % 3 === 0).concat(keys), side]) {
      for (const [session, symbol] of order) {
        const name = named(session, symbol);
        const locate = at(session, symbol);
        expect(table.name(locate), name).to.equal(name);
        if (locates.has(name)) expect(locate, `${name} again`).to.equal(locates.get(name));
        locates.set(name, locate);
        // At once again: the key is in its set now (for an exact key, a hit).
        const misses = table.cacheMisses;
        expect(at(session, symbol), `${name} at once again`).to.equal(locate);
        if (session.length <= 4 && symbol.length <= 12) expect(table.cacheMisses, `${name} at once again hits`).to.equal(misses);
      }
    }
    expect(table.count).to.equal(new Set([...keys, ...side].map(([s, y]) => named(s, y))).size);
    for (const [session, symbol] of [...keys, ...side]) {
      decodeEntries(encoder, decoder, [[session, symbol]]);
      const b = decoder.elementBase(layout.entries, 0);
      expect(tape.resolve(decoder, b + entry.symbol, b + entry.tradingSessionId), named(session, symbol)).to.equal(locates.get(named(session, symbol)));
    }
    expect(() => new MoexInstrumentTable(10, 17)).to.throw(/keyCacheSetBits/);
  });
});
