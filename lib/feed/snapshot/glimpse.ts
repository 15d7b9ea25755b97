/**
 * Late join with a GLIMPSE 5.0-style snapshot over SoupBinTCP.
 *
 * Why GLIMPSE: it is NASDAQ's own answer to "start mid-session": a SoupBinTCP session that sends the
 * current state as ordinary ITCH messages (here: Stock Directory 'R' and Stock Trading Action 'H' for
 * every book, Add Order 'A' for every open order) followed by End of Snapshot 'G', whose 20-byte
 * numeric Sequence Number is the MoldUDP64 sequence to resume the live feed from. The client needs no
 * new decoder: snapshot messages go through the same ItchDecoder and BookBuilder as live ones.
 *
 * Server (`GlimpseSnapshotServer`): serves the state of a BookBuilder that is kept current from the
 * live feed (its OrderStore, symbols and trading states) together with the sequence of the next live
 * message it has not applied. Each login gets a fresh snapshot taken at login time.
 *
 * Client (`GlimpseSnapshotClient`): the live feed runs into a RecoverySequencer started *suspended*,
 * which holds live messages in its window while the snapshot loads; at 'G' it calls
 * `resumeAt(sequence)`: held messages the snapshot already covers are dropped, later ones released in
 * order, and any hole between the snapshot point and the first held message is reported as an
 * ordinary gap (the RetransmitRequester fills it). Books are unreliable until then (`booksReliable`).
 *
 * Not a hot path (start-up). Threading: one event loop.
 */
import { invalidOption } from '../../errors';
import { BookBuilder } from '../book/book-builder';
import { ItchMessageHandler } from '../feed-decoder';
import { ItchDecoder } from '../itch/itch-decoder';
import { ItchEncoder, stockBytes, stockDirectoryValues } from '../itch/itch-encoder';
import { SoupBinClient, SoupClientOptions } from '../../protocols/soupbin/soupbin-client';
import { SoupBinServer } from '../../protocols/soupbin/soupbin-server';
import { RecoverySequencer } from '../recovery/recovery-sequencer';

/** 'G' End of Snapshot: type + Sequence Number (numeric, 20 bytes, space-padded on the left). */
export const kGlimpseEndOfSnapshot = 0x47;
export const kGlimpseEndOfSnapshotLength = 21;

export interface GlimpseSnapshotServerOptions {
  session: string;
  heartbeatIntervalMs?: number;
}

export class GlimpseSnapshotServer {
  readonly soup: SoupBinServer;
  snapshotsServed = 0;
  private readonly enc = new ItchEncoder();
  private readonly scratch = Buffer.alloc(64);

  /** `nextSequence()`: the live sequence of the first message `builder` has NOT applied. */
  constructor(private readonly builder: BookBuilder, private readonly nextSequence: () => number, options: GlimpseSnapshotServerOptions) {
    if (typeof nextSequence !== 'function') throw invalidOption('GlimpseSnapshotServer', 'nextSequence', typeof nextSequence, 'a function returning a sequence number');
    this.soup = new SoupBinServer({ session: options.session, heartbeatIntervalMs: options.heartbeatIntervalMs }, {
      // The snapshot is written into the user's stream before the login is answered, so the normal
      // login replay sends it from sequence 1.
      authenticate: (user) => { this.fillSnapshot(user); return true; },
      onUnsequenced: () => { /* GLIMPSE clients send nothing */ },
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> { return this.soup.listen(port, host); }
  close(): Promise<void> { return this.soup.close(); }

  private fillSnapshot(user: string): void {
    const stream = this.soup.streamFor(user);
    stream.clear();
    const b = this.builder;
    const out = this.scratch;
    const enc = this.enc;
    const stocks = new Map<number, Uint8Array>();
    for (const book of b.allBooks()) {
      stocks.set(book.stockLocate, stockBytes(book.symbol));
      stream.publish(out.subarray(0, enc.encode(out, 0, 'R', stockDirectoryValues(book.stockLocate, book.symbol))), false);
      if (book.tradingState !== 0) {
        const n = enc.encode(out, 0, 'H', { stockLocate: book.stockLocate, stock: book.symbol, tradingState: String.fromCharCode(book.tradingState), reserved: ' ', reason: '' });
        stream.publish(out.subarray(0, n), false);
      }
    }
    const none = new Uint8Array(8);
    b.orders.forEach((ref, locate, side, price, shares) => {
      const n = enc.addOrder(out, 0, locate, 0, 0, ref, side === 0x42, shares, stocks.get(locate) ?? none, price);
      stream.publish(out.subarray(0, n), false);
    });
    out[0] = kGlimpseEndOfSnapshot;
    const seq = String(this.nextSequence()).padStart(20, ' ');
    out.write(seq, 1, 'latin1');
    stream.publish(out.subarray(0, kGlimpseEndOfSnapshotLength), false);
    this.snapshotsServed++;
  }
}

export class GlimpseSnapshotClient {
  readonly decoder = new ItchDecoder();
  readonly client: SoupBinClient;
  /** Messages applied from the snapshot (before 'G'). */
  snapshotMessages = 0;
  /** Live sequence the snapshot resumes at; 0 until 'G'. */
  resumeSequence = 0;
  private done: { resolve: (seq: number) => void; reject: (e: Error) => void } | null = null;

  /**
   * `handler` receives snapshot messages (sequence 0) and must be the same one the live
   * `sequencer` delivers to; the sequencer must be suspended (RecoverySequencer option `suspended`).
   */
  constructor(private readonly handler: ItchMessageHandler, private readonly sequencer: RecoverySequencer, options: SoupClientOptions) {
    if (!sequencer.suspended) throw invalidOption('GlimpseSnapshotClient', 'sequencer', 'not suspended', 'a RecoverySequencer created with suspended: true (live messages must wait for the snapshot)');
    this.client = new SoupBinClient({ ...options, nextSeq: 1 }, {
      onSequenced: (buf, off, len) => this.onSnapshotMessage(buf, off, len),
      onDisconnected: (reason) => { if (this.done && this.resumeSequence === 0) this.done.reject(new Error(`snapshot connection ended before End of Snapshot: ${reason}`)); },
    });
  }

  /** True once the snapshot is applied and no loss has happened since. */
  get booksReliable(): boolean { return this.resumeSequence > 0 && this.sequencer.lossesSinceSnapshot === 0; }

  /** Loads the snapshot; resolves with the live sequence delivery resumed at. */
  async load(): Promise<number> {
    const result = new Promise<number>((resolve, reject) => { this.done = { resolve, reject }; });
    await this.client.connect();
    const seq = await result;
    await this.client.logout();
    return seq;
  }

  private onSnapshotMessage(buf: Buffer, off: number, len: number): void {
    if (len >= kGlimpseEndOfSnapshotLength && buf[off] === kGlimpseEndOfSnapshot) {
      const seq = Number(buf.toString('latin1', off + 1, off + 21).trim());
      this.handler.endOfBatch();
      this.resumeSequence = seq;
      this.sequencer.markFresh();
      this.sequencer.resumeAt(seq);
      this.sequencer.endOfBatch();
      this.done?.resolve(seq);
      return;
    }
    const type = this.decoder.decode(buf, off, len);
    if (type <= 0) return;
    this.snapshotMessages++;
    this.handler.onMessage(this.decoder, type, 0);
  }
}
