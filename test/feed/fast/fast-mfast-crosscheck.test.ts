/**
 * tickpath's FAST decoders against an independent implementation: mFAST (Object Computing's C++
 * FAST 1.1 library) decoded the corpus of mfast-corpus.ts once, and its output is committed beside
 * it (test/fixtures/fast/mfast/README.md). Both tickpath engines (compiled templates and the
 * reference interpreter) decode the same records here and must give what mFAST gave: the template,
 * every field's value (integers as decimal digits, decimals as mantissa and exponent, byteVectors as
 * hex, strings as strings), and the bytes left after the message.
 *
 * The corpus is messages tickpath's encoder made (every template of both MOEX files and an
 * all-operators template, with dictionaries carried across streams, and MOEX datagrams as a feed
 * sends them), so this also checks the encoder: mFAST reads back what the encoder meant to send.
 * It found one difference, now fixed: an ASCII string that starts with NUL and has more characters
 * (the zero preamble followed by more than 10.6.3's two forms). mFAST refused it; tickpath's encoder
 * sent it and its decoders read it (kFastDecodeOverlongString).
 *
 * The other way round, bytes tickpath did not make: mFAST's encoder re-encoded the MOEX session
 * (moex-session.mfast-encoded.bin.gz; 76 of its 674 messages come out in other bytes than
 * tickpath's, 1-5 bytes longer), and tickpath's shipped path (FastFeedDecoder, the book adapter
 * with its record readers) must build the same events and books from them as from its own; and
 * it re-encoded every MOEX template's random messages, which must decode to the same values but
 * for the empty-string/absent swaps mFAST's encoder makes.
 *
 * Damaged messages (1-3 bytes changed, some cut short): whatever mFAST refuses, tickpath refuses
 * too; what both accept decodes to the same values. Where they differ it is by a known rule, each
 * counted here: mFAST crashes on some malformed messages (tickpath counts them as errors), and mFAST
 * does not check an int32/uInt32's range or a decimal exponent's [-63, 63] (spec D2, R1), and keeps
 * int64 and mantissas past 2^53 (tickpath holds those in doubles): tickpath counts all of those as
 * overflow or badExponent.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { FastDecoder, kFastDecodeBadExponent, kFastDecodeOverflow } from '../../../lib/feed/fast/fast-decoder';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { FastBookAdapter } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import type { BookEvent, BookEventHandler } from '../../../lib/feed/book/book-event';
import { kFixtures, levelsOf } from './fast-helpers';
import { corpusRecords, kCorpusParts, kRecordMoexPrefix, kRecordReset } from './mfast-corpus';

interface MfastLine { seq: number; template?: number; name?: string; rest?: number; values?: unknown; error?: string; crash?: number }

/** `v` with every leaf (not an array, not a plain object) replaced by leaf(x). */
function mapLeaves(v: unknown, leaf: (x: unknown) => unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => mapLeaves(x, leaf));
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = mapLeaves(x, leaf);
    return o;
  }
  return leaf(v);
}

/** tickpath's decoded values in mFAST's JSON shape: integers as digits, byteVectors as 0x-hex. */
function shape(v: unknown): unknown {
  return mapLeaves(v, (x) => (typeof x === 'number' || typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? `0x${Buffer.from(x).toString('hex')}` : x));
}

/**
 * mFAST's strings are its bytes, each byte above 0x7f written as \u00XX: read back as bytes and
 * decoded as UTF-8 the way tickpath decodes a unicode string (invalid sequences become U+FFFD on
 * both sides; ASCII is unchanged).
 */
function mfastStrings(v: unknown): unknown {
  return mapLeaves(v, (x) => (typeof x === 'string' && !x.startsWith('0x') ? Buffer.from(x, 'latin1').toString('utf8') : x));
}

function load(name: string): { xml: string; records: { flags: number; bytes: Uint8Array }[]; mfast: MfastLine[] } {
  const part = kCorpusParts.find((p) => p.name === name)!;
  const dir = path.join(kFixtures, 'mfast');
  const records = corpusRecords(zlib.gunzipSync(fs.readFileSync(path.join(dir, `${name}.bin.gz`))));
  const mfast = zlib.gunzipSync(fs.readFileSync(path.join(dir, `${name}.mfast.jsonl.gz`))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as MfastLine);
  return { xml: fs.readFileSync(path.join(kFixtures, part.templatesFile), 'utf8'), records, mfast };
}

interface Outcome { id: number; rest: number; values: unknown }

function decodeEach(xml: string, records: { flags: number; bytes: Uint8Array }[], engine: 'compiled' | 'interpreted'): Outcome[] {
  const dec = new FastDecoder(loadFastTemplates(xml), { engine, maxSequenceLength: 100000 });
  return records.map(({ flags, bytes }) => {
    if ((flags & kRecordReset) !== 0) dec.resetDictionaries();
    const at = (flags & kRecordMoexPrefix) !== 0 ? 4 : 0;
    const id = dec.decode(bytes, at, bytes.length - at);
    return id < 0 ? { id, rest: -1, values: undefined } : { id, rest: bytes.length - dec.position, values: shape(fastMessageToObject(dec)) };
  });
}

describe('FAST decoders against mFAST, an independent implementation (committed output)', () => {
  for (const part of kCorpusParts.filter((p) => p.damages === undefined)) {
    for (const engine of ['compiled', 'interpreted'] as const) {
      it(`${part.name} (${engine}): every message decodes to mFAST's template, values and end`, () => {
        const { xml, records, mfast } = load(part.name);
        expect(mfast.length, 'one mFAST line per record').to.equal(records.length);
        expect(records.length).to.be.greaterThan(600);
        const ours = decodeEach(xml, records, engine);
        ours.forEach((o, i) => {
          const m = mfast[i];
          expect(m.error ?? m.crash, `record ${i}: mFAST refused it`).to.equal(undefined);
          expect(o.id, `record ${i}: template`).to.equal(m.template);
          expect(o.rest, `record ${i}: bytes left`).to.equal(m.rest);
          expect(o.values, `record ${i}: values`).to.deep.equal(mfastStrings(m.values));
        });
      });
    }
  }

  for (const part of kCorpusParts.filter((p) => p.damages !== undefined)) {
    it(`${part.name}: what mFAST refuses is refused; what both read is equal; the rest only where mFAST skips a range check`, () => {
      const { xml, records, mfast } = load(part.name);
      expect(mfast.length, 'one mFAST line per record').to.equal(records.length);
      const ours = decodeEach(xml, records, 'compiled');
      const interpreted = decodeEach(xml, records, 'interpreted');
      const tally = { bothRead: 0, bothRefused: 0, mfastCrashed: 0, onlyMfastRead: 0 };
      ours.forEach((o, i) => {
        const m = mfast[i];
        expect(interpreted[i], `record ${i}: the two engines`).to.deep.equal(o);
        if (m.crash !== undefined || m.error !== undefined) {
          expect(o.id, `record ${i}: mFAST ${m.crash !== undefined ? `crashed (signal ${m.crash})` : 'refused it'}, tickpath read it`).to.be.lessThan(0);
          if (m.crash !== undefined) tally.mfastCrashed++; else tally.bothRefused++;
        } else if (o.id >= 0) {
          expect(o.id, `record ${i}: template`).to.equal(m.template);
          expect(o.rest, `record ${i}: bytes left`).to.equal(m.rest);
          expect(o.values, `record ${i}: values`).to.deep.equal(mfastStrings(m.values));
          tally.bothRead++;
        } else {
          expect([kFastDecodeOverflow, kFastDecodeBadExponent], `record ${i}: mFAST read it, tickpath's error ${o.id}`).to.include(o.id);
          tally.onlyMfastRead++;
        }
      });
      // Enough of each to mean something (the damage is seeded: these are this corpus's counts, loosely).
      expect(tally.bothRead, JSON.stringify(tally)).to.be.greaterThan(400);
      expect(tally.bothRefused, JSON.stringify(tally)).to.be.greaterThan(1000);
      expect(tally.mfastCrashed + tally.onlyMfastRead, JSON.stringify(tally)).to.be.greaterThan(50);
    });
  }

  it("moex-session as mFAST's encoder wrote it: the shipped path (record readers, book adapter) gives the same events and books as from tickpath's bytes", () => {
    const dir = path.join(kFixtures, 'mfast');
    const ours = corpusRecords(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'moex-session.bin.gz'))));
    const theirs = corpusRecords(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'moex-session.mfast-encoded.bin.gz'))));
    expect(theirs.length).to.equal(ours.length);
    const reg = loadFastTemplates(fs.readFileSync(path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml'), 'utf8'));
    const gen = new MoexSessionGenerator(reg, { instruments: 20, entriesPerMessage: 3, seed: 7 });
    class Log implements BookEventHandler {
      readonly lines: string[] = [];
      onEvent(e: BookEvent): void { this.lines.push(`${e.kind} ${e.stockLocate} ${e.timestamp} ${e.sequence} ${e.orderReferenceNumber} ${e.side} ${e.price} ${e.shares} ${e.bidPrice}/${e.askPrice}`); }
      endOfBatch(): void { /* per datagram */ }
    }
    const run = (datagrams: Uint8Array[]): { log: Log; adapter: FastBookAdapter; feed: FastFeedDecoder } => {
      const log = new Log();
      const adapter = new FastBookAdapter(reg, log);
      const feed = new FastFeedDecoder(reg, adapter);
      for (const d of datagrams) { feed.decodePayload(d, 0, d.length); feed.endOfBatch(); }
      return { log, adapter, feed };
    };
    const a = run(ours.map((r) => r.bytes));
    // mFAST's message behind the same MOEX MsgSeqNum prefix.
    const b = run(theirs.map((r, i) => Buffer.concat([Buffer.from(ours[i].bytes.subarray(0, 4)), Buffer.from(r.bytes)])));
    let differentBytes = 0;
    theirs.forEach((r, i) => { if (!Buffer.from(r.bytes).equals(Buffer.from(ours[i].bytes.subarray(4)))) differentBytes++; });
    expect(differentBytes, 'messages mFAST encoded in other bytes').to.be.greaterThan(50);
    expect(b.feed.counters.badMessages).to.equal(0);
    expect(b.adapter.counters.recordMessages, 'read by the record readers').to.equal(a.adapter.counters.recordMessages);
    expect(a.adapter.counters.recordMessages).to.be.greaterThan(500);
    expect(a.log.lines.length).to.be.greaterThan(1500);
    expect(b.log.lines).to.deep.equal(a.log.lines);
    expect({ ...b.adapter.counters }).to.deep.equal({ ...a.adapter.counters });
    for (const sym of gen.symbols) {
      for (const bid of [true, false]) expect(levelsOf(b.adapter.bookOf(gen.session, sym), bid), sym).to.deep.equal(levelsOf(a.adapter.bookOf(gen.session, sym), bid));
    }
  });

  /**
   * Every MOEX template's random messages as mFAST's encoder wrote them: the values tickpath decodes
   * from mFAST's bytes are the ones it decodes from its own, except where mFAST's encoder swaps an
   * empty string and an absent one on an optional copy field (its bug: README.md beside the data);
   * a message after such a swap in the same stream may inherit it through the copy dictionary. Fails
   * if tickpath misreads bytes another encoder chose differently (presence maps, copies, defaults).
   */
  for (const name of ['moex-2017', 'moex-2015']) {
    it(`${name} as mFAST's encoder wrote it: the same values, but for mFAST's empty-string/absent swaps`, () => {
      const { xml, records } = load(name);
      const theirs = corpusRecords(zlib.gunzipSync(fs.readFileSync(path.join(kFixtures, 'mfast', `${name}.mfast-encoded.bin.gz`))));
      expect(theirs.length).to.equal(records.length);
      const want = decodeEach(xml, records, 'compiled');
      let same = 0; let swaps = 0; let foreignBytes = 0;
      for (const engine of ['compiled', 'interpreted'] as const) {
        const got = decodeEach(xml, theirs, engine);
        same = 0; swaps = 0; foreignBytes = 0;
        got.forEach((g, i) => {
          expect(g.id, `record ${i}: template`).to.equal(want[i].id);
          expect(g.rest, `record ${i}: bytes left`).to.equal(0);
          if (!Buffer.from(theirs[i].bytes).equals(Buffer.from(records[i].bytes))) foreignBytes++;
          const diffs: string[] = [];
          const walk = (a: unknown, b: unknown, at: string): void => {
            if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
              for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
            } else if (JSON.stringify(a) !== JSON.stringify(b)) {
              diffs.push(`${at}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
              expect((a === '' && b === undefined) || (a === undefined && b === ''), `record ${i} ${engine} ${at}: ${JSON.stringify(b)} from mFAST's bytes, ${JSON.stringify(a)} from tickpath's`).to.equal(true);
            }
          };
          walk(want[i].values, g.values, '');
          if (diffs.length === 0) same++; else swaps++;
        });
      }
      expect(same, `${swaps} with swaps`).to.be.greaterThan(0.8 * records.length);
      expect(foreignBytes, 'messages in other bytes than tickpath\'s').to.be.greaterThan(50);
    });
  }
});
