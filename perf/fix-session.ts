/**
 * Where a FIX message's time goes on one side of a session, in process (no socket, no wakeup):
 *   send     beginApp + a NewOrderSingle's fields + sendApp (encode, checksum, store, hand to a
 *            sink that drops the bytes), as FixConnector sends an order
 *   receive  an ExecutionReport's bytes through FixParser -> FixSession.receive -> the
 *            application reading the fields FixConnector reads (sequence check, store update)
 *   store    append + setSeqs of a 200-byte message alone
 * each with the session's store `mapped` (FixMappedStore, the default) beside `files`
 * (FixFileStore, the pwrite store before it) in the same run, stores on tmpfs (/dev/shm) like
 * perf/router-rtt's. Never asserts timings; --json prints one JSON object last.
 *
 *   node dist/perf/fix-session.js [--messages 50000] [--rounds 3] [--json]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixSession } from '../lib/protocols/fix/fix-session';
import { FixEncoder, FixParser, Tag, type FixMessage } from '../lib/protocols/fix/fix-codec';
import { FixFileStore, type FixStore } from '../lib/protocols/fix/fix-store';
import { FixMappedStore } from '../lib/protocols/fix/fix-mapped-store';
import { report, type Row } from './report';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const kDir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
type Kind = 'mapped' | 'files';

/** A socket that takes every write and keeps nothing (TxRing's DirectSink, plus what FixSession touches). */
const sink = {
  send: (_b: Buffer, _o: number, _l: number) => true,
  setNoDelay: () => undefined, destroyed: false, destroy: () => undefined, once: () => undefined,
};

function logon(s: FixSession, peerSeq: number): void {
  const b = Buffer.alloc(512);
  const e = new FixEncoder().begin(b, 0, 'FIX.4.4', 'A').str(Tag.SenderCompID, 'VENUE').str(Tag.TargetCompID, 'ME')
    .int(Tag.MsgSeqNum, peerSeq).time(Tag.SendingTime, Date.now()).int(Tag.EncryptMethod, 0).int(Tag.HeartBtInt, 30).char(Tag.ResetSeqNumFlag, 0x59);
  const start = e.finish();
  new FixParser((m) => s.receive(m)).push(b, start, e.end);
}

function session(kind: Kind, dir: string): FixSession {
  const s = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'VENUE', role: 'initiator', storeDir: dir, storeKind: kind, resetOnLogon: true });
  s.setApplication({ onLogon: () => undefined, onLogout: () => undefined, onAppMessage: readReport });
  s.connected(sink as never);
  logon(s, 1);
  if (!s.isLoggedIn) throw new Error('not logged in');
  return s;
}

let sinkSum = 0;
function readReport(m: FixMessage): void {
  // What FixConnector.onExecutionReport reads.
  sinkSum += m.getChar(Tag.ExecType) + m.getInt(Tag.CumQty) + m.getInt(Tag.LeavesQty) + m.getPrice4(Tag.LastPx) + m.getStr(Tag.ClOrdID).length + m.getStr(Tag.ExecID).length;
}

function timeSend(kind: Kind, n: number): number {
  const dir = fs.mkdtempSync(path.join(kDir, 'tickpath-perf-fixs-'));
  const s = session(kind, dir);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    s.beginApp('D').str(Tag.ClOrdID, 'O1234567').str(Tag.Account, 'ACC').int(Tag.HandlInst, 1).str(Tag.Symbol, 'AAPL')
      .char(Tag.Side, 0x31).time(Tag.TransactTime, Date.now()).int(Tag.OrderQty, 100).char(Tag.OrdType, 0x32).price4(Tag.Price, 1001500).char(Tag.TimeInForce, 0x30);
    s.sendApp();
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return ns;
}

function timeReceive(kind: Kind, n: number): number {
  const dir = fs.mkdtempSync(path.join(kDir, 'tickpath-perf-fixr-'));
  const s = session(kind, dir);
  // n ExecutionReports from the venue, MsgSeqNum 2.., encoded up front; fed one message per push as reads would.
  const buf = Buffer.alloc(n * 256);
  const enc = new FixEncoder();
  const at: number[] = [];
  let o = 0;
  for (let i = 0; i < n; i++) {
    enc.begin(buf, o, 'FIX.4.4', '8').str(Tag.SenderCompID, 'VENUE').str(Tag.TargetCompID, 'ME').int(Tag.MsgSeqNum, i + 2).time(Tag.SendingTime, Date.now())
      .str(Tag.OrderID, `V${i}`).str(Tag.ClOrdID, 'O1234567').str(Tag.ExecID, `E${i}`).char(Tag.ExecType, 0x46).char(Tag.OrdStatus, 0x32)
      .str(Tag.Symbol, 'AAPL').char(Tag.Side, 0x31).int(Tag.OrderQty, 100).int(Tag.LastShares, 100).price4(Tag.LastPx, 1001500)
      .int(Tag.LeavesQty, 0).int(Tag.CumQty, 100).price4(Tag.AvgPx, 1001500);
    const start = enc.finish();
    at.push(start, enc.end);
    o = enc.end + 8;
  }
  const parser = new FixParser((m) => s.receive(m));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parser.push(buf, at[2 * i], at[2 * i + 1]);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (s.nextTargetSeq !== n + 2) throw new Error(`receive: expected next ${n + 2}, at ${s.nextTargetSeq}`);
  s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return ns;
}

function timeStore(kind: Kind, n: number): number {
  const dir = fs.mkdtempSync(path.join(kDir, 'tickpath-perf-fixst-'));
  const st: FixStore = kind === 'mapped' ? new FixMappedStore(dir, 'S') : new FixFileStore(dir, 'S');
  st.open();
  const msg = Buffer.alloc(200, 0x41);
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= n; i++) { st.append(i, msg, 0, msg.length); st.setSeqs(i + 1, i); }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  st.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return ns;
}

const n = arg('messages', 50000);
const rounds = arg('rounds', 3);
const best: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const kind of ['mapped', 'files'] as Kind[]) {
    for (const [what, f] of [['send', timeSend], ['receive', timeReceive], ['store', timeStore]] as const) {
      const ns = f(kind, n);
      const k = `${what}_${kind}_ns`;
      best[k] = Math.min(best[k] ?? Infinity, ns);
    }
  }
}
const rows: Row[] = (['send', 'receive', 'store'] as const).map((w) => ({
  label: `fix ${w} per message`, ours: `${(best[`${w}_mapped_ns`] / 1000).toFixed(2)} µs (mapped store)`,
  baseline: `${(best[`${w}_files_ns`] / 1000).toFixed(2)} µs (files store)`, ratio: best[`${w}_mapped_ns`] / best[`${w}_files_ns`],
  note: `best of ${rounds} rounds of ${n}, in process, stores on ${kDir}`,
}));
report('fix-session', rows, { messages: n, rounds, load_average_1m: os.loadavg()[0], ...Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Math.round(v)])), check: sinkSum > 0 });
