/**
 * What the hot standby costs the primary: a journal append (the production OrderJournal, fsync
 * 'group', on the disk under os.tmpdir()) with the JournalShipper streaming to a StandbyReceiver
 * over loopback TCP, against the same appends to a journal with no standby, in the same process,
 * rounds interleaved, best of N each. Two ways, as the router produces them:
 *  - before the wire: each record handed to the socket before the append returns (one send(2)
 *    each; a NEW_CHILD or pending cancel/replace, with anything pending before it);
 *  - batched: records that do not precede a wire send (acks, fills, sequence numbers), shipped by
 *    the router loop's next turn (here: once per batch).
 * An order's lifecycle (parent, child, ack, fill) costs about one of the first and three of the second. The standby side runs on this process's event loop between
 * batches (as it would on another host), and every round checks it received every record.
 *
 * Takeover time is measured end to end by the failover drill (test/integration/failover.test.ts),
 * which prints it; this benchmark does not repeat it.
 *
 *   node dist/perf/failover.js [--records 100000] [--iterations 5] [--batch 500] [--json]
 *
 * Never asserts timings; exits 1 if the standby did not receive every record.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { JournalShipper, StandbyReceiver } from '../lib/router/failover';
import { OrderJournal } from '../lib/router/journal';
import { BenchArgs } from './lib/args';
import { report } from './report';

const tick = () => new Promise((r) => setImmediate(r));

async function main(): Promise<number> {
  const args = new BenchArgs();
  const records = args.number('records', 100_000, 1000);
  const iterations = args.number('iterations', 5, 1);
  const batch = args.number('batch', 500, 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-perf-failover-'));
  const port = 40000 + Math.floor(Math.random() * 20000);
  try {
    const open = (name: string) => OrderJournal.open(path.join(dir, name), { fsync: 'group', capacityRecords: 2 * records * iterations + 16 });
    const base = open('baseline.journal');
    const primary = open('primary.journal');
    const standby = open('standby.journal');
    const receiver = new StandbyReceiver('127.0.0.1', port, standby, () => undefined);
    await receiver.listen();
    const shipper = new JournalShipper({ standbyHost: '127.0.0.1', standbyPort: port, heartbeatIntervalMs: 20, heartbeatTimeoutMs: 100 }, primary, 1,
      (l) => console.log(l));
    await shipper.start(5000);
    if (shipper.state !== 'streaming') throw new Error(`the standby did not answer (${shipper.state})`);

    // One round: `records` appends in batches, the event loop turned between batches (the standby
    // reads, the primary's transport is polled as the router loop would). Only the appends are timed.
    let id = 0;
    const round = async (j: OrderJournal, streamed: boolean, eachBeforeWire = false): Promise<number> => {
      let ns = 0;
      for (let done = 0; done < records; done += batch) {
        const n = Math.min(batch, records - done);
        const t0 = performance.now();
        if (eachBeforeWire) {
          for (let i = 0; i < n; i++) { j.appendRequestRejected(`P${id++}`, 'AAPL', 1, 100, 100000, 'MAX_ORDER_QTY'); shipper.flush(); }
        } else {
          for (let i = 0; i < n; i++) j.appendRequestRejected(`P${id++}`, 'AAPL', 1, 100, 100000, 'MAX_ORDER_QTY');
        }
        ns += (performance.now() - t0) * 1e6;
        if (streamed) shipper.poll(Date.now());
        await tick();
      }
      return ns / records;
    };
    let best = Infinity;
    let bestWire = Infinity;
    let bestBase = Infinity;
    for (let it = 0; it < iterations; it++) {
      bestBase = Math.min(bestBase, await round(base, false));
      best = Math.min(best, await round(primary, true));
      bestWire = Math.min(bestWire, await round(primary, true, true));
    }
    const end = Date.now() + 30_000;
    while (standby.lastRecordNo < primary.lastRecordNo && Date.now() < end) { shipper.poll(Date.now()); await tick(); }
    const complete = standby.lastRecordNo === primary.lastRecordNo;
    const result = {
      records_per_round: records, iterations, batch,
      append_ns: Number(best.toFixed(1)), baseline_append_ns: Number(bestBase.toFixed(1)),
      streaming_cost_ns: Number((best - bestBase).toFixed(1)), ratio: Number((best / bestBase).toFixed(3)),
      before_wire_append_ns: Number(bestWire.toFixed(1)), before_wire_cost_ns: Number((bestWire - bestBase).toFixed(1)),
      before_wire_ratio: Number((bestWire / bestBase).toFixed(3)),
      standby_records: standby.lastRecordNo, primary_records: primary.lastRecordNo, complete,
      shipper: shipper.stats(), load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
    };
    report('failover', [
      { label: 'journal append, record before the wire, streamed (one send(2) each)', ours: `${result.before_wire_append_ns} ns/record`,
        baseline: `no standby: ${result.baseline_append_ns} ns/record`, ratio: result.before_wire_ratio,
        note: `+${result.before_wire_cost_ns} ns per record; load ${result.load_avg_1m}` },
      { label: 'journal append, batched records, streamed once per batch', ours: `${result.append_ns} ns/record`,
        baseline: `no standby: ${result.baseline_append_ns} ns/record`, ratio: result.ratio,
        note: `+${result.streaming_cost_ns} ns per record (batch ${batch}); load ${result.load_avg_1m}` },
    ], result);
    shipper.close();
    await receiver.close();
    receiver.releaseJournal();
    base.close();
    primary.close();
    if (!complete) { console.error(`the standby holds ${standby.lastRecordNo} of ${primary.lastRecordNo} records`); return 1; }
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; });
