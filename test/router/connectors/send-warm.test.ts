/**
 * The keep-warm's zero-byte send on a real venue session (issue 11: the real order's encode ->
 * send(2) step). OuchConnector.warmSendPath runs the session's send path after the encode, through
 * NativeTcpTransport.send into the addon's send entry, with zero bytes, which the addon returns
 * from before send(2). These tests put it on real sockets: a net server counting every byte the
 * client writes, and a bare SoupBinTCP server recording every frame. They fail if a warm send ever
 * puts a byte on the wire, counts a send, moves the send seq the TX stamps are keyed by, moves the
 * session's counters or its lastSent (heartbeats go by it), breaks the next real message, or runs
 * on a transport where a zero-byte send is not free (libuv).
 */
import { expect } from 'chai';
import * as net from 'net';
import { OuchConnector } from '../../../lib/router/connectors/ouch-connector';
import { transportFactory } from '../../../lib/protocols/transport/create-transport';
import { NativeTcpTransport } from '../../../lib/protocols/transport/native-tcp-transport';
import {
  SoupFrameParser, encodeLoginAccepted, kSoupLoginRequest, kSoupClientHeartbeat, kSoupUnsequencedData,
} from '../../../lib/protocols/soupbin/soupbintcp';
import { RecordingListener } from './recording-listener';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('keep-warm zero-byte send on a real venue session (nothing on the wire)', function () {
  this.timeout(30000);

  it('the native transport: a zero-byte send returns true and moves nothing; the next send arrives whole', async () => {
    let bytes = 0;
    const held: { peer?: net.Socket } = {};
    const server = net.createServer((s) => { held.peer = s; s.on('data', (d: Buffer) => { bytes += d.length; }); s.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const t = new NativeTcpTransport({ idlePollMs: 0, txTimestamps: true });
    try {
      let up = false;
      t.connect('127.0.0.1', (server.address() as net.AddressInfo).port, { onConnect() { up = true; }, onData() {}, onClose() {} });
      const t0 = Date.now();
      while ((!up || !held.peer) && Date.now() - t0 < 5000) { t.poll(); await turn(); }
      expect(up).to.equal(true);
      expect(t.zeroSendFree, 'this addon stops a zero-byte send before send(2)').to.equal(true);
      const buf = Buffer.alloc(64, 0x4f);
      expect(t.send(buf, 0, 49)).to.equal(true);
      const seq = t.lastSendSeq;
      const before = t.stats();
      for (let i = 0; i < 10000; i++) expect(t.send(buf, i % 8, 0)).to.equal(true);
      const after = t.stats();
      expect(after.sends, 'no send counted').to.equal(before.sends);
      expect(after.bytesOut).to.equal(before.bytesOut);
      expect(t.lastSendSeq, 'the TX stamps\' send seq does not move').to.equal(seq);
      expect(t.send(buf, 0, 49)).to.equal(true);
      expect(t.lastSendSeq).to.equal((seq + 1) >>> 0);
      const t1 = Date.now();
      while (bytes < 98 && Date.now() - t1 < 5000) { t.poll(); await turn(); }
      // Give anything else a chance to arrive: only the two real sends may.
      for (let i = 0; i < 50; i++) { t.poll(); await turn(); }
      expect(bytes, 'the peer got exactly the two real sends').to.equal(98);
      expect(t.stats().sends).to.equal(before.sends + 1);
    } finally {
      t.destroy();
      held.peer?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  async function bareSoupServer(): Promise<{ server: net.Server; port: number; frames: { type: number; payload: Buffer }[]; bytes: () => number; sockets: net.Socket[] }> {
    const frames: { type: number; payload: Buffer }[] = [];
    const sockets: net.Socket[] = [];
    let bytes = 0;
    const server = net.createServer((s) => {
      sockets.push(s);
      const parser = new SoupFrameParser((type, buf, off, len) => {
        if (type === kSoupLoginRequest) {
          const b = Buffer.alloc(64);
          s.write(b.subarray(0, encodeLoginAccepted(b, 0, 'WARM', 1)));
        }
        frames.push({ type, payload: Buffer.from(buf.subarray(off + 1, off + len)) });   // after the type byte
      });
      s.on('data', (d: Buffer) => { bytes += d.length; parser.push(d); });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, port: (server.address() as net.AddressInfo).port, frames, bytes: () => bytes, sockets };
  }

  for (const kind of ['native', 'libuv'] as const) {
    it(`OUCH over ${kind}: warmSendPath ${kind === 'native' ? 'runs and sends nothing' : 'does not run'}; the next Enter Order is framed whole`, async () => {
      const srv = await bareSoupServer();
      // Heartbeats far apart: any frame but the login and the order would be a warm send's.
      const c = new OuchConnector({ name: 'WARM', host: '127.0.0.1', port: srv.port, username: 'U', password: 'P',
        heartbeatIntervalMs: 60000, serverTimeoutMs: 60000, transport: transportFactory(kind) });
      c.setListener(new RecordingListener());
      try {
        await c.connect();
        const t0 = Date.now();
        while (srv.frames.length < 1 && Date.now() - t0 < 5000) { c.poll(Date.now()); await turn(); }
        await new Promise((r) => setTimeout(r, 5));   // so a warm send that set lastSent would show
        const client = (c as unknown as { client: { counters: { messagesOut: number }; lastSent: number } }).client;
        const out0 = client.counters.messagesOut, last0 = client.lastSent, bytes0 = srv.bytes();
        let ran = 0;
        for (let i = 0; i < 5000; i++) ran += c.warmSendPath();
        expect(ran, 'runs on every call over native, never over libuv').to.equal(kind === 'native' ? 5000 : 0);
        expect(client.counters.messagesOut, 'no message counted').to.equal(out0);
        expect(client.lastSent, 'lastSent (the heartbeat clock) untouched').to.equal(last0);
        expect(c.sendNew({ clOrdId: 'WARM1', symbol: 'AAPL', side: 'B', qty: 100, price: 1500000, ordType: 'LIMIT', tif: 'DAY' })).to.equal(true);
        const t1 = Date.now();
        while (srv.frames.length < 2 && Date.now() - t1 < 5000) { c.poll(Date.now()); await turn(); }
        for (let i = 0; i < 50; i++) { c.poll(Date.now()); await turn(); }
        const types = srv.frames.map((f) => String.fromCharCode(f.type)).filter((t) => t !== String.fromCharCode(kSoupClientHeartbeat));
        expect(types, 'login, then the one order: nothing from the warm sends').to.deep.equal(['L', 'U']);
        const order = srv.frames.find((f) => f.type === kSoupUnsequencedData)!;
        expect(order.payload.length, 'an Enter Order').to.equal(49);
        expect(String.fromCharCode(order.payload[0])).to.equal('O');
        expect(order.payload.subarray(1, 15).toString('latin1').trimEnd()).to.equal('WARM1');
        expect(srv.bytes() - bytes0, 'the order\'s frame and nothing else').to.equal(49 + 3);
        expect(client.counters.messagesOut).to.equal(out0 + 1);
      } finally {
        await c.close();
        for (const s of srv.sockets) s.destroy();
        await new Promise<void>((r) => srv.server.close(() => r()));
      }
    });
  }
});
