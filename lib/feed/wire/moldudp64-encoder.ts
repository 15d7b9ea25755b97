/**
 * Builds MoldUDP64 downstream packets in place: `begin` writes the header, `appendMessage` reserves a
 * length-prefixed block and returns where to write the message, `finish` patches the count and
 * returns the packet length. Also heartbeats and end-of-session packets. Writes into a caller-owned
 * buffer so a generator reuses one scratch area per packet.
 */
import { TickpathError } from '../../errors';
import { writeU16, writeU64 } from '../../common/bytes';
import { kMoldUdp64EndOfSession, kMoldUdp64HeaderLength, kMoldUdp64SessionLength } from './moldudp64-packet';

export class MoldUdp64Encoder {
  private buffer: Uint8Array = new Uint8Array(0);
  private start = 0;
  private cursor = 0;
  private count = 0;
  private readonly session = new Uint8Array(kMoldUdp64SessionLength);

  /** Session: up to 10 ASCII characters, space-padded on the wire. */
  constructor(session: string) {
    if (typeof session !== 'string' || session.length > kMoldUdp64SessionLength || !/^[\x20-\x7e]*$/.test(session)) {
      throw new TickpathError('ERR_INVALID_OPTION', `MoldUdp64Encoder: option 'session' is ${JSON.stringify(session)}, expected up to 10 printable ASCII characters`);
    }
    for (let i = 0; i < kMoldUdp64SessionLength; i++) this.session[i] = i < session.length ? session.charCodeAt(i) : 0x20;
  }

  begin(b: Uint8Array, offset: number, sequenceNumber: number): void {
    if (offset + kMoldUdp64HeaderLength > b.length) throw new TickpathError('ERR_MOLD_ENCODE', 'MoldUdp64Encoder: buffer too small for the header');
    this.buffer = b;
    this.start = offset;
    b.set(this.session, offset);
    writeU64(b, offset + 10, sequenceNumber);
    writeU16(b, offset + 18, 0);
    this.cursor = offset + kMoldUdp64HeaderLength;
    this.count = 0;
  }

  /** Reserve a block of `length` bytes; returns the offset to write the message at. */
  appendMessage(length: number): number {
    const p = this.cursor;
    if (p + 2 + length > this.buffer.length) throw new TickpathError('ERR_MOLD_ENCODE', `MoldUdp64Encoder: no room for a ${length}-byte message`);
    writeU16(this.buffer, p, length);
    this.cursor = p + 2 + length;
    this.count++;
    return p + 2;
  }

  /** Bytes a packet would have after appending a message of `length`. */
  lengthWith(length: number): number {
    return this.cursor - this.start + 2 + length;
  }

  get messageCount(): number { return this.count; }

  /** Patch the message count; returns the packet length. */
  finish(): number {
    writeU16(this.buffer, this.start + 18, this.count);
    return this.cursor - this.start;
  }

  heartbeat(b: Uint8Array, offset: number, nextSequenceNumber: number): number {
    this.begin(b, offset, nextSequenceNumber);
    return this.finish();
  }

  endOfSession(b: Uint8Array, offset: number, nextSequenceNumber: number): number {
    this.begin(b, offset, nextSequenceNumber);
    writeU16(b, offset + 18, kMoldUdp64EndOfSession);
    return kMoldUdp64HeaderLength;
  }
}
