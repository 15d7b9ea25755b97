/**
 * The record readers' word path (fast-record-compiler.ts): strings, uInt64 and skipped integers read
 * four bytes a load (DataView) when the message has three bytes after it in its array, everything
 * else and every refusal handed to the byte path. The two must give the same answer for every
 * input: the same position (or -1) and the same record. Compared here over generated MOEX X-OLR
 * sessions, mutated messages and a template with every string want (key, digits, value, unread;
 * optional, mandatory, copied; null, empty, preamble; 0-20 characters), uInt64 of every width,
 * decimals with mantissas of 1-6 bytes and skipped integers of 1-6 bytes, each cut at every byte, always with bytes after the end. The word
 * path must also really run (byteFallbacks): a reader that always fell back would pass the
 * comparisons and be the old reader.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BookEvent, BookEventHandler } from '../../../lib/feed/book/book-event';
import { FastEncoder, type FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { compileFastRecordReader, type FastRecordReader } from '../../../lib/feed/fast/fast-record-compiler';
import { FastBookAdapter, moexIncrementalReader } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { PcapReader } from '../../../lib/feed/pcap/pcap-reader';
import { kFixtures, moexTemplates, templates } from './fast-helpers';
import { mulberry32 } from '../../../lib/common/prng';

const kCli = path.join(path.resolve(kFixtures, '..', '..', '..'), 'bin', 'tickpath.js');

class EventLines implements BookEventHandler {
  readonly lines: string[] = [];
  onEvent(e: BookEvent): void { this.lines.push(`${e.kind} ${e.stockLocate} ${e.timestamp} ${e.orderReferenceNumber} ${e.side} ${e.price} ${e.shares} ${e.bidPrice}/${e.askPrice}`); }
  endOfBatch(): void { this.lines.push('|'); }
}

const prng = mulberry32;

/**
 * fn and bytes over msg[0..end) placed at `at` in a buffer with `after` bytes behind it (from
 * `fill`): the same position and the same record (both records NaN-filled first, so a slot one
 * writes and the other does not shows). Returns fn's answer.
 */
function same(reader: FastRecordReader, msg: Uint8Array, end: number, at: number, after: number[], cap: number, label: string): number {
  const buf = new Uint8Array(at + end + after.length);
  buf.set(msg.subarray(0, end), at);
  buf.set(after, at + end);
  const size = reader.headerSize + cap * reader.stride;
  const rw = new Float64Array(size).fill(NaN);
  const rb = new Float64Array(size).fill(NaN);
  const w = reader.fn(buf, at, at + end, rw, cap);
  const b = reader.bytes(buf, at, at + end, rb, cap);
  expect(w, `${label}: position`).to.equal(b);
  if (w >= 0 && b >= 0) expect(Array.from(rw), `${label}: record`).to.deep.equal(Array.from(rb));
  return w;
}

function tail(rnd: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

describe('FAST record readers: the word path reads as the byte path does', () => {
  const registry = moexTemplates();

  /**
   * Every message of generated X-OLR sessions (both markets, 1-3 entries) with 3-8 bytes after it:
   * the same answers, and none handed to the byte path (each has the three bytes a load needs);
   * the same message at the very end of its array goes byte by byte (one fallback each), same
   * answer. Fails if the word path reads any field differently, or never runs.
   */
  for (const name of ['X-OLR-CURR', 'X-OLR-FOND']) {
    it(`${name}: a generated session read by the word path, the byte path's answer for every message`, () => {
      const reader = moexIncrementalReader(registry.templateNamed(name))!;
      expect(reader, name).to.not.equal(undefined);
      const rnd = prng(name.length);
      const market = name === 'X-OLR-CURR' ? 'CURR' : 'FOND';
      const datagrams = new MoexSessionGenerator(registry, { instruments: 40, entriesPerMessage: [1, 3], seed: 5, market }).incrementals(3000);
      const before = reader.byteFallbacks();
      let accepted = 0;
      for (let k = 0; k < datagrams.length; k++) {
        const msg = datagrams[k].subarray(4);
        const got = same(reader, msg, msg.length, k % 5, tail(rnd, 3 + (k % 6)), 64, `${name} message ${k}`);
        expect(got, `${name} message ${k}`).to.equal((k % 5) + msg.length);
        accepted++;
      }
      expect(accepted).to.equal(datagrams.length);
      expect(reader.byteFallbacks() - before, 'messages the word path handed to the byte path').to.equal(0);
      for (let k = 0; k < 50; k++) {
        const msg = datagrams[k].subarray(4);
        expect(same(reader, msg, msg.length, 0, [], 64, `${name} message ${k} at the array's end`)).to.equal(msg.length);
      }
      expect(reader.byteFallbacks() - before, 'messages at the end of their array').to.equal(50);
    });
  }

  /**
   * The shipped pcap path: a capture written by `tickpath gen`, its frames replayed as the pcap
   * tools and backend hand them over (FastFeedDecoder.decodeFrame over the file's bytes) into the
   * book adapter: every message but the file's last (no three bytes after it) goes through the
   * word path, and the events are those of the same frames through the general decoder's tape.
   * Fails if the adapter's reader stops taking the word path, or its books differ.
   */
  it('a capture from tickpath gen, frame by frame into books: the word path for all but the last message, the tape path\'s events', function () {
    this.timeout(60000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fastdec-words-'));
    try {
      const pcap = path.join(dir, 'moex.pcap');
      const g = spawnSync(process.execPath, [kCli, 'gen', '--fast-templates', path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml'), '--out', pcap,
        '--messages', '3000', '--symbols', '20', '--seed', '9', '--json'], { encoding: 'utf8', timeout: 60000 });
      expect(g.status, g.stderr).to.equal(0);
      const reader = moexIncrementalReader(registry.templateNamed('X-OLR-CURR'))!;
      const before = reader.byteFallbacks();
      const path2 = (recordReaders: boolean): { adapter: FastBookAdapter; feed: FastFeedDecoder; log: EventLines } => {
        const log = new EventLines();
        const adapter = new FastBookAdapter(registry, log, { recordReaders });
        return { adapter, feed: new FastFeedDecoder(registry, adapter), log };
      };
      const words = path2(true); const tape = path2(false);
      const r = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
      let frames = 0;
      while (r.next()) {
        words.feed.decodeFrame(r.data, r.frameOffset, r.capturedLength);
        tape.feed.decodeFrame(r.data, r.frameOffset, r.capturedLength);
        words.feed.endOfBatch(); tape.feed.endOfBatch();
        frames++;
      }
      expect(frames).to.equal(3000);
      expect(words.adapter.counters.recordMessages, 'messages the record reader took').to.equal(3000);
      expect(reader.byteFallbacks() - before, 'messages handed to the byte path: the file\'s last').to.equal(1);
      expect(words.log.lines.length).to.be.greaterThan(6000);
      expect(words.log.lines).to.deep.equal(tape.log.lines);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * 30 000 mutated X-OLR messages (bit flips, byte overwrites, bytes inserted and removed, cuts)
   * with random bytes after them: whatever each path makes of them (a record or -1), the other
   * makes the same. Fails if the word path accepts what the byte path refuses (a field past the
   * end, a preamble, an overlong integer), or refuses what it accepts with a different record.
   */
  it('mutated X-OLR messages with bytes after them: the same position or refusal, the same record', () => {
    const reader = moexIncrementalReader(registry.templateNamed('X-OLR-CURR'))!;
    const rnd = prng(2024);
    const gen = new MoexSessionGenerator(registry, { instruments: 30, entriesPerMessage: [1, 3], seed: 11 });
    const datagrams = gen.incrementals(3000);
    let accepted = 0; let refused = 0;
    for (let k = 0; k < 30000; k++) {
      const src = datagrams[k % datagrams.length].subarray(4);
      let m = Array.from(src);
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) {
        const i = Math.floor(rnd() * m.length);
        const kind = Math.floor(rnd() * 5);
        if (kind === 0) m[i] ^= 1 << Math.floor(rnd() * 8);
        else if (kind === 1) m[i] = Math.floor(rnd() * 256);
        else if (kind === 2) m.splice(i, 0, Math.floor(rnd() * 256));
        else if (kind === 3 && m.length > 2) m.splice(i, 1);
        else m = m.slice(0, Math.max(1, i));
      }
      const msg = Uint8Array.from(m);
      const got = same(reader, msg, msg.length, k % 3, tail(rnd, 3 + (k % 4)), 64, `mutation ${k} ${Buffer.from(msg).toString('hex')}`);
      if (got >= 0) accepted++; else refused++;
    }
    expect(accepted, 'mutations both paths read').to.be.greaterThan(3000);
    expect(refused, 'mutations both paths refused').to.be.greaterThan(3000);
  });

  /**
   * A template with every string want, optional and mandatory, copied or not: strings of 0-20
   * characters (letters, digits, a non-digit among digits, a preamble), null and empty; uInt64 at
   * every width up to 2^64 and past it; skipped integers of 1-6 bytes. Each message in full and cut
   * at every byte, bytes after it: the same answers; the word path took most messages in full.
   */
  it('strings of every want and length, uInt64 of every width, skipped integers: the same answers for every cut', () => {
    const reg = templates(['w', 21, '<uInt64 name="T"/><uInt64 name="O" presence="optional"/><uInt32 name="U"/><int32 name="I" presence="optional"/>'
      + '<string name="Skip" presence="optional"/><sequence name="S"><length name="N"/>'
      + '<string name="K" presence="optional"><copy/></string><string name="D" presence="optional"/><string name="V"/><string name="M"/>'
      + '<string name="Q" presence="optional"/><uInt32 name="X" presence="optional"/>'
      + '<decimal name="P" presence="optional"><copy/></decimal><decimal name="Z"/></sequence>']);
    const reader = compileFastRecordReader(reg.templateNamed('w'), { T: 'value', O: 'value' }, { K: 'key', D: 'digits', V: 'value', M: 'key', X: 'value', P: 'value', Z: 'value' })!;
    expect(reader).to.not.equal(undefined);
    const enc = new FastEncoder(reg);
    const rnd = prng(7);
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const text = (): string => {
      const n = Math.floor(rnd() * 21);
      const kind = Math.floor(rnd() * 4);
      let s = '';
      for (let i = 0; i < n; i++) s += kind === 0 ? letters[Math.floor(rnd() * letters.length)] : String(Math.floor(rnd() * 10));
      if (kind === 2 && n > 0) { const i = Math.floor(rnd() * n); s = s.slice(0, i) + ['/', ':', 'A', ' '][Math.floor(rnd() * 4)] + s.slice(i + 1); }
      // A preamble: "\0" alone (a longer string that starts with NUL has no FAST encoding).
      if (kind === 3 && rnd() < 0.1) s = '\u0000';
      return s;
    };
    const opt = (): string | undefined => (rnd() < 0.15 ? undefined : text());
    const u64 = (): bigint => {
      const bits = Math.floor(rnd() * 66);
      const base = bits === 0 ? 0n : 1n << BigInt(bits - 1);
      return base + BigInt(Math.floor(rnd() * 3)) - (bits > 1 && rnd() < 0.5 ? 1n : 0n);
    };
    const two64 = 1n << 64n;
    let full = 0; let cuts = 0; let wholeFallbacks = 0;
    for (let k = 0; k < 600; k++) {
      const t = u64(); const o = rnd() < 0.2 ? undefined : u64();
      const elements: FastRecord[] = [];
      const n = Math.floor(rnd() * 4);
      let last: string | undefined;
      for (let i = 0; i < n; i++) {
        // K repeats the previous element's now and then: the encoder leaves it out (copied).
        const key = rnd() < 0.3 && last !== undefined ? last : opt();
        last = key;
        const e: FastRecord = { V: text(), M: text() };
        if (key !== undefined) e.K = key;
        const d = opt(); if (d !== undefined) e.D = d;
        const q = opt(); if (q !== undefined) e.Q = q;
        if (rnd() < 0.8) e.X = Math.floor(rnd() * 2 ** (1 + Math.floor(rnd() * 32)));
        // Mantissas of 1-6 bytes (the word path reads up to four), both signs, exponents -63..63.
        const mantissa = (): number => Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * (rnd() < 0.8 ? 28 : 45))));
        if (rnd() < 0.8) e.P = { mantissa: mantissa(), exponent: Math.floor(rnd() * 127) - 63 };
        e.Z = { mantissa: mantissa(), exponent: Math.floor(rnd() * 9) - 4 };
        elements.push(e);
      }
      const rec: FastRecord = { T: t < two64 ? t : two64 - 1n, U: Math.floor(rnd() * 2 ** Math.floor(rnd() * 33)), S: elements };
      if (o !== undefined && o < two64 - 1n) rec.O = o;
      if (rnd() < 0.8) rec.I = Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * 32)));
      const s = opt(); if (s !== undefined) rec.Skip = s;
      enc.resetDictionaries();
      const msg = enc.encode('w', rec);
      const after = tail(rnd, 3 + (k % 5));
      const f0 = reader.byteFallbacks();
      if (same(reader, msg, msg.length, k % 4, after, 8, `message ${k} ${JSON.stringify(rec, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`) >= 0) full++;
      wholeFallbacks += reader.byteFallbacks() - f0;
      for (let cut = 0; cut < msg.length; cut++) { same(reader, msg, cut, 1, after, 8, `message ${k} cut at ${cut}`); cuts++; }
    }
    expect(full, 'whole messages read').to.be.greaterThan(500);
    expect(cuts).to.be.greaterThan(600 * 20);
    // Whole messages the word path read itself: all but those with a preamble (an optional empty
    // string is one: 00 80), a uInt64 of nine bytes or more, a skipped integer of five or more, or
    // a value the byte path refuses (about half of these random messages have one of them).
    expect(wholeFallbacks, 'whole messages handed to the byte path').to.be.lessThan(0.7 * full);
  });
});
