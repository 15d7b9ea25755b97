/**
 * The corpus of the mFAST cross-check (fast-mfast-crosscheck.test.ts): FAST messages encoded by
 * tickpath's encoder, to be decoded by an implementation written by other people. mFAST (Object
 * Computing's C++ FAST 1.1 library) decoded each record once; its output sits beside the corpus in
 * test/fixtures/fast/mfast/ (see its README.md). CI cannot reach mFAST, so the test reads those
 * files and does not regenerate them.
 *
 * Records: [u8 flags][u16 big-endian length][bytes]. Flags bit 0: reset every dictionary before
 * this message (a new stream); bit 1: the bytes start with MOEX's 4-byte little-endian MsgSeqNum
 * (a whole datagram, decoded from a reset state as MOEX sends them).
 *
 * Parts, each with its template file:
 *   all-operators: kAllOperators' All template (every operator, type and structure, static and
 *     dynamic templateRef), 200 random streams of 1-6 messages, dictionaries carried across each
 *     stream or reset before each message. Its template file is kAllOperators with the decimal
 *     default "1.25" written "125": mFAST's XML reader takes a decimal's initial value as an integer
 *     only (it refuses "1.25" at load).
 *   moex-2017, moex-2015: every template of both MOEX files, 12 random streams each.
 *   moex-session: MOEX datagrams as a feed sends them (X-OLR-CURR incrementals and W-OLS-CURR
 *     snapshots from MoexSessionGenerator, the generator behind `tickpath gen --fast`).
 *   damaged-all-operators, damaged-moex-2017: each message of all-operators and moex-2017 three
 *     times, with 1-3 bytes overwritten or bit-flipped and one in five cut short (a seeded xorshift),
 *     every one decoded from a reset state. mFAST ran these one process per message (it crashes on
 *     some malformed messages; those lines say `crash` and the signal).
 *
 * Run (writes DIR/<part>.bin.gz and all-operators.xml):  node dist/test/feed/fast/mfast-corpus.js DIR
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import fc from 'fast-check';
import { FastEncoder } from '../../../lib/feed/fast/fast-encoder';
import { FastTemplate, FastTemplateRegistry, loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { groupArb, kAllOperators } from './fast-arbitraries';
import { kFixtures } from './fast-helpers';

export const kRecordReset = 1;
export const kRecordMoexPrefix = 2;

export interface CorpusPart {
  name: string;
  /** The template file, under test/fixtures/fast. */
  templatesFile: string;
  /** The part whose messages this one damages. */
  damages?: string;
}

export const kCorpusParts: readonly CorpusPart[] = [
  { name: 'all-operators', templatesFile: 'mfast/all-operators.xml' },
  { name: 'moex-2017', templatesFile: 'moex-asts-fix50sp2-2017-mar.xml' },
  { name: 'moex-2015', templatesFile: 'moex-asts-fix50sp2-2015-apr.xml' },
  { name: 'moex-session', templatesFile: 'moex-asts-fix50sp2-2017-mar.xml' },
  { name: 'damaged-all-operators', templatesFile: 'mfast/all-operators.xml', damages: 'all-operators' },
  { name: 'damaged-moex-2017', templatesFile: 'moex-asts-fix50sp2-2017-mar.xml', damages: 'moex-2017' },
];

/** kAllOperators as mFAST can load it (see the header). */
export function allOperatorsForMfast(): string {
  return kAllOperators.replace('<default value="1.25"/>', '<default value="125"/>');
}

/** One corpus record. */
export function corpusRecord(flags: number, bytes: Uint8Array): Buffer {
  const h = Buffer.alloc(3);
  h[0] = flags;
  h.writeUInt16BE(bytes.length, 1);
  return Buffer.concat([h, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)]);
}

/** The records of a corpus file, in order. */
export function corpusRecords(file: Uint8Array): { flags: number; bytes: Uint8Array }[] {
  const out: { flags: number; bytes: Uint8Array }[] = [];
  for (let p = 0; p + 3 <= file.length;) {
    const len = (file[p + 1] << 8) | file[p + 2];
    out.push({ flags: file[p], bytes: file.subarray(p + 3, p + 3 + len) });
    p += 3 + len;
  }
  return out;
}

/** `runs` random streams of `t` (seeded: the same corpus every time with this fast-check version). */
function streams(reg: FastTemplateRegistry, t: FastTemplate, runs: number, seed: number): Buffer[] {
  const out: Buffer[] = [];
  const samples = fc.sample(fc.tuple(fc.array(groupArb(t.body, reg), { minLength: 1, maxLength: 6 }), fc.boolean()), { numRuns: runs, seed });
  for (const [records, resetEach] of samples) {
    const enc = new FastEncoder(reg);
    records.forEach((r, i) => {
      if (resetEach) enc.resetDictionaries();
      out.push(corpusRecord(i === 0 || resetEach ? kRecordReset : 0, enc.encode(t.name, r)));
    });
  }
  return out;
}

/** Each message of `corpus` three times, damaged (see the header), every one from a reset state. */
function damaged(corpus: Buffer, seed: number): Buffer {
  let s = seed >>> 0;
  const rnd = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  const out: Buffer[] = [];
  for (const { flags, bytes } of corpusRecords(corpus)) {
    const pre = (flags & kRecordMoexPrefix) !== 0 ? 4 : 0;
    for (let k = 0; k < 3; k++) {
      const x = Buffer.from(bytes);
      const n = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < n; j++) {
        const at = pre + Math.floor(rnd() * (x.length - pre));
        x[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : x[at] ^ (1 << Math.floor(rnd() * 8));
      }
      const cut = rnd() < 0.2 ? x.subarray(0, pre + Math.floor(rnd() * (x.length - pre))) : x;
      out.push(corpusRecord((flags & kRecordMoexPrefix) | kRecordReset, cut));
    }
  }
  return Buffer.concat(out);
}

export function buildCorpusPart(name: string): { xml: string; corpus: Buffer } {
  const part = kCorpusParts.find((p) => p.name === name);
  if (part === undefined) throw new Error(`no corpus part ${name}`);
  if (part.damages !== undefined) {
    const from = buildCorpusPart(part.damages);
    return { xml: from.xml, corpus: damaged(from.corpus, part.damages === 'all-operators' ? 5 : 6) };
  }
  if (name === 'all-operators') {
    const xml = allOperatorsForMfast();
    const reg = loadFastTemplates(xml);
    return { xml, corpus: Buffer.concat(streams(reg, reg.templateNamed('All'), 200, 1)) };
  }
  const xml = fs.readFileSync(path.join(kFixtures, part.templatesFile), 'utf8');
  const reg = loadFastTemplates(xml);
  if (name === 'moex-session') {
    const gen = new MoexSessionGenerator(reg, { instruments: 20, entriesPerMessage: 3, seed: 7 });
    const datagrams = [...gen.incrementals(600), ...gen.snapshots(5)];
    return { xml, corpus: Buffer.concat(datagrams.map((d) => corpusRecord(kRecordReset | kRecordMoexPrefix, d))) };
  }
  const out: Buffer[] = [];
  let seed = 1;
  for (const t of reg.byName.values()) out.push(...streams(reg, t, 12, seed++));
  return { xml, corpus: Buffer.concat(out) };
}

if (require.main === module) {
  const dir = process.argv[2];
  if (dir === undefined) { process.stderr.write('usage: node dist/test/feed/fast/mfast-corpus.js DIR\n'); process.exit(2); }
  fs.mkdirSync(dir, { recursive: true });
  for (const p of kCorpusParts) {
    const { xml, corpus } = buildCorpusPart(p.name);
    fs.writeFileSync(path.join(dir, `${p.name}.bin.gz`), zlib.gzipSync(corpus, { level: 9 }));
    if (p.name === 'all-operators') fs.writeFileSync(path.join(dir, 'all-operators.xml'), xml);
    process.stdout.write(`${p.name}: ${corpusRecords(corpus).length} records, ${corpus.length} bytes\n`);
  }
}
