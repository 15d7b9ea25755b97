/**
 * Helpers for the vendored real captures in test/fixtures/itch (see ATTRIBUTION.md there).
 * Tests read only these copies.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PcapReader } from '../../lib/feed/pcap-reader';
import { UdpFrameParser, kUdpFrameOk } from '../../lib/feed/udp-frame-parser';
import { MoldUdp64Packet } from '../../lib/feed/moldudp64-packet';
import { ItchDecoder } from '../../lib/feed/itch-decoder';
import { itchMessageToObject, ItchFieldValue } from '../../lib/feed/itch-json';

// dist/test/feed -> repo root
export const kFixtureRoot = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'itch');
export const kFixtureFolders = [
  'Nasdaq.Equities.TotalView.Itch.v5.0',
  'Nasdaq.Equities.TotalView.Itch.v5.0.20230822',
  'Bx.Equities.TotalView.Itch.v5.0.20230822',
];

export function fixturePcaps(): string[] {
  const out: string[] = [];
  for (const folder of kFixtureFolders) {
    const dir = path.join(kFixtureRoot, folder);
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.pcap')) out.push(path.join(dir, f));
  }
  return out;
}

export type OracleRecord = Record<string, string | number | null>;

export function readOracle(pcapPath: string): OracleRecord[] {
  const text = fs.readFileSync(pcapPath.replace(/\.pcap$/, '.oracle.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as OracleRecord);
}

export interface DecodedRecord {
  frame: number;
  session: string | null;
  seq: number;
  messageIndex: number;
  messageLength: number;
  fields: Record<string, ItchFieldValue>;
}

/** Decode every ITCH message of a capture with the production classes. */
export function decodeCapture(pcapPath: string, decoder = new ItchDecoder()): DecodedRecord[] {
  const reader = new PcapReader(fs.readFileSync(pcapPath), path.basename(pcapPath));
  const frames = new UdpFrameParser();
  const packet = new MoldUdp64Packet();
  const out: DecodedRecord[] = [];
  while (reader.next()) {
    if (frames.parse(reader.data, reader.frameOffset, reader.capturedLength) !== kUdpFrameOk) continue;
    if (packet.wrap(reader.data, frames.payloadOffset, frames.payloadLength) <= 0) continue;
    let index = 0;
    while (packet.nextMessage()) {
      index++;
      const type = decoder.decode(reader.data, packet.messageOffset, packet.messageLength);
      if (type <= 0) continue;
      out.push({
        frame: reader.frameNumber, session: packet.session, seq: packet.messageSequence, messageIndex: index,
        messageLength: packet.messageLength, fields: itchMessageToObject(decoder.messageFor(type)!),
      });
    }
  }
  return out;
}

/** "80.52" -> 805200 for Price(4); exact decimal parsing, no floating point. */
export function parsePrice(text: string, decimals: number): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`bad oracle price '${text}'`);
  const frac = (m[2] ?? '').padEnd(decimals, '0');
  if (frac.length > decimals) throw new Error(`oracle price '${text}' has more than ${decimals} decimals`);
  return Number(m[1]) * 10 ** decimals + Number(frac);
}
