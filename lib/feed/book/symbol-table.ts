/**
 * Stock symbol per stock locate, resolved once: the 8 raw bytes of the Stock field are kept per
 * locate and compared on lookup, so a symbol string is built the first time a locate is seen (or when
 * the exchange reassigns it) and every later message returns the cached string without allocating.
 * Single writer: the book builder's thread.
 */
import { readAlpha } from '../../common/bytes';

const kLocates = 65536;

export class SymbolTable {
  private readonly raw = new Uint8Array(kLocates * 8);
  private readonly known = new Uint8Array(kLocates);
  private readonly symbols: string[] = new Array<string>(kLocates).fill('');
  /** Strings built (first sight of a locate, or a change of symbol). */
  resolutions = 0;

  /** Symbol for `locate`, given the 8-byte Stock field at `offset` of `buffer`. */
  resolve(locate: number, buffer: Uint8Array, offset: number): string {
    const raw = this.raw;
    const base = locate * 8;
    if (this.known[locate] !== 0) {
      let same = true;
      for (let i = 0; i < 8; i++) if (raw[base + i] !== buffer[offset + i]) { same = false; break; }
      if (same) return this.symbols[locate];
    }
    for (let i = 0; i < 8; i++) raw[base + i] = buffer[offset + i];
    this.known[locate] = 1;
    this.resolutions++;
    const s = readAlpha(buffer, offset, 8);
    this.symbols[locate] = s;
    return s;
  }

  /** Symbol last seen for `locate`, '' if none yet. */
  symbolOf(locate: number): string {
    return this.symbols[locate];
  }
}
