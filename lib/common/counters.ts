import { TickpathError } from '../errors';

// Layout of a counters block (one SharedArrayBuffer per block):
//   byte 0   header line: i32 [kCountersMagicI32] [kCountersCountI32] [kCountersNamesBytesI32]
//   byte 64  values: count * f64, one per counter
//   then     UTF-8 JSON {"block": name, "names": [...]}, so attach() needs only the buffer
export const kCountersHeaderBytes = 64;
export const kCountersMagicI32 = 0;
export const kCountersCountI32 = 1;
export const kCountersNamesBytesI32 = 2;
export const kCountersMagic = 0x54504354; // 'TPCT'

/**
 * A block of named counters in a SharedArrayBuffer: packets, drops, gaps, orders... Written by one
 * thread with plain stores (no Atomics, nothing on the hot path but `values[i] += n`), read by any
 * thread (the monitor, `tickpath stats`) without pausing the writer.
 *
 * Values are Float64: exact integers up to 2**53 ("64-bit-ish"), which at 100 M events/s is 2.8
 * years. Why not BigInt64Array: BigInt arithmetic allocates. About tearing: the ECMAScript memory
 * model only promises tear-free unordered access for integer element types; V8 on x64 and arm64
 * compiles an aligned Float64 element load/store to one 8-byte move, so a reader sees either the
 * old or the new value. A reader may see counters of one block from slightly different instants.
 *
 * Threading contract: one writer per block; give each worker its own block (separate buffers, so
 * two writers never share a cache line).
 */
export class CountersBlock {
  readonly sab: SharedArrayBuffer;
  readonly blockName: string;
  readonly names: readonly string[];
  /** The counters, indexed as `names`; writers may use it directly: `c.values[kRxPackets] += n`. */
  readonly values: Float64Array;
  private readonly indexByName: Map<string, number>;

  static create(blockName: string, names: readonly string[]): CountersBlock {
    const seen = new Set<string>();
    for (const n of names) {
      if (typeof n !== 'string' || n.length === 0) {
        throw new TickpathError(
          'ERR_INVALID_OPTION',
          `CountersBlock.create: counter name ${JSON.stringify(n)} in block '${blockName}', expected a non-empty string`,
        );
      }
      if (seen.has(n)) {
        throw new TickpathError(
          'ERR_INVALID_OPTION',
          `CountersBlock.create: counter name '${n}' appears twice in block '${blockName}', expected unique names`,
        );
      }
      seen.add(n);
    }
    const meta = new TextEncoder().encode(JSON.stringify({ block: blockName, names }));
    const sab = new SharedArrayBuffer(kCountersHeaderBytes + names.length * 8 + meta.length);
    const header = new Int32Array(sab, 0, kCountersHeaderBytes >> 2);
    header[kCountersCountI32] = names.length;
    header[kCountersNamesBytesI32] = meta.length;
    new Uint8Array(sab, kCountersHeaderBytes + names.length * 8).set(meta);
    Atomics.store(header, kCountersMagicI32, kCountersMagic);
    return new CountersBlock(sab);
  }

  static attach(sab: SharedArrayBuffer): CountersBlock {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < kCountersHeaderBytes) {
      throw new TickpathError('ERR_COUNTERS_ATTACH', 'CountersBlock.attach: expected a SharedArrayBuffer from CountersBlock.create()');
    }
    return new CountersBlock(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    const header = new Int32Array(sab, 0, kCountersHeaderBytes >> 2);
    if (Atomics.load(header, kCountersMagicI32) !== kCountersMagic) {
      throw new TickpathError('ERR_COUNTERS_ATTACH', 'CountersBlock.attach: buffer is not a counters block');
    }
    const count = header[kCountersCountI32];
    const metaBytes = header[kCountersNamesBytesI32];
    // TextDecoder refuses views on shared memory: copy the (start-up only) metadata out first.
    const metaCopy = new Uint8Array(metaBytes);
    metaCopy.set(new Uint8Array(sab, kCountersHeaderBytes + count * 8, metaBytes));
    const meta = JSON.parse(new TextDecoder().decode(metaCopy)) as { block: string; names: string[] };
    this.sab = sab;
    this.blockName = meta.block;
    this.names = Object.freeze(meta.names.slice());
    this.values = new Float64Array(sab, kCountersHeaderBytes, count);
    this.indexByName = new Map(meta.names.map((n, i) => [n, i]));
  }

  /** Index of `name`, resolved once at start-up and kept by the writer as a constant. */
  indexOf(name: string): number {
    const i = this.indexByName.get(name);
    if (i === undefined) {
      throw new TickpathError(
        'ERR_UNKNOWN_COUNTER',
        `CountersBlock '${this.blockName}': no counter named '${name}', expected one of ${this.names.join(', ')}`,
      );
    }
    return i;
  }

  add(index: number, delta: number): void {
    this.values[index] += delta;
  }

  increment(index: number): void {
    this.values[index]++;
  }

  set(index: number, value: number): void {
    this.values[index] = value;
  }

  get(index: number): number {
    return this.values[index];
  }

  /** Reader side: a plain object of every counter (allocates; for monitors, not hot paths). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i]] = this.values[i];
    return out;
  }
}
