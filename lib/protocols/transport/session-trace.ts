/**
 * A process-wide timeline of what the native session transport did, for splitting an order's round
 * trip into its parts (perf/router-rtt.ts `--split`): when a wait set's sleep ended on a socket
 * (`kTraceWake`), when a poll returned received bytes (`kTraceRx`) and when the session had parsed
 * them (`kTraceRxDone`), and each send's begin and end (`kTraceTxBegin`/`kTraceTxEnd`). A caller
 * may add its own points (`kTraceCall`, `kTraceAck`). Times are CLOCK_MONOTONIC ns from the addon
 * (`nowNs`), which every process on the host shares, so the client's and the venue's timelines
 * line up without any exchange of clocks.
 *
 * Off (the default) it costs one load and one branch per poll and send. On, two stores and one
 * clock read (~35 ns) per point, into a Float64Array allocated once; when it is full, later points
 * are counted as dropped, never allocated.
 *
 * Threading: the one thread that drives the sessions (a venue loop, a router stage, perf's sender).
 */
import * as fs from 'fs';
import { binding } from '../../binding/native';

export const kTraceWake = 1;
export const kTraceRx = 2;
export const kTraceRxDone = 3;
export const kTraceTxBegin = 4;
export const kTraceTxEnd = 5;
export const kTraceCall = 6;
export const kTraceAck = 7;

export class SessionTrace {
  /** Pairs (kind, time ns). */
  readonly points: Float64Array;
  count = 0;
  dropped = 0;
  readonly nowNs: () => number;

  constructor(capacity: number, nowNs?: () => number) {
    this.points = new Float64Array(capacity * 2);
    const b = nowNs ? null : binding();
    this.nowNs = nowNs ?? (() => b!.nowNs());
  }

  mark(kind: number): void {
    const i = this.count;
    if (i * 2 >= this.points.length) { this.dropped++; return; }
    this.points[i * 2] = kind;
    this.points[i * 2 + 1] = this.nowNs();
    this.count = i + 1;
  }

  /** The recorded pairs as raw little-endian float64s (for a file the other side reads). */
  writeFile(file: string): void {
    fs.writeFileSync(file, Buffer.from(this.points.buffer, 0, this.count * 16));
  }

  static readFile(file: string): Float64Array {
    const b = fs.readFileSync(file);
    return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  }
}

let gTrace: SessionTrace | null = null;

/** Starts (or with null stops) recording this thread's session timeline. */
export function setSessionTrace(trace: SessionTrace | null): void { gTrace = trace; }

/** The timeline being recorded, or null (the transports' one load per call). */
export function sessionTrace(): SessionTrace | null { return gTrace; }
