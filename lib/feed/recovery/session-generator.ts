/**
 * Deterministic synthetic ITCH 5.0 session for recovery tests, the re-request server's journal and
 * demos: a System Event, one Stock Directory per locate, then a seeded mix of Add, Execute, Cancel,
 * Delete, Replace and Trade on orders that exist, so a gapless replay builds consistent books.
 *
 * Not a hot path: every message is its own Uint8Array (tools and tests only).
 */
import { invalidOption } from '../../errors';
import { ItchEncoder, stockBytes } from '../itch-encoder';
import { MoldUdp64Encoder } from '../moldudp64-encoder';

export interface GeneratedSessionOptions {
  /** Total messages, including the directory (default 2000). */
  messages?: number;
  /** Stock locates 1..locates (default 4). */
  locates?: number;
  seed?: number;
}

export interface MoldPacket {
  sequenceNumber: number;
  messageCount: number;
  payload: Uint8Array;
}

/** Symbol of a generated locate: 'SYM1', 'SYM2', ... */
export function generatedSymbol(locate: number): string {
  return `SYM${locate}`;
}

/** The messages of a generated session, in sequence order (index i is sequence i + 1). */
export function generateItchSession(options: GeneratedSessionOptions = {}): Uint8Array[] {
  const total = options.messages ?? 2000;
  const locates = options.locates ?? 4;
  if (!Number.isInteger(total) || total < 1) throw invalidOption('generateItchSession', 'messages', total, 'a positive integer');
  if (!Number.isInteger(locates) || locates < 1 || locates > 65535) throw invalidOption('generateItchSession', 'locates', locates, 'an integer from 1 to 65535');
  let x = (options.seed ?? 1) >>> 0 || 1;
  const rand = (n: number): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
  const enc = new ItchEncoder();
  const out: Uint8Array[] = [];
  const scratch = new Uint8Array(64);
  const push = (n: number): void => { out.push(scratch.slice(0, n)); };
  let ts = 34_200_000_000_000;
  push(enc.encode(scratch, 0, 'S', { timestamp: ts, eventCode: 'O' }));
  const stocks: Uint8Array[] = [new Uint8Array(8)];
  for (let l = 1; l <= locates && out.length < total; l++) {
    stocks.push(stockBytes(generatedSymbol(l)));
    push(enc.encode(scratch, 0, 'R', stockDirectoryValues(l, generatedSymbol(l), ts)));
  }
  // Live orders: ref, locate, shares (parallel arrays).
  const refs: number[] = [];
  const locs: number[] = [];
  const shares: number[] = [];
  let nextRef = 1;
  let match = 1;
  while (out.length < total) {
    ts += 1000 + rand(5000);
    const op = refs.length < 8 ? 0 : rand(10);
    if (op <= 3) {
      const l = 1 + rand(locates);
      const buy = rand(2) === 0;
      const price = (buy ? 99_0000 : 100_0000) + (buy ? -1 : 1) * rand(20) * 100;
      const qty = 100 * (1 + rand(10));
      push(enc.addOrder(scratch, 0, l, 0, ts, nextRef, buy, qty, stocks[l], price));
      refs.push(nextRef++); locs.push(l); shares.push(qty);
      continue;
    }
    const k = rand(refs.length);
    const ref = refs[k];
    const l = locs[k];
    const remove = (): void => { refs[k] = refs[refs.length - 1]; locs[k] = locs[locs.length - 1]; shares[k] = shares[shares.length - 1]; refs.pop(); locs.pop(); shares.pop(); };
    if (op === 4 || op === 5) {
      const q = Math.min(shares[k], 100 * (1 + rand(3)));
      push(enc.orderExecuted(scratch, 0, l, 0, ts, ref, q, match++));
      shares[k] -= q;
      if (shares[k] === 0) remove();
    } else if (op === 6) {
      const q = Math.min(shares[k] - 1, 50);
      if (q <= 0) { push(enc.orderDelete(scratch, 0, l, 0, ts, ref)); remove(); continue; }
      push(enc.orderCancel(scratch, 0, l, 0, ts, ref, q));
      shares[k] -= q;
    } else if (op === 7) {
      push(enc.orderDelete(scratch, 0, l, 0, ts, ref));
      remove();
    } else if (op === 8) {
      const qty = 100 * (1 + rand(10));
      const price = 95_0000 + rand(100) * 100;
      push(enc.orderReplace(scratch, 0, l, 0, ts, ref, nextRef, qty, price));
      refs[k] = nextRef++; shares[k] = qty;
    } else {
      push(enc.trade(scratch, 0, l, 0, ts, 0, rand(2) === 0, 100, stocks[l], 100_0000, match++));
    }
  }
  return out;
}

/** Values for an 'R' Stock Directory with neutral attributes. */
export function stockDirectoryValues(stockLocate: number, stock: string, timestamp = 0): Record<string, number | string> {
  return {
    stockLocate, timestamp, stock, marketCategory: 'Q', financialStatusIndicator: 'N', roundLotSize: 100, roundLotsOnly: 'N',
    issueClassification: 'C', issueSubType: 'Z', authenticity: 'P', shortSaleThresholdIndicator: 'N', ipoFlag: 'N',
    luldReferencePriceTier: '1', etpFlag: 'N', etpLeverageFactor: 0, inverseIndicator: 'N',
  };
}

/**
 * MoldUDP64 packets carrying `messages` (index i = sequence firstSequence + i), at most
 * `maxMessagesPerPacket` each and at most `maxPacketSize` bytes.
 */
export function packetize(messages: readonly Uint8Array[], session: string, firstSequence = 1,
  maxMessagesPerPacket = 8, maxPacketSize = 1400): MoldPacket[] {
  const mold = new MoldUdp64Encoder(session);
  const scratch = new Uint8Array(Math.max(maxPacketSize, 64 * 1024));
  const out: MoldPacket[] = [];
  let i = 0;
  while (i < messages.length) {
    mold.begin(scratch, 0, firstSequence + i);
    while (i < messages.length && mold.messageCount < maxMessagesPerPacket
      && (mold.messageCount === 0 || mold.lengthWith(messages[i].length) <= maxPacketSize)) {
      scratch.set(messages[i], mold.appendMessage(messages[i].length));
      i++;
    }
    const count = mold.messageCount;
    const n = mold.finish();
    out.push({ sequenceNumber: firstSequence + i - count, messageCount: count, payload: scratch.slice(0, n) });
  }
  return out;
}

/** A heartbeat (count 0) announcing `nextSequence`. */
export function heartbeatPacket(session: string, nextSequence: number): Uint8Array {
  const b = new Uint8Array(20);
  new MoldUdp64Encoder(session).heartbeat(b, 0, nextSequence);
  return b;
}

/** An end-of-session packet. */
export function endOfSessionPacket(session: string, nextSequence: number): Uint8Array {
  const b = new Uint8Array(20);
  new MoldUdp64Encoder(session).endOfSession(b, 0, nextSequence);
  return b;
}
