import { expect } from 'chai';
import * as dgram from 'dgram';
import { PcapWriter } from '../../../lib/feed/pcap/pcap-writer';
import { UdpFrameWriter } from '../../../lib/feed/wire/udp-frame-writer';
import { MessageJournal } from '../../../lib/feed/recovery/message-journal';
import { RerequestServer, RerequestServerOptions } from '../../../lib/feed/recovery/rerequest-server';
import { RetransmitRequester } from '../../../lib/feed/recovery/retransmit-requester';
import { RecoverySequencer } from '../../../lib/feed/recovery/recovery-sequencer';
import { heartbeatPacket, MoldPacket, packetize, SessionGenerator } from '../../../lib/tools/session-generator';
import { bookFingerprint, isExactly, RecordingBooks, waitFor } from './helpers';

const kSession = 'RREQ01';
const messages = new SessionGenerator({ symbols: 5, rate: 1500, durationSeconds: 1, seed: 11 }).messages();
const packets = packetize(messages, kSession, 1, 6);
const total = messages.length;

function gaplessFingerprint(): string {
  const books = new RecordingBooks();
  const s = new RecoverySequencer(books, { firstSequence: 1 });
  for (const p of packets) s.onPacket(p.payload, 0, p.payload.length);
  return bookFingerprint(books.builder);
}

function capture(ps: MoldPacket[]): Uint8Array {
  const frames = new UdpFrameWriter({ sourceAddress: '10.0.0.1', destinationAddress: '233.54.12.111', sourcePort: 5000, destinationPort: 26400 });
  const w = new PcapWriter();
  const buf = new Uint8Array(2048);
  for (const p of ps) {
    buf.set(p.payload, frames.headerLength);
    const n = frames.write(buf, 0, p.payload.length);
    w.addFrame(buf.subarray(0, n), 1_700_000_000, 0);
  }
  return w.toBuffer();
}

interface Rig {
  books: RecordingBooks; seq: RecoverySequencer; requester: RetransmitRequester; server: RerequestServer;
  feed: dgram.Socket; sender: dgram.Socket; timer: NodeJS.Timeout; losses: [number, number][]; stale: number[];
}

const rigs: Rig[] = [];

async function rig(journal: MessageJournal, serverOptions: RerequestServerOptions, requesterOptions: { timeoutMs: number; maxRetries: number }): Promise<Rig> {
  const server = new RerequestServer(journal, serverOptions);
  const port = await server.listen(0);
  const books = new RecordingBooks();
  const losses: [number, number][] = [];
  const stale: number[] = [];
  let requester: RetransmitRequester | undefined;
  const seq = new RecoverySequencer(books, {
    firstSequence: 1,
    listener: { onGap: (a, b) => requester?.onGap(a, b), onLoss: (a, b) => { losses.push([a, b]); }, onBookStale: (l) => { stale.push(l); } },
  });
  requester = new RetransmitRequester(seq, { host: '127.0.0.1', port, maxOutstanding: 3, maxMessagesPerRequest: 7, ...requesterOptions });
  await requester.start();
  const feed = dgram.createSocket('udp4');
  feed.on('message', (m) => { seq.onPacket(m, 0, m.length); seq.endOfBatch(); });
  await new Promise<void>((r) => feed.bind(0, '127.0.0.1', () => r()));
  const sender = dgram.createSocket('udp4');
  const r = requester;
  const timer = setInterval(() => { r.poll(Date.now()); }, 5);
  const out: Rig = { books, seq, requester: r, server, feed, sender, timer, losses, stale };
  rigs.push(out);
  return out;
}

/** Sends every packet not in `holes` to the feed socket, paced so loopback buffers never overflow; then a heartbeat. */
async function sendWithHoles(r: Rig, holes: Set<number>): Promise<void> {
  const port = r.feed.address().port;
  for (let i = 0; i < packets.length; i++) {
    if (!holes.has(i)) r.sender.send(packets[i].payload, port, '127.0.0.1');
    if (i % 16 === 15) await new Promise((res) => setTimeout(res, 1));
  }
  r.sender.send(heartbeatPacket(kSession, total + 1), port, '127.0.0.1');
}

describe('MoldUDP64 retransmission over loopback UDP (RetransmitRequester + RerequestServer)', function () {
  this.timeout(20000);

  after(async () => {
    for (const r of rigs) {
      clearInterval(r.timer);
      await r.requester.close();
      await r.server.close();
      await new Promise<void>((res) => r.feed.close(() => res()));
      await new Promise<void>((res) => r.sender.close(() => res()));
    }
  });

  it('indexes a capture by session and sequence like the in-memory journal', () => {
    const fromPcap = MessageJournal.fromPcap(capture(packets));
    const j = fromPcap.find(kSession)!;
    expect([fromPcap.sessionNames, j.first, j.count]).to.deep.equal([[kSession], 1, total]);
    for (const s of [1, 2, 700, total]) {
      expect(Buffer.from(j.bytes.subarray(j.offsetOf(s), j.offsetOf(s) + j.lengthOf(s))).equals(Buffer.from(messages[s - 1]))).to.equal(true);
    }
  });

  it('fetches every hole (including the tail) from the re-request server: each message once, in order, books equal a gapless run', async () => {
    const journal = MessageJournal.fromPcap(capture(packets));
    // Small response packets force partial answers; 7 messages per request forces split requests.
    const r = await rig(journal, { maxPacketSize: 200, maxPacketsPerRequest: 1 }, { timeoutMs: 100, maxRetries: 20 });
    const holes = new Set<number>();
    for (let i = 3; i < packets.length; i += 17) holes.add(i);
    for (let i = 100; i < 110; i++) holes.add(i);
    holes.add(packets.length - 1); holes.add(packets.length - 2); // tail: only the heartbeat reveals it
    await sendWithHoles(r, holes);
    await waitFor(() => r.seq.expected === total + 1, 15000, 'every message delivered');
    expect(isExactly(r.books.sequences, 1, total)).to.equal(true);
    expect(r.losses).to.deep.equal([]);
    expect(r.seq.counters.gaps).to.be.greaterThan(0);
    expect(r.server.counters.messagesSent).to.be.at.least(holes.size * 6 - 6);
    expect(r.requester.outstanding).to.equal(0);
    expect(bookFingerprint(r.books.builder)).to.equal(gaplessFingerprint());
  });

  it('retries unanswered requests, and declares a range lost after maxRetries: the range and stale books are reported, the rest delivered once', async () => {
    const journal = new MessageJournal();
    // The server's journal lacks messages 301..306 (packet 50) and ignores its first 2 requests.
    packets.forEach((p, i) => { if (i !== 50) journal.appendPacket(p.payload, 0, p.payload.length); });
    const r = await rig(journal, { ignoreFirstRequests: 2 }, { timeoutMs: 40, maxRetries: 3 });
    const holes = new Set([10, 50, 51]);
    await sendWithHoles(r, holes);
    await waitFor(() => r.seq.expected === total + 1, 15000, 'the feed to finish');
    expect(r.requester.counters.retries).to.be.at.least(2);
    expect(r.requester.counters.givenUp).to.equal(1);
    const lost = packets[50];
    expect(r.losses).to.deep.equal([[lost.sequenceNumber, lost.sequenceNumber + lost.messageCount - 1]]);
    const expected: number[] = [];
    for (let s = 1; s <= total; s++) if (s < lost.sequenceNumber || s >= lost.sequenceNumber + lost.messageCount) expected.push(s);
    expect(r.books.sequences).to.deep.equal(expected);
    expect(r.stale.length).to.be.greaterThan(0);
    expect(r.seq.lossesSinceSnapshot).to.equal(1);
  });
});
