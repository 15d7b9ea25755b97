/**
 * Which symbols the book stage builds books for, changeable from another thread while it runs.
 *
 * The owner writes a new list into a shared mailbox and bumps a generation counter; the stage
 * reads the counter once per batch (one Atomics load) and rebuilds its per-locate mask only when
 * it changed. No lock, nothing per message beyond one typed-array read.
 *
 * Mailbox layout (SharedArrayBuffer): i32[0] generation, i32[1] byte length of the list,
 * bytes 64.. the list as ASCII symbols separated by ',' ('*' = every symbol).
 */
import { invalidOption } from '../errors';
import type { SymbolTable } from '../feed/book/symbol-table';

const kTypeStockDirectory = 0x52; // R
const kTypeAddOrder = 0x41; // A
const kTypeAddOrderMpid = 0x46; // F

const kGenerationI32 = 0;
const kLengthI32 = 1;
const kTextByte = 64;
export const kSubscriptionMailboxBytes = 64 + 64 * 1024;

export const kLocateUnknown = 0;
export const kLocateSubscribed = 1;
export const kLocateIgnored = 2;

/** Owner side: any thread that decides what to subscribe to. */
export class SubscriptionMailbox {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(kSubscriptionMailboxBytes)) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, 16);
    this.u8 = new Uint8Array(sab);
  }

  /** Replaces the whole list; ['*'] (the default) means every symbol. */
  publish(symbols: readonly string[]): void {
    for (const s of symbols) {
      // 8 is ITCH's width; MOEX FIX/FAST symbols are longer (USD000UTSTOM, or CETS:USD000UTSTOM for one session).
      if (typeof s !== 'string' || !/^(\*|[\x21-\x7e]{1,32})$/.test(s) || s.includes(',')) {
        throw invalidOption('subscribe', 'symbol', s, "1 to 32 printable ASCII characters (no ',') or '*'");
      }
    }
    const text = symbols.join(',');
    if (text.length > kSubscriptionMailboxBytes - kTextByte) throw invalidOption('subscribe', 'symbols', `${symbols.length} symbols`, 'a list under 64 KiB');
    for (let i = 0; i < text.length; i++) this.u8[kTextByte + i] = text.charCodeAt(i);
    Atomics.store(this.i32, kLengthI32, text.length);
    Atomics.add(this.i32, kGenerationI32, 1);
  }

  generation(): number {
    return Atomics.load(this.i32, kGenerationI32);
  }

  read(): string[] {
    const len = Atomics.load(this.i32, kLengthI32);
    let text = '';
    for (let i = 0; i < len; i++) text += String.fromCharCode(this.u8[kTextByte + i]);
    return text.length ? text.split(',') : [];
  }
}

/**
 * Stage side: a per-locate mask. A locate's symbol becomes known from a Stock Directory ('R') or
 * an Add Order ('A'/'F'); until then messages pass (the book builder ignores orders it never saw).
 */
export class SubscriptionFilter {
  readonly mask = new Uint8Array(65536);
  private all = true;
  private symbols = new Set<string>();
  private seenGeneration = -1;
  private readonly mailbox: SubscriptionMailbox;

  constructor(mailbox: SubscriptionMailbox) {
    this.mailbox = mailbox;
  }

  /** Once per batch: picks up a new list if the owner published one. */
  refresh(): void {
    const g = this.mailbox.generation();
    if (g === this.seenGeneration) return;
    this.seenGeneration = g;
    const list = g === 0 ? ['*'] : this.mailbox.read();
    this.all = list.includes('*');
    this.symbols = new Set(list);
    this.mask.fill(kLocateUnknown); // re-learnt from the symbol table as messages arrive
  }

  get everything(): boolean {
    return this.all;
  }

  /**
   * Whether the message at b[o] (type byte first) goes on to the books. Stock Directory always
   * does (it names the locate); a locate's symbol is learnt from 'R' or an Add Order, and until
   * then its messages pass (the book builder ignores orders it never saw added).
   */
  admits(type: number, b: Uint8Array, o: number, symbols: SymbolTable): boolean {
    if (this.all) return true;
    const locate = (b[o + 1] << 8) | b[o + 2];
    let m = this.mask[locate];
    if (m === kLocateUnknown) {
      if (type === kTypeStockDirectory) m = this.learn(locate, symbols.resolve(locate, b, o + 11));
      else if (type === kTypeAddOrder || type === kTypeAddOrderMpid) m = this.learn(locate, symbols.resolve(locate, b, o + 24));
    }
    return m !== kLocateIgnored || type === kTypeStockDirectory;
  }

  /**
   * A FAST book's events (MarketBooks.fastEvents): its locate is the FAST adapter's, its name
   * SESSION:SYMBOL; subscribed by either the full name or the bare symbol. Learnt once per locate.
   */
  admitsBook(locate: number, name: string): boolean {
    if (this.all) return true;
    let m = this.mask[locate];
    if (m === kLocateUnknown) {
      m = this.learn(locate, name);
      const colon = name.indexOf(':');
      if (m === kLocateIgnored && colon >= 0) m = this.learn(locate, name.slice(colon + 1));
    }
    return m === kLocateSubscribed;
  }

  /** Classifies a locate whose symbol is now known; returns the new mask value. */
  learn(locate: number, symbol: string): number {
    const v = this.all || this.symbols.has(symbol) ? kLocateSubscribed : kLocateIgnored;
    this.mask[locate] = v;
    return v;
  }
}
