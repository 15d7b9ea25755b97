/**
 * MoldUDP64 downstream packet flyweight: Session (10 alphanumeric bytes), Sequence Number (u64
 * big-endian, the sequence of the first message), Message Count (u16), then Message Count blocks of
 * a 2-byte length and the message bytes.
 *
 * Count 0 is a heartbeat, 0xFFFF marks the end of session; neither carries messages. The sequence is a
 * JS number (exact below 2^53: a session would need 9e15 messages to lose precision), so no BigInt
 * per packet. `nextMessage()` walks the blocks in place and stops, counting, at a block that would run
 * past the end of the packet. Single writer: the thread that owns the feed decoder.
 */
import { readU16, readU64 } from '../../common/bytes';

export const kMoldUdp64HeaderLength = 20;
export const kMoldUdp64SessionLength = 10;
export const kMoldUdp64EndOfSession = 0xffff;
/** wrap() result when the packet is shorter than the 20-byte header. */
export const kMoldUdp64Truncated = -1;

const kEmpty = new Uint8Array(0);

export class MoldUdp64Counters {
  packets = 0;
  heartbeats = 0;
  endOfSession = 0;
  truncatedHeader = 0;
  /** A message block whose length runs past the end of the packet, or fewer blocks than the count. */
  truncatedBlock = 0;
}

export class MoldUdp64Packet {
  readonly counters = new MoldUdp64Counters();
  buffer: Uint8Array = kEmpty;
  offset = 0;
  length = 0;
  sequenceNumber = 0;
  messageCount = 0;

  /** Current block, valid after nextMessage() returned true. */
  messageOffset = 0;
  messageLength = 0;
  /** Sequence number of the current block's message. */
  messageSequence = 0;
  private cursor = 0;
  private index = 0;

  /** Wrap a UDP payload; returns the message count (0 for heartbeat/end of session) or kMoldUdp64Truncated. */
  wrap(b: Uint8Array, offset: number, length: number): number {
    const c = this.counters;
    if (length < kMoldUdp64HeaderLength) { c.truncatedHeader++; return kMoldUdp64Truncated; }
    this.buffer = b;
    this.offset = offset;
    this.length = length;
    this.sequenceNumber = readU64(b, offset + 10);
    const count = readU16(b, offset + 18);
    c.packets++;
    this.cursor = offset + kMoldUdp64HeaderLength;
    this.index = 0;
    if (count === kMoldUdp64EndOfSession) { c.endOfSession++; this.messageCount = 0; return 0; }
    if (count === 0) c.heartbeats++;
    this.messageCount = count;
    return count;
  }

  get isHeartbeat(): boolean { return readU16(this.buffer, this.offset + 18) === 0; }
  get isEndOfSession(): boolean { return readU16(this.buffer, this.offset + 18) === kMoldUdp64EndOfSession; }
  get sessionOffset(): number { return this.offset; }

  /** Session as text, right-trimmed; null when the session bytes are all zero (anonymised captures). Tools only. */
  get session(): string | null {
    const b = this.buffer;
    let zero = true;
    let s = '';
    for (let i = 0; i < kMoldUdp64SessionLength; i++) {
      const ch = b[this.offset + i];
      if (ch !== 0) zero = false;
      s += String.fromCharCode(ch);
    }
    return zero ? null : s.replace(/ +$/, '');
  }

  /** True when the session bytes equal `session` (10 bytes at `at`), without building a string. */
  sessionEquals(session: Uint8Array, at = 0): boolean {
    const b = this.buffer;
    for (let i = 0; i < kMoldUdp64SessionLength; i++) if (b[this.offset + i] !== session[at + i]) return false;
    return true;
  }

  /** Advance to the next message block; false when all are read or the next one is truncated (counted). */
  nextMessage(): boolean {
    if (this.index >= this.messageCount) return false;
    const end = this.offset + this.length;
    const p = this.cursor;
    if (p + 2 > end) { this.counters.truncatedBlock++; this.index = this.messageCount; return false; }
    const len = readU16(this.buffer, p);
    if (p + 2 + len > end) { this.counters.truncatedBlock++; this.index = this.messageCount; return false; }
    this.messageOffset = p + 2;
    this.messageLength = len;
    this.messageSequence = this.sequenceNumber + this.index;
    this.index++;
    this.cursor = p + 2 + len;
    return true;
  }
}
