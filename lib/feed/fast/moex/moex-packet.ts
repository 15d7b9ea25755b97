/**
 * MOEX FIX/FAST UDP framing: every datagram on an incremental, snapshot or instrument channel is a
 * 4-byte little-endian MsgSeqNum followed by one FAST-encoded message (whose own MsgSeqNum field
 * repeats the number). The prefix lets a receiver arbitrate the A and B lines and detect gaps
 * without decoding FAST. The exchange encodes each datagram from a reset FAST state, so the decoder
 * resets its dictionaries per packet (FastFeedDecoder's `resetPerPacket`).
 *
 * `wrap` returns the message length, or kMoexPacketTooShort for a datagram that cannot hold a prefix
 * and one byte of message. Nothing is allocated. Single writer: the thread decoding the channel.
 */
export const kMoexPrefixLength = 4;
export const kMoexPacketTooShort = -1;

export class MoexPacket {
  msgSeqNum = 0;
  messageOffset = 0;
  messageLength = 0;

  wrap(b: Uint8Array, offset: number, length: number): number {
    if (length <= kMoexPrefixLength) return kMoexPacketTooShort;
    this.msgSeqNum = (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16)) + b[offset + 3] * 16777216;
    this.messageOffset = offset + kMoexPrefixLength;
    this.messageLength = length - kMoexPrefixLength;
    return this.messageLength;
  }
}

/** Write a MOEX datagram (prefix + message) into `out` at `offset`; returns its length (generators, replay). */
export function writeMoexPacket(out: Uint8Array, offset: number, msgSeqNum: number, message: Uint8Array): number {
  out[offset] = msgSeqNum & 0xff;
  out[offset + 1] = (msgSeqNum >>> 8) & 0xff;
  out[offset + 2] = (msgSeqNum >>> 16) & 0xff;
  out[offset + 3] = (msgSeqNum >>> 24) & 0xff;
  out.set(message, offset + kMoexPrefixLength);
  return kMoexPrefixLength + message.length;
}
