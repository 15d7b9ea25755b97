/**
 * Helpers for the vendored real captures in test/fixtures/itch (see ATTRIBUTION.md there).
 * Tests read only these copies.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { UdpFrameParser, kUdpFrameOk } from '../../lib/feed/wire/udp-frame-parser';
import { MoldUdp64Packet } from '../../lib/feed/wire/moldudp64-packet';
import { ItchDecoder } from '../../lib/feed/itch/itch-decoder';
import { itchMessageToObject, ItchFieldValue } from '../../lib/feed/itch/itch-json';
import { kItchSpecByCode } from '../../lib/feed/itch/itch-schema';

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

// Oracle key (spec name lower-cased, no spaces, as the dissector spells it) -> our camelCase field.
// Explicit so a dissector spelling ("canceledshares", "crossshares") cannot silently skip a field.
export const kOracleKeyToField: Record<string, string> = {
  stocklocate: 'stockLocate', locatecode: 'locateCode', trackingnumber: 'trackingNumber', timestamp: 'timestamp',
  eventcode: 'eventCode', stock: 'stock', tradingstate: 'tradingState', reserved: 'reserved', reason: 'reason',
  regshoaction: 'regShoAction', mpid: 'mpid', primarymarketmaker: 'primaryMarketMaker', marketmakermode: 'marketMakerMode',
  marketparticipantstate: 'marketParticipantState', auctioncollarreferenceprice: 'auctionCollarReferencePrice',
  upperauctioncollarprice: 'upperAuctionCollarPrice', lowerauctioncollarprice: 'lowerAuctionCollarPrice',
  auctioncollarextension: 'auctionCollarExtension', orderreferencenumber: 'orderReferenceNumber',
  buysellindicator: 'buySellIndicator', shares: 'shares', price: 'price', attribution: 'attribution',
  executedshares: 'executedShares', matchnumber: 'matchNumber', printable: 'printable', executionprice: 'executionPrice',
  canceledshares: 'cancelledShares', originalorderreferencenumber: 'originalOrderReferenceNumber',
  neworderreferencenumber: 'newOrderReferenceNumber', crossshares: 'shares', crossprice: 'crossPrice', crosstype: 'crossType',
  pairedshares: 'pairedShares', imbalanceshares: 'imbalanceShares', imbalancedirection: 'imbalanceDirection',
  farprice: 'farPrice', nearprice: 'nearPrice', currentreferenceprice: 'currentReferencePrice',
  pricevariationindicator: 'priceVariationIndicator', interestflag: 'interestFlag',
};
export const kEnvelopeKeys = new Set(['frame', 'session', 'seq', 'messageindex', 'messagelength', 'messagetype']);

/** The oracle record as our JSON shape: envelope plus camelCase fields with integer prices. */
export function oracleToDecodeJson(want: OracleRecord): Record<string, unknown> {
  const spec = kItchSpecByCode[String(want.messagetype).charCodeAt(0)];
  if (!spec) throw new Error(`oracle type ${want.messagetype} unknown`);
  const out: Record<string, unknown> = { frame: want.frame, session: want.session, seq: want.seq, type: want.messagetype };
  for (const f of spec.fields) {
    const key = Object.keys(kOracleKeyToField).find((k) => kOracleKeyToField[k] === f.name && k in want);
    if (key === undefined) { out[f.name] = ''; continue; } // empty alphanumerics are omitted by the dissector
    const text = String(want[key]);
    out[f.name] = f.kind === 'price4' ? parsePrice(text, 4) : f.kind === 'price8' ? parsePrice(text, 8)
      : f.kind === 'char' || f.kind === 'alpha' ? text : Number(text);
  }
  return out;
}
