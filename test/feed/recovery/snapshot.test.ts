import { expect } from 'chai';
import { GlimpseSnapshotClient, GlimpseSnapshotServer } from '../../../lib/feed/snapshot/glimpse';
import { RecoverySequencer } from '../../../lib/feed/recovery/recovery-sequencer';
import { packetize, SessionGenerator } from '../../../lib/tools/session-generator';
import { bookFingerprint, isExactly, RecordingBooks } from './helpers';

const messages = new SessionGenerator({ symbols: 6, rate: 1500, durationSeconds: 1, seed: 99 }).messages();
const packets = packetize(messages, 'GLIMPSE1', 1, 5);

function fullRun(): string {
  const books = new RecordingBooks();
  const s = new RecoverySequencer(books, { firstSequence: 1 });
  for (const p of packets) s.onPacket(p.payload, 0, p.payload.length);
  return bookFingerprint(books.builder);
}

describe('Late join with a GLIMPSE-style snapshot over SoupBinTCP (loopback)', function () {
  this.timeout(20000);
  const servers: GlimpseSnapshotServer[] = [];
  after(async () => { for (const s of servers) await s.close(); });

  /** A publisher-side book kept current up to packet `upTo` (exclusive), served as snapshots. */
  async function snapshotServer(upTo: number): Promise<{ port: number; server: GlimpseSnapshotServer }> {
    const books = new RecordingBooks();
    const s = new RecoverySequencer(books, { firstSequence: 1 });
    for (let i = 0; i < upTo; i++) s.onPacket(packets[i].payload, 0, packets[i].payload.length);
    const server = new GlimpseSnapshotServer(books.builder, () => s.expected, { session: 'GLIMPSE1' });
    servers.push(server);
    return { port: await server.listen(0), server };
  }

  it('joins mid-session: live messages overlapping the snapshot are dropped, later ones applied; books equal a from-the-start run', async () => {
    const { port } = await snapshotServer(140); // snapshot at sequence 701
    const books = new RecordingBooks();
    const live = new RecoverySequencer(books, { suspended: true });
    const client = new GlimpseSnapshotClient(books, live, { host: '127.0.0.1', port, username: 'join', password: '' });
    // The live feed is already running when we join: packets 120.. (sequence 601..) arrive first.
    for (let i = 120; i < 130; i++) live.onPacket(packets[i].payload, 0, packets[i].payload.length);
    expect(books.sequences).to.deep.equal([]);
    expect(client.booksReliable).to.equal(false);
    const loading = client.load();
    for (let i = 130; i < 160; i++) live.onPacket(packets[i].payload, 0, packets[i].payload.length); // while loading
    const resumed = await loading;
    expect(resumed).to.equal(701);
    expect(client.snapshotMessages).to.be.greaterThan(6);
    expect(client.booksReliable).to.equal(true);
    for (let i = 160; i < packets.length; i++) live.onPacket(packets[i].payload, 0, packets[i].payload.length);
    const liveSeqs = books.sequences.filter((s) => s !== 0);
    expect(isExactly(liveSeqs, 701, messages.length)).to.equal(true);
    expect(live.counters.coveredBySnapshot).to.equal(100);
    expect(bookFingerprint(books.builder)).to.equal(fullRun());
  });

  it('a hole between the snapshot point and the first live message is reported as a gap and filled through the sequencer', async () => {
    const { port } = await snapshotServer(100); // resume at 501
    const books = new RecordingBooks();
    const gaps: [number, number][] = [];
    const live = new RecoverySequencer(books, { suspended: true, listener: { onGap: (a, b) => { gaps.push([a, b]); } } });
    const client = new GlimpseSnapshotClient(books, live, { host: '127.0.0.1', port, username: 'join2', password: '' });
    for (let i = 110; i < 120; i++) live.onPacket(packets[i].payload, 0, packets[i].payload.length); // 551..600
    expect(await client.load()).to.equal(501);
    expect(gaps).to.deep.equal([[501, 550]]);
    for (let i = 100; i < 110; i++) live.onPacket(packets[i].payload, 0, packets[i].payload.length); // the retransmission
    for (let i = 120; i < packets.length; i++) live.onPacket(packets[i].payload, 0, packets[i].payload.length);
    expect(isExactly(books.sequences.filter((s) => s !== 0), 501, messages.length)).to.equal(true);
    expect(bookFingerprint(books.builder)).to.equal(fullRun());
  });
});
