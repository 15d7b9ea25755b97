/**
 * Child process for the FIX store power-loss test (not a test file itself): stores one message
 * per event-loop turn in a FixFileStore with the given fsync policy and, after append and setSeqs
 * returned, prints the sequence number and the time (CLOCK_MONOTONIC, the fsync shim's clock).
 * Yields to the event loop between messages, as a session does, so 'group' timers can run.
 *
 * argv: <store dir> <always|group|never> <groupCommitUs> [files|mapped]
 * stdout lines: <seq> <monotonic ns>
 */
import * as fs from 'fs';
import { FixFileStore, type FixStoreFsync } from '../../lib/protocols/fix/fix-store';
import { FixMappedStore } from '../../lib/protocols/fix/fix-mapped-store';

const options = { fsync: process.argv[3] as FixStoreFsync, groupCommitUs: Number(process.argv[4]) };
const store = process.argv[5] === 'mapped' ? new FixMappedStore(process.argv[2], 'S', options) : new FixFileStore(process.argv[2], 'S', options);
store.open();
const msg = Buffer.from('8=FIX.4.4\x019=5\x0135=D\x0110=000\x01');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let seq = 1;
function step(): void {
  store.append(seq, msg, 0, msg.length);
  store.setSeqs(seq + 1, 1);
  fs.writeSync(1, `${seq} ${process.hrtime.bigint()}\n`);
  seq++;
  Atomics.wait(sleeper, 0, 0, 0.2);
  setImmediate(step);
}
step();
