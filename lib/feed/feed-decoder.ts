/**
 * Frame -> UDP -> MoldUDP64 -> ITCH pipeline for one feed, delivering each decoded message to a
 * handler with its MoldUDP64 sequence number.
 *
 * The handler reads fields from the decoder's flyweights during the callback and must not keep them:
 * the next message re-wraps them. `decodeFrame`/`decodePayload` return how many ITCH messages were
 * delivered (a packet in, a count out); the caller calls `endOfBatch()` once per RX burst, which is
 * where downstream books publish quotes and conflators flush. Bad frames, packets and messages are
 * counted in the three stages' counters, never thrown. Single writer: the RX worker owning it.
 */
import { ItchDecoder } from './itch/itch-decoder';
import { MoldUdp64Packet } from './wire/moldudp64-packet';
import { Sequencer } from './recovery/sequencer';
import { kUdpFrameOk, UdpFrameFilterOptions, UdpFrameParser } from './wire/udp-frame-parser';

export interface ItchMessageHandler {
  /** `type` is the type byte; read the matching flyweight on `decoder` (e.g. decoder.addOrder). */
  onMessage(decoder: ItchDecoder, type: number, sequence: number): void;
  endOfBatch(): void;
}

export class FeedDecoder {
  readonly frames: UdpFrameParser;
  readonly packet = new MoldUdp64Packet();
  readonly decoder = new ItchDecoder();
  /** Optional: drops duplicate messages and reports gaps before anything is decoded. */
  readonly sequencer: Sequencer | undefined;
  private readonly handler: ItchMessageHandler;

  constructor(handler: ItchMessageHandler, filter: UdpFrameFilterOptions = {}, sequencer?: Sequencer) {
    this.handler = handler;
    this.frames = new UdpFrameParser(filter);
    this.sequencer = sequencer;
  }

  /** One Ethernet frame at (offset, length). */
  decodeFrame(b: Uint8Array, offset: number, length: number): number {
    const frames = this.frames;
    if (frames.parse(b, offset, length) !== kUdpFrameOk) return 0;
    return this.decodePayload(b, frames.payloadOffset, frames.payloadLength);
  }

  /** One MoldUDP64 packet (a UDP payload) at (offset, length). */
  decodePayload(b: Uint8Array, offset: number, length: number): number {
    const packet = this.packet;
    const count = packet.wrap(b, offset, length);
    if (count < 0) return 0;
    if (this.sequencer !== undefined) {
      let skip = this.sequencer.accept(b, offset, packet.sequenceNumber, count, count === 0 && packet.isEndOfSession);
      while (skip-- > 0 && packet.nextMessage()) { /* duplicate: not decoded */ }
    }
    if (count === 0) return 0;
    const decoder = this.decoder;
    const handler = this.handler;
    let delivered = 0;
    while (packet.nextMessage()) {
      const type = decoder.decode(b, packet.messageOffset, packet.messageLength);
      if (type > 0) {
        handler.onMessage(decoder, type, packet.messageSequence);
        delivered++;
      }
    }
    return delivered;
  }

  endOfBatch(): void {
    this.handler.endOfBatch();
  }
}
