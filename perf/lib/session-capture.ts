/**
 * Generated ITCH sessions for the benchmarks: SessionGenerator (seeded, MoldUDP64 over
 * Ethernet/IPv4/UDP) written once per (rate, seconds, symbols, seed) into a scratch directory,
 * with what a benchmark needs to account for loss: per-frame MoldUDP64 message counts.
 */
import * as path from 'path';
import { SessionGenerator, SessionSummary } from '../../lib/tools/session-generator';

export interface SessionCaptureOptions {
  rate: number; seconds: number; symbols?: number; seed?: number;
  /** At most this many ITCH messages per MoldUDP64 packet (the generator's default when absent). */
  maxMessagesPerPacket?: number;
}

export interface SessionCapture {
  file: string;
  summary: SessionSummary;
  /** Frames in the file (the last one is the MoldUDP64 end-of-session packet). */
  packets: number;
  messages: number;
  messagesPerPacket: number;
}

export function generateSession(dir: string, o: SessionCaptureOptions): SessionCapture {
  const symbols = o.symbols ?? 100, seed = o.seed ?? 7;
  const perPacket = o.maxMessagesPerPacket;
  const file = path.join(dir, `itch-${o.rate}-${o.seconds}-${symbols}-${seed}${perPacket ? `-m${perPacket}` : ''}.pcap`);
  const gen = new SessionGenerator({ symbols, rate: o.rate, durationSeconds: o.seconds, seed, ...(perPacket ? { maxMessagesPerPacket: perPacket } : {}) });
  const summary = gen.writePcap(file);
  return { file, summary, packets: summary.packets, messages: summary.messages, messagesPerPacket: summary.messages / summary.packets };
}

/** MoldUDP64 message count of each frame of a loaded capture (0 for non-UDP and end-of-session). */
// The paced sender (lib/tools) reads captures the same way.
export { loadCapture, messagesPerFrame } from '../../lib/tools/paced-sender-worker';
