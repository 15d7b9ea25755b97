/**
 * Test glue for backend tests that open ports through the addon with raw native option maps (to
 * test exactly what native parses and refuses): the production RxConsumer and TxProducer attached
 * to such a port by id, and a drain that hands a handler every descriptor field. No ring constant
 * lives here; the rings are read only through lib/binding's classes.
 *
 * Single consumer / single producer, as in production: the test's thread.
 */
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import { addonPath, binding } from '../../lib/binding/native';
import { kDescAux, kDescLen, kDescOffset, kDescRegionFlags, kDescTsHi, kDescTsLo, kDescWireLen } from '../../lib/binding/layout';
import { RxConsumer } from '../../lib/binding/rx-consumer';
import { TxProducer } from '../../lib/binding/tx-producer';

/** The production consumer on queue `queue` of port `id`; inline: it polls the port itself. */
export function rxConsumerOf(id: number, queue = 0, inline = true, backend = 'raw'): RxConsumer {
  const b = binding();
  return new RxConsumer({ portId: id, queue, inline, backend, ring: b.portRxRing(id, queue), regions: b.portRegions(id) });
}

/** The production producer on queue `queue` of port `id` (inline: publish() polls the port). */
export function txProducerOf(id: number, queue = 0, inline = true): TxProducer {
  const b = binding();
  return new TxProducer({ portId: id, queue, inline, ring: b.portTxRing(id, queue), slots: b.portTxSlots(id, queue) });
}

/** Claims a slot, copies `frame` in and commits it; false when every slot is in flight. */
export function offerFrame(tx: TxProducer, frame: Uint8Array): boolean {
  const slot = tx.tryClaim();
  if (slot < 0) return false;
  tx.bytes.set(frame.subarray(0, tx.slotBytes), tx.slotOffset(slot));
  tx.commit(slot, frame.length);
  return true;
}

/** Called once per packet: region bytes, then the descriptor's fields. */
export type DescriptorHandler = (
  region: Uint8Array, offset: number, len: number, wireLen: number, flags: number,
  tsLo: number, tsHi: number, aux: number,
) => void;

/** Counts what an RxConsumer delivered while handing every descriptor field to a handler. */
export class DescriptorDrain {
  packets = 0;
  bytes = 0;

  constructor(readonly rx: RxConsumer) {}

  /** One batch: everything available (polling first in inline mode), then one advance. */
  drain(fn: DescriptorHandler, limit = 4096): number {
    const rx = this.rx;
    const n = rx.available(limit);
    for (let i = 0; i < n; i++) {
      const rf = rx.descriptorWord(i, kDescRegionFlags);
      const len = rx.descriptorWord(i, kDescLen);
      fn(rx.region(rf & 0xffff), rx.descriptorWord(i, kDescOffset), len, rx.descriptorWord(i, kDescWireLen), rf >>> 16,
        rx.descriptorWord(i, kDescTsLo), rx.descriptorWord(i, kDescTsHi), rx.descriptorWord(i, kDescAux));
      this.bytes += len;
    }
    if (n) rx.advance(n);
    this.packets += n;
    return n;
  }

  /** Drains until `want` packets arrived or `timeoutMs` passed, yielding to the event loop between empty polls. */
  async drainUntil(want: number, timeoutMs: number, fn: DescriptorHandler): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let idle = 0;
    while (this.packets < want && Date.now() < deadline) {
      if (this.drain(fn) === 0) {
        if (++idle % 64 === 0) await new Promise((r) => setTimeout(r, 1));
        else if (idle % 8 === 0) await new Promise((r) => setImmediate(r));
      } else idle = 0;
    }
    return this.packets;
  }
}

/**
 * Opens `backend` on lo in a child running as user nobody (setpriv); the child prints 'opened' or
 * the error's { errno, message } as JSON. A non-zero status means the child could not be run.
 */
export function openPortAsNobody(backend: string): SpawnSyncReturns<string> {
  const script = `try { require(${JSON.stringify(addonPath())}).openPort('${backend}', { interface: 'lo' }); console.log('opened'); } catch (e) { console.log(JSON.stringify({ errno: e.errno, message: e.message })); }`;
  return spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
}
