/**
 * Smoke test for perf:fast: it runs end to end as a child process with tiny parameters, exits 0
 * (it exits 1 when any of its sessions left a book error, a bad datagram or a lost message), and
 * prints one JSON object as its last line with the figures the README table and the split of decode
 * + books read: decode, instrument resolution per entry, the rest of the book work. Timings are
 * never asserted, only that each figure is a finite positive number of nanoseconds and that the
 * split was measured over the same session (same messages, one entry each), and that the headline
 * came from a process whose decoders fed only the book adapter, as tickpath run's do. perf:fast writes
 * perf/results/fast.json; what was there before is put back.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const kScript = path.join(__dirname, '..', '..', 'perf', 'fast.js');
const kSaved = path.join(__dirname, '..', '..', '..', 'perf', 'results', 'fast.json');

describe('perf:fast (smoke: tiny parameters, JSON shape only)', function () {
  this.timeout(120_000);

  it('decode + books beside ITCH, with the split into decode, instrument resolution and the rest; no book errors', () => {
    const before = fs.existsSync(kSaved) ? fs.readFileSync(kSaved) : undefined;
    let r: ReturnType<typeof spawnSync>;
    try {
      r = spawnSync(process.execPath, [kScript, '--messages', '4000', '--rounds', '1', '--json'], { encoding: 'utf8', timeout: 100_000 });
    } finally {
      if (before) fs.writeFileSync(kSaved, before);
    }
    const detail = `exit ${r.status} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.status, detail).to.equal(0);
    const last = String(r.stdout).trim().split('\n').pop() ?? '';
    const j = JSON.parse(last) as Record<string, unknown>;
    expect(j).to.include.keys('ns_per_msg', 'itch_books_ns_per_msg', 'fast_decode_only_ns_per_msg', 'split_ns', 'multi_entry', 'load_average');
    expect(j.messages).to.equal(4000);
    expect(j.book_updates).to.equal(4000);
    expect(j.book_errors).to.equal(0);
    expect(j.bad_datagrams).to.equal(0);
    // The headline comes from a child whose decoders only ever fed the adapter (tickpath run's
    // shape); the process with the split rows fed every kind, and reports its own figure beside it.
    const shipped = j.shipped_shape as { handlers: string[]; messages: number; book_errors: number };
    expect(shipped.handlers).to.deep.equal(['adapter']);
    expect([shipped.messages, shipped.book_errors]).to.deep.equal([4000, 0]);
    // The same runs in the child's own thread's CPU time, beside the headline.
    const thread = j.thread_cpu as Record<string, number>;
    expect(thread).to.have.all.keys('ns_per_msg', 'median_ns_per_msg', 'itch_books_ns_per_msg', 'median_itch_books_ns_per_msg');
    for (const k of Object.keys(thread)) expect(thread[k], k).to.be.a('number').and.to.be.greaterThan(0).and.to.be.below(1e6);
    const mixed = j.mixed_process as { handlers: string[]; ns_per_msg: number; itch_books_ns_per_msg: number };
    expect(mixed.handlers).to.include.members(['adapter', 'adapter/tape', 'RecordOnly', 'ResolveOnly', 'NoBooks']);
    for (const v of [mixed.ns_per_msg, mixed.itch_books_ns_per_msg]) expect(v).to.be.a('number').and.to.be.greaterThan(0).and.to.be.below(1e6);
    // The tape path (before record readers) beside the record path, and the medians over the rounds.
    expect(j.tape_book_errors).to.equal(0);
    expect(j.tape_ns_per_msg).to.be.a('number').and.to.be.greaterThan(0);
    const med = j.median as Record<string, number>;
    expect(med).to.have.all.keys('ns_per_msg', 'itch_books_ns_per_msg', 'ratio_fast_over_itch', 'tape_ns_per_msg', 'ratio_fast_over_tape');
    const perRound = j.rounds_ns_per_msg as Record<string, number[]>;
    for (const k of ['fast', 'itch', 'tape']) expect(perRound[k], k).to.have.length(1);
    const split = j.split_ns as Record<string, number>;
    expect(split).to.have.all.keys('decode', 'instrument_resolution_per_entry', 'books_rest');
    expect(split.decode).to.equal(j.fast_decode_only_ns_per_msg);
    for (const k of ['ns_per_msg', 'itch_books_ns_per_msg', 'fast_decode_only_ns_per_msg']) {
      expect(j[k], k).to.be.a('number').and.to.be.greaterThan(0).and.to.be.below(1e6);
    }
    // ITCH's BookBuilder over the FAST session's order flow: the same book updates, so the same
    // events and QUOTEs as the FAST adapter's (fails if the translation or either path's books drift).
    const flow = j.itch_on_fast_flow as Record<string, number>;
    expect(flow.messages).to.equal(4000);
    expect(flow.book_errors).to.equal(0);
    expect([flow.events, flow.quotes]).to.deep.equal([j.fast_events, j.fast_quotes]);
    expect(flow.quotes).to.be.greaterThan(0);
    expect(flow.ns_per_msg).to.be.a('number').and.to.be.greaterThan(0).and.to.be.below(1e6);
    // Differences of best rounds may come out slightly negative under load; they must be numbers.
    for (const k of Object.keys(split)) expect(Number.isFinite(split[k]), k).to.equal(true);
  });
});
