/**
 * SoupBinTCP 3.0 framing: every packet is a 2-byte big-endian length (covering the type byte and
 * the payload) followed by a 1-byte packet type. This file holds the wire constants, encoders that
 * write into caller-owned buffers, and `SoupFrameParser`, the incremental parser that turns a TCP
 * byte stream into frames.
 *
 * Threading: a parser belongs to one socket and is driven from that socket's 'data' event only.
 */

// Packet types (ASCII). Server -> client unless noted.
import { writeAlpha, writeAlphaRight, writeNumeric } from '../../common/bytes';
export const kSoupDebug = 0x2b;            // '+' both directions
export const kSoupLoginAccepted = 0x41;    // 'A'
export const kSoupLoginRejected = 0x4a;    // 'J'
export const kSoupSequencedData = 0x53;    // 'S'
export const kSoupServerHeartbeat = 0x48;  // 'H'
export const kSoupEndOfSession = 0x5a;     // 'Z'
export const kSoupLoginRequest = 0x4c;     // 'L' client
export const kSoupUnsequencedData = 0x55;  // 'U' client
export const kSoupClientHeartbeat = 0x52;  // 'R' client
export const kSoupLogoutRequest = 0x4f;    // 'O' client

/** Login Rejected reject reason codes. */
export const kSoupRejectNotAuthorized = 0x41;      // 'A'
export const kSoupRejectSessionNotAvailable = 0x53; // 'S'

// Field sizes from the spec; frame lengths include the type byte.
export const kSoupUsernameLen = 6;
export const kSoupPasswordLen = 10;
export const kSoupSessionLen = 10;
export const kSoupSequenceLen = 20;
export const kSoupLoginRequestLen = 1 + kSoupUsernameLen + kSoupPasswordLen + kSoupSessionLen + kSoupSequenceLen; // 47
export const kSoupLoginAcceptedLen = 1 + kSoupSessionLen + kSoupSequenceLen; // 31
export const kSoupLoginRejectedLen = 2;
/** Largest frame the 2-byte length can describe, plus the length itself. */
export const kSoupMaxFrame = 2 + 0xffff;

/** Writes the 3-byte header of a frame carrying `payloadLen` bytes after the type; returns payload offset. */
export function writeFrameHeader(buf: Buffer, offset: number, type: number, payloadLen: number): number {
  buf.writeUInt16BE(payloadLen + 1, offset);
  buf[offset + 2] = type;
  return offset + 3;
}

export function encodeLoginRequest(buf: Buffer, offset: number, username: string, password: string,
  session: string, sequence: number): number {
  let o = writeFrameHeader(buf, offset, kSoupLoginRequest, kSoupLoginRequestLen - 1);
  o = writeAlpha(buf, o, kSoupUsernameLen, username);
  o = writeAlpha(buf, o, kSoupPasswordLen, password);
  // The requested session is alpha but conventionally right-justified; blank means "current".
  o = writeAlphaRight(buf, o, kSoupSessionLen, session);
  return writeNumeric(buf, o, kSoupSequenceLen, sequence);
}

export function encodeLoginAccepted(buf: Buffer, offset: number, session: string, sequence: number): number {
  let o = writeFrameHeader(buf, offset, kSoupLoginAccepted, kSoupLoginAcceptedLen - 1);
  o = writeAlphaRight(buf, o, kSoupSessionLen, session);
  return writeNumeric(buf, o, kSoupSequenceLen, sequence);
}

export function encodeLoginRejected(buf: Buffer, offset: number, reason: number): number {
  const o = writeFrameHeader(buf, offset, kSoupLoginRejected, 1);
  buf[o] = reason;
  return o + 1;
}

/** Frames with no payload: heartbeats, End of Session, Logout Request. */
export function encodeEmpty(buf: Buffer, offset: number, type: number): number {
  return writeFrameHeader(buf, offset, type, 0);
}

/**
 * Called once per complete frame. `buf[offset]` is the type byte; the payload is
 * `buf[offset + 1 .. offset + length)`. The buffer is only valid during the call.
 */
export type SoupFrameHandler = (type: number, buf: Buffer, offset: number, length: number) => void;

/** Length of the frame for types whose size the spec fixes; -1 for variable-size types, 0 for unknown. */
function expectedLength(type: number): number {
  switch (type) {
    case kSoupLoginRequest: return kSoupLoginRequestLen;
    case kSoupLoginAccepted: return kSoupLoginAcceptedLen;
    case kSoupLoginRejected: return kSoupLoginRejectedLen;
    case kSoupClientHeartbeat:
    case kSoupServerHeartbeat:
    case kSoupEndOfSession:
    case kSoupLogoutRequest: return 1;
    case kSoupSequencedData:
    case kSoupUnsequencedData:
    case kSoupDebug: return -1;
    default: return 0;
  }
}

/**
 * Incremental SoupBinTCP parser. Complete frames inside a chunk are handed out in place (no copy);
 * only a frame split across chunks is copied into the one carry buffer allocated at construction.
 * Network input never throws: frames of unknown type or the wrong size for their type are counted
 * in `malformedFrames` and skipped (the length prefix still tells us where the next one starts).
 */
export class SoupFrameParser {
  private readonly carry = Buffer.allocUnsafe(kSoupMaxFrame);
  private carryLen = 0;
  framesIn = 0;
  malformedFrames = 0;
  bytesIn = 0;

  constructor(private readonly onFrame: SoupFrameHandler) {}

  /**
   * Feeds chunk[start, end) from the socket (the native transport's receive region is parsed in
   * place, without a view per read); returns how many complete frames it delivered.
   */
  push(chunk: Buffer, start = 0, end = chunk.length): number {
    this.bytesIn += end - start;
    let count = 0;
    let pos = start;
    if (this.carryLen > 0) {
      // Finish the split frame first: header, then body.
      if (this.carryLen < 2) {
        this.carry[this.carryLen++] = chunk[pos++];
        if (pos >= end) return 0;
      }
      const need = 2 + this.carry.readUInt16BE(0) - this.carryLen;
      const take = Math.min(need, end - pos);
      chunk.copy(this.carry, this.carryLen, pos, pos + take);
      this.carryLen += take;
      pos += take;
      if (take < need) return 0;
      const len = this.carry.readUInt16BE(0);
      this.carryLen = 0;
      if (this.deliver(this.carry, 2, len)) count++;
    }
    while (end - pos >= 2) {
      const len = chunk.readUInt16BE(pos);
      if (end - pos - 2 < len) break;
      if (this.deliver(chunk, pos + 2, len)) count++;
      pos += 2 + len;
    }
    if (pos < end) {
      chunk.copy(this.carry, 0, pos, end);
      this.carryLen = end - pos;
    }
    return count;
  }

  /** Forgets a partial frame (after a reconnect the old stream's tail means nothing). */
  reset(): void {
    this.carryLen = 0;
  }

  private deliver(buf: Buffer, offset: number, len: number): boolean {
    if (len === 0) { this.malformedFrames++; return false; }
    const want = expectedLength(buf[offset]);
    if (want === 0 || (want > 0 && want !== len)) { this.malformedFrames++; return false; }
    this.framesIn++;
    this.onFrame(buf[offset], buf, offset, len);
    return true;
  }
}
