/**
 * A deterministic synthetic ITCH 5.0 session for the benchmarks, built with the production encoders:
 * MoldUDP64 packets of up to ~1400 bytes carrying a realistic order-flow mix (mostly A, D, U, E, X;
 * some P, F, C) over a few hundred symbols with prices near the touch, so books see real insert/
 * remove patterns. Every D/E/X/U refers to a live order. Not the hot path: the generator allocates.
 *
 * Stored as one Uint8Array of records [u16 big-endian packet length][MoldUDP64 packet], the same
 * bytes the C reference reads from a file.
 */
import { ItchEncoder, stockBytes } from '../../lib/feed/itch/itch-encoder';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';

export interface SyntheticSession {
  bytes: Uint8Array;
  packets: number;
  messages: number;
  byType: Record<string, number>;
}

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s; }
  below(n: number): number { return this.next() % n; }
}

/** Cumulative mix in per-mille: A 42%, D 33%, U 10%, E 6%, X 5%, P 2%, F 1%, C 1%. */
const kMix: [string, number][] = [['A', 420], ['D', 750], ['U', 850], ['E', 910], ['X', 960], ['P', 980], ['F', 990], ['C', 1000]];

export function generateSession(messages: number, symbols = 500, seed = 12345): SyntheticSession {
  const rng = new Rng(seed);
  const enc = new ItchEncoder();
  const mold = new MoldUdp64Encoder('SYNTH00001');
  const stocks = Array.from({ length: symbols }, (_, i) => stockBytes(`S${i.toString(36).toUpperCase()}`));
  const mid = Array.from({ length: symbols }, () => 100000 + rng.below(2000) * 100);
  const mpid = stockBytes('VIRT');
  // Live orders: parallel arrays with swap-remove.
  const liveRef: number[] = []; const liveLocate: number[] = []; const liveShares: number[] = [];
  const liveBuy: boolean[] = []; const livePrice: number[] = [];
  const chunks: Uint8Array[] = [];
  const byType: Record<string, number> = {};
  const packet = new Uint8Array(2 + 1500);
  let nextRef = 1;
  let match = 1;
  let seq = 1;
  let ts = 34200000000000;
  let produced = 0;
  let packets = 0;
  const removeLive = (i: number): void => {
    const last = liveRef.length - 1;
    liveRef[i] = liveRef[last]; liveLocate[i] = liveLocate[last]; liveShares[i] = liveShares[last];
    liveBuy[i] = liveBuy[last]; livePrice[i] = livePrice[last];
    liveRef.pop(); liveLocate.pop(); liveShares.pop(); liveBuy.pop(); livePrice.pop();
  };
  while (produced < messages) {
    mold.begin(packet, 2, seq);
    while (produced < messages && mold.lengthWith(44) <= 1400) {
      ts += 1 + rng.below(2000);
      const r = rng.below(1000);
      let type = 'A';
      for (const [t, upTo] of kMix) if (r < upTo) { type = t; break; }
      if (type !== 'A' && type !== 'F' && type !== 'P' && liveRef.length < 200) type = 'A';
      const pick = rng.below(Math.max(1, liveRef.length));
      const sym = rng.below(symbols);
      const buy = rng.below(2) === 0;
      const price = mid[sym] + (buy ? -1 : 1) * (rng.below(10) * 100);
      const shares = 100 * (1 + rng.below(10));
      switch (type) {
        case 'A': case 'F': {
          const ref = nextRef++;
          if (type === 'A') enc.addOrder(packet, mold.appendMessage(36), sym + 1, 0, ts, ref, buy, shares, stocks[sym], price);
          else enc.addOrderMpid(packet, mold.appendMessage(40), sym + 1, 0, ts, ref, buy, shares, stocks[sym], price, mpid);
          liveRef.push(ref); liveLocate.push(sym + 1); liveShares.push(shares); liveBuy.push(buy); livePrice.push(price);
          break;
        }
        case 'D':
          enc.orderDelete(packet, mold.appendMessage(19), liveLocate[pick], 0, ts, liveRef[pick]);
          removeLive(pick);
          break;
        case 'U': {
          const ref = nextRef++;
          const p = livePrice[pick] + (rng.below(3) - 1) * 100;
          enc.orderReplace(packet, mold.appendMessage(35), liveLocate[pick], 0, ts, liveRef[pick], ref, shares, p);
          liveRef[pick] = ref; liveShares[pick] = shares; livePrice[pick] = p;
          break;
        }
        case 'E': case 'C': case 'X': {
          const qty = Math.min(liveShares[pick], 100 * (1 + rng.below(3)));
          if (type === 'E') enc.orderExecuted(packet, mold.appendMessage(31), liveLocate[pick], 0, ts, liveRef[pick], qty, match++);
          else if (type === 'C') enc.orderExecutedWithPrice(packet, mold.appendMessage(36), liveLocate[pick], 0, ts, liveRef[pick], qty, match++, true, livePrice[pick]);
          else enc.orderCancel(packet, mold.appendMessage(23), liveLocate[pick], 0, ts, liveRef[pick], qty);
          liveShares[pick] -= qty;
          if (liveShares[pick] === 0) removeLive(pick);
          break;
        }
        case 'P':
          enc.trade(packet, mold.appendMessage(44), sym + 1, 0, ts, 0, buy, shares, stocks[sym], price, match++);
          break;
      }
      byType[type] = (byType[type] ?? 0) + 1;
      produced++;
    }
    const count = mold.messageCount;
    const len = mold.finish();
    packet[0] = len >>> 8; packet[1] = len & 0xff;
    chunks.push(packet.slice(0, 2 + len));
    seq += count;
    packets++;
  }
  return { bytes: Buffer.concat(chunks), packets, messages: produced, byType };
}
