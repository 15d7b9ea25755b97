/**
 * Best bid/offer per symbol in shared memory: written by the stage that sees QUOTE events, read by
 * the router's RiskChecker (price collar) on whatever worker it runs, and by the dashboard's
 * top-of-book table (/api/top), which shows the shares at each best price beside it.
 *
 * Layout (SharedArrayBuffer): i32[0] number of symbols published (writer bumps it after filling a
 * slot); slot i: 8 ASCII bytes of the symbol at kSymbolsByte + 8i; bid, ask (Price(4)), bid shares,
 * ask shares at f64[kPricesF64 + 4i .. +3]. A reader learns new symbols by scanning slots it has
 * not seen, once. Single writer. The four values are separate stores: a reader may see a bid from
 * one quote and the ask (or a size) of the next, which a price collar and a person's view tolerate.
 */
import type { BboSource } from '../router/types';

const kMaxSymbols = 16384;
const kSymbolsByte = 64;
const kPricesF64 = (kSymbolsByte + kMaxSymbols * 8) / 8;
const kSlotF64 = 4;
export const kBboTableBytes = kSymbolsByte + kMaxSymbols * 8 + kMaxSymbols * kSlotF64 * 8;

/** One symbol's top of book: prices Price(4) (0: no order on that side), shares at those prices. */
export interface TopOfBook { symbol: string; bid: number; bidShares: number; ask: number; askShares: number }

export class BboTable implements BboSource {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly f64: Float64Array;
  /** Writer: slot per stock locate (-1 none yet). Reader: slot per symbol. */
  private readonly slotOfLocate = new Int32Array(65536).fill(-1);
  private readonly slotOfSymbol = new Map<string, number>();
  private scanned = 0;

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(kBboTableBytes)) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, 16);
    this.u8 = new Uint8Array(sab);
    this.f64 = new Float64Array(sab);
  }

  /** Writer side: the latest QUOTE for a locate (prices and the shares quoted at them). */
  update(locate: number, symbol: string, bid: number, ask: number, bidShares = 0, askShares = 0): void {
    let slot = this.slotOfLocate[locate];
    if (slot < 0) {
      slot = Atomics.load(this.i32, 0);
      if (slot >= kMaxSymbols || symbol === '') return;
      for (let i = 0; i < 8; i++) this.u8[kSymbolsByte + slot * 8 + i] = i < symbol.length ? symbol.charCodeAt(i) : 0x20;
      this.slotOfLocate[locate] = slot;
      this.write(slot, bid, ask, bidShares, askShares);
      Atomics.store(this.i32, 0, slot + 1);
      return;
    }
    this.write(slot, bid, ask, bidShares, askShares);
  }

  private write(slot: number, bid: number, ask: number, bidShares: number, askShares: number): void {
    const at = kPricesF64 + kSlotF64 * slot, f = this.f64;
    f[at] = bid;
    f[at + 1] = ask;
    f[at + 2] = bidShares;
    f[at + 3] = askShares;
  }

  bestBid(symbol: string): number {
    const slot = this.slotFor(symbol);
    return slot < 0 ? 0 : this.f64[kPricesF64 + kSlotF64 * slot];
  }

  bestAsk(symbol: string): number {
    const slot = this.slotFor(symbol);
    return slot < 0 ? 0 : this.f64[kPricesF64 + kSlotF64 * slot + 1];
  }

  /** Every published symbol with its bid, ask and their shares (reader side; allocates: for tools and the dashboard). */
  entries(): TopOfBook[] {
    this.slotFor('');
    const out: TopOfBook[] = [];
    const f = this.f64;
    for (const [symbol, slot] of this.slotOfSymbol) {
      const at = kPricesF64 + kSlotF64 * slot;
      out.push({ symbol, bid: f[at], bidShares: f[at + 2], ask: f[at + 1], askShares: f[at + 3] });
    }
    return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  private slotFor(symbol: string): number {
    const known = this.slotOfSymbol.get(symbol);
    if (known !== undefined) return known;
    const count = Atomics.load(this.i32, 0);
    while (this.scanned < count) {
      let s = '';
      for (let i = 0; i < 8; i++) s += String.fromCharCode(this.u8[kSymbolsByte + this.scanned * 8 + i]);
      this.slotOfSymbol.set(s.trimEnd(), this.scanned);
      this.scanned++;
    }
    return this.slotOfSymbol.get(symbol) ?? -1;
  }
}
