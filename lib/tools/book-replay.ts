/**
 * Replays a capture through the production decoder and BookBuilder up to a point (a MoldUDP64
 * sequence number or an ITCH timestamp) and returns one symbol's book there: `tickpath book --pcap`.
 *
 * A tool, not a hot path: it reads the whole file into memory and stops decoding (but keeps
 * reading frames, cheaply) once past the point.
 */
import * as fs from 'fs';
import { BookBuilder } from '../feed/book/book-builder';
import { BookSnapshot, snapshotOfBook } from '../feed/book/book-snapshot';
import { FeedDecoder, ItchMessageHandler } from '../feed/feed-decoder';
import type { ItchDecoder } from '../feed/itch/itch-decoder';
import { PcapReader } from '../feed/pcap/pcap-reader';
import { Sequencer } from '../feed/recovery/sequencer';
import type { UdpFrameFilterOptions } from '../feed/wire/udp-frame-parser';

export interface BookReplayOptions {
  symbol: string;
  depth: number;
  /** Apply messages with a sequence number up to this one (inclusive). */
  untilSequence?: number;
  /** Apply messages with an ITCH timestamp (ns since midnight) up to this one (inclusive). */
  untilTimestamp?: number;
  filter?: UdpFrameFilterOptions;
  /** Frames read so far, every few thousand frames (progress). */
  onProgress?: (frames: number, total: number) => void;
}

export interface BookReplayResult {
  /** Undefined when no message named the symbol before the point. */
  snapshot: BookSnapshot | undefined;
  /** Messages applied to the books (all symbols). */
  messages: number;
  /** Sequence number and ITCH timestamp of the last message applied. */
  lastSequence: number;
  lastTimestamp: number;
  /** Symbols that have a book at the point (sorted; for "no such symbol" messages). */
  symbols: string[];
}

export function replayBook(file: string, o: BookReplayOptions): BookReplayResult {
  const data = fs.readFileSync(file);
  const untilSeq = o.untilSequence ?? Infinity;
  const untilTs = o.untilTimestamp ?? Infinity;
  const books = new BookBuilder({ onEvent() {}, endOfBatch() {} });
  let messages = 0, lastSequence = 0, lastTimestamp = 0, past = false;
  const gate: ItchMessageHandler = {
    onMessage(d: ItchDecoder, type: number, sequence: number): void {
      if (past) return;
      const ts = d.messageFor(type)!.timestamp;
      if (sequence > untilSeq || ts > untilTs) { past = true; return; }
      books.onMessage(d, type, sequence);
      messages++;
      lastSequence = sequence;
      lastTimestamp = ts;
    },
    endOfBatch(): void {},
  };
  const decoder = new FeedDecoder(gate, o.filter ?? {}, new Sequencer());
  const reader = new PcapReader(data, file);
  while (!past && reader.next()) {
    decoder.decodeFrame(reader.data, reader.frameOffset, reader.capturedLength);
    if (o.onProgress && (reader.frameNumber & 4095) === 0) o.onProgress(reader.frameOffset, data.length);
  }
  o.onProgress?.(data.length, data.length);
  const all = books.allBooks();
  const book = all.find((b) => b.symbol === o.symbol);
  return {
    snapshot: book ? snapshotOfBook(book, o.depth) : undefined,
    messages, lastSequence, lastTimestamp,
    symbols: all.map((b) => b.symbol).filter((s) => s !== '').sort(),
  };
}
