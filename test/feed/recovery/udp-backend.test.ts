import { expect } from 'chai';
import * as crypto from 'crypto';
import * as dgram from 'dgram';
import { Port } from '../../../lib/binding/port';
import { MessageJournal } from '../../../lib/feed/recovery/message-journal';
import { RerequestServer } from '../../../lib/feed/recovery/rerequest-server';
import { RetransmitRequester } from '../../../lib/feed/recovery/retransmit-requester';
import { RecoverySequencer } from '../../../lib/feed/recovery/recovery-sequencer';
import { heartbeatPacket, packetize, SessionGenerator } from '../../../lib/tools/session-generator';
import { unavailable } from '../../helpers/require-backend';
import { bookFingerprint, isExactly, RecordingBooks, waitFor } from './helpers';

describe('recovery over the udp backend (Port inline poller, loopback)', function () {
  this.timeout(20000);
  let port: Port | undefined;
  let server: RerequestServer | undefined;
  let requester: RetransmitRequester | undefined;
  let sender: dgram.Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  after(async () => {
    if (timer) clearInterval(timer);
    port?.close();
    await requester?.close();
    await server?.close();
    sender?.close();
  });

  it('a session with holes read in place from the udp backend is completed by retransmission: once, in order, same books', async function () {
    const messages = new SessionGenerator({ symbols: 4, rate: 1000, durationSeconds: 1, seed: 5 }).messages();
    const packets = packetize(messages, 'UDPBK', 1, 5);
    const udpPort = 20000 + crypto.randomInt(40000);
    try {
      port = Port.open({ backend: 'udp', poller: 'inline', udp: { port: udpPort, bind: '127.0.0.1' } });
    } catch (e) {
      unavailable(this, 'udp', (e as Error).message);
    }
    const journal = new MessageJournal();
    for (const p of packets) journal.appendPacket(p.payload, 0, p.payload.length);
    server = new RerequestServer(journal);
    const serverPort = await server.listen(0);
    const books = new RecordingBooks();
    let req: RetransmitRequester | undefined;
    const seq = new RecoverySequencer(books, { firstSequence: 1, listener: { onGap: (a, b) => req?.onGap(a, b) } });
    req = requester = new RetransmitRequester(seq, { host: '127.0.0.1', port: serverPort, timeoutMs: 50, maxRetries: 20 });
    await requester.start();
    const rx = port!.consumer();
    const onPacket = (buf: Uint8Array, offset: number, length: number, _ts: number, endOfBatch: boolean): void => {
      seq.onPacket(buf, offset, length);
      if (endOfBatch) seq.endOfBatch();
    };
    timer = setInterval(() => { rx.read(onPacket); req!.poll(Date.now()); }, 1);
    sender = dgram.createSocket('udp4');
    for (let i = 0; i < packets.length; i++) {
      if (i % 13 !== 4) sender.send(packets[i].payload, udpPort, '127.0.0.1');
      if (i % 16 === 15) await new Promise((r) => setTimeout(r, 2));
    }
    sender.send(heartbeatPacket('UDPBK', messages.length + 1), udpPort, '127.0.0.1');
    await waitFor(() => seq.expected === messages.length + 1, 15000, 'every message');
    expect(isExactly(books.sequences, 1, messages.length)).to.equal(true);
    expect(seq.counters.gaps).to.be.greaterThan(0);
    const gapless = new RecordingBooks();
    const g = new RecoverySequencer(gapless, { firstSequence: 1 });
    for (const p of packets) g.onPacket(p.payload, 0, p.payload.length);
    expect(bookFingerprint(books.builder)).to.equal(bookFingerprint(gapless.builder));
  });
});
