import { expect } from 'chai';
import { SoupBinServer, SoupServerConnection } from '../../../lib/protocols/soupbin/soupbin-server';
import { SoupBinFeed } from '../../../lib/feed/wire/soupbin-feed';
import { RecoverySequencer } from '../../../lib/feed/recovery/recovery-sequencer';
import { packetize, SessionGenerator } from '../../../lib/tools/session-generator';
import { bookFingerprint, isExactly, RecordingBooks, waitFor } from './helpers';

const messages = new SessionGenerator({ symbols: 4, rate: 1200, durationSeconds: 1, seed: 21 }).messages();

describe('SoupBinFeed (ITCH over SoupBinTCP 3.0, loopback)', function () {
  this.timeout(20000);
  let server: SoupBinServer;
  let port = 0;
  let feed: SoupBinFeed | undefined;
  let live: SoupServerConnection | null = null;

  before(async () => {
    server = new SoupBinServer({ session: 'ITCHSESS', heartbeatIntervalMs: 50, clientTimeoutMs: 2000 }, {
      authenticate: (u) => u === 'feed',
      onLoggedIn: (c) => { live = c; },
      onUnsequenced: () => { /* feed clients send none */ },
    });
    port = await server.listen(0);
  });

  after(async () => {
    if (feed) await feed.stop();
    await server.close();
  });

  it('delivers a generated session across a dropped connection with nothing lost or duplicated, then ends at End of Session', async () => {
    const books = new RecordingBooks();
    feed = new SoupBinFeed(books, { host: '127.0.0.1', port, username: 'feed', password: 'pw', session: 'ITCHSESS', nextSeq: 1, heartbeatIntervalMs: 50, reconnectDelayMs: 20 });
    const stream = server.streamFor('feed');
    for (let i = 0; i < 300; i++) stream.publish(Buffer.from(messages[i])); // before login: replayed at login
    await feed.start();
    for (let i = 300; i < 700; i++) stream.publish(Buffer.from(messages[i]));
    await waitFor(() => books.sequences.length >= 500, 5000, '500 messages');
    live!.close(); // the server drops the connection mid-stream
    // Published while the client is away: stored only, sent on the replay after re-login.
    for (let i = 700; i < 900; i++) stream.publish(Buffer.from(messages[i]));
    await waitFor(() => feed!.counters.connects === 2, 5000, 'the reconnect');
    for (let i = 900; i < messages.length; i++) stream.publish(Buffer.from(messages[i]));
    await waitFor(() => books.sequences.length === messages.length, 5000, 'every message');
    live!.sendEndOfSession();
    await feed.untilEndOfSession();
    expect(isExactly(books.sequences, 1, messages.length)).to.equal(true);
    expect(feed.counters.sequenceBreaks).to.equal(0);
    expect(feed.counters.disconnects).to.equal(2);
    expect(feed.ended).to.equal(true);
    expect(books.batches).to.be.greaterThan(0);
    const gapless = new RecordingBooks();
    const s = new RecoverySequencer(gapless, { firstSequence: 1 });
    for (const p of packetize(messages, 'ITCHSESS', 1, 8)) s.onPacket(p.payload, 0, p.payload.length);
    expect(bookFingerprint(books.builder)).to.equal(bookFingerprint(gapless.builder));
  });
});
