/**
 * A MOEX FIX/FAST session as a pcap file (`tickpath gen --fast-templates`, tests, replay): the
 * generator's incremental datagrams (X-OLR) on the incremental channel's group and port, then
 * optionally one snapshot cycle (W-OLS) on the snapshot channel, each datagram one Ethernet/IPv4/UDP
 * frame with capture times spaced by `rate`. Not a hot path: it allocates.
 */
import { PcapFileWriter } from '../../pcap/pcap-file-writer';
import { UdpFrameWriter } from '../../wire/udp-frame-writer';
import { FastTemplateRegistry } from '../fast-templates';
import { MoexSessionGenerator, MoexSessionOptions } from './moex-session-generator';

export interface MoexSessionPcapOptions extends MoexSessionOptions {
  /** Incremental datagrams (default 10000). */
  messages?: number;
  /** Datagrams per second of capture time (default 10000). */
  rate?: number;
  /** Append a snapshot cycle of every instrument's book on the snapshot channel (default false). */
  snapshots?: boolean;
  incrementalGroup?: string;
  incrementalPort?: number;
  snapshotGroup?: string;
  snapshotPort?: number;
  sourceAddress?: string;
  startEpochSeconds?: number;
}

export interface MoexSessionPcapSummary {
  file: string;
  incrementals: number;
  snapshots: number;
  entries: number;
  instruments: number;
  bytes: number;
  template: string;
}

export function writeMoexSessionPcap(registry: FastTemplateRegistry, file: string, options: MoexSessionPcapOptions = {}): MoexSessionPcapSummary {
  const gen = new MoexSessionGenerator(registry, options);
  const template = `X-OLR-${gen.market}`;
  registry.templateNamed(template); // a template file without it is refused before anything is written
  const source = options.sourceAddress ?? '10.50.129.200';
  const inc = new UdpFrameWriter({ sourceAddress: source, destinationAddress: options.incrementalGroup ?? '239.195.1.1', sourcePort: 16001, destinationPort: options.incrementalPort ?? 16001 });
  const snap = new UdpFrameWriter({ sourceAddress: source, destinationAddress: options.snapshotGroup ?? '239.195.1.2', sourcePort: 16002, destinationPort: options.snapshotPort ?? 16002 });
  const messages = options.messages ?? 10000;
  const nanosPer = Math.round(1e9 / (options.rate ?? 10000));
  const start = options.startEpochSeconds ?? 1488362400; // 2017-03-01 10:00:00 UTC
  const writer = new PcapFileWriter(file);
  const frame = new Uint8Array(65600);
  let k = 0;
  const add = (w: UdpFrameWriter, d: Uint8Array): void => {
    frame.set(d, w.headerLength);
    const len = w.write(frame, 0, d.length);
    const ns = k++ * nanosPer;
    writer.addFrame(frame, 0, len, start + Math.floor(ns / 1e9), ns % 1e9);
  };
  let snapshots = 0;
  try {
    for (let i = 0; i < messages; i++) add(inc, gen.nextIncremental().datagram);
    if (options.snapshots) for (const d of gen.snapshots()) { add(snap, d); snapshots++; }
    writer.close();
  } finally {
    writer.close();
  }
  return { file, incrementals: messages, snapshots, entries: gen.entries, instruments: gen.symbols.length, bytes: writer.bytes, template };
}
