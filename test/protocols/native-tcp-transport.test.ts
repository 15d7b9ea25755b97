/**
 * The native TCP channel under the SessionTransport interface: bytes in order through the native
 * outbound queue when the kernel's buffer is full (backpressure), the peer's close reported once,
 * and the control-line layout the addon exports.
 */
import { expect } from 'chai';
import * as net from 'net';
import { NativeTcpTransport, nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('NativeTcpTransport (addon TcpChannel)', function () {
  this.timeout(30000);

  it('exports its control-line layout', () => {
    const b = nativeTcpBinding();
    expect(b, 'addon built with the TCP channel').to.not.equal(undefined);
    expect(b!.tcpLayout).to.include({ stateI32: 0, errnoI32: 1, rxLenI32: 2, txQueuedI32: 3, busyPollI32: 4, dataOffset: 1088 });
    // The TX stamp ring sits between the control line and the receive bytes.
    expect(b!.tcpLayout).to.include({ txStampI32: 5, sendSeqI32: 6, stampHeadI32: 7, stampOffset: 64, stampSlots: 64 });
    expect(b!.tcpLayout).to.include({ stateIdle: 0, stateConnecting: 1, stateConnected: 2, statePeerClosed: 3, stateFailed: 4, stateClosed: 5 });
  });

  it('queues what the kernel cannot take, flushes it in order on poll, and reports the peer closing', async () => {
    const held: { peer?: net.Socket } = {};
    const server = net.createServer((s) => { held.peer = s; s.pause(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const t = new NativeTcpTransport({ idlePollMs: 0, txQueueBytes: 64 << 20 });
    let up = false;
    let closed: string | null = null;
    t.connect('127.0.0.1', (server.address() as net.AddressInfo).port, { onConnect() { up = true; }, onData() {}, onClose(r) { closed = r; } });
    while (!up || !held.peer) { t.poll(); await turn(); }
    // A peer that does not read: sends fill the socket buffers, then the native queue.
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      chunk.writeUInt32BE(i, 0);
      chunk.fill(i & 0xff, 4);
      expect(t.send(chunk, 0, chunk.length)).to.equal(true);
      sent += chunk.length;
    }
    const s1 = t.stats();
    expect(s1.queuedSends, 'backpressure reported').to.be.greaterThan(0);
    expect(s1.txQueued).to.be.greaterThan(0);
    // The peer reads now; poll() flushes the queue; the bytes arrive complete and in order.
    const got: Buffer[] = [];
    let gotBytes = 0;
    held.peer!.on('data', (d: Buffer) => { got.push(d); gotBytes += d.length; });
    held.peer!.resume();
    const t0 = Date.now();
    while (gotBytes < sent && Date.now() - t0 < 20000) { t.poll(); await turn(); }
    expect(gotBytes).to.equal(sent);
    expect(t.stats().txQueued).to.equal(0);
    const all = Buffer.concat(got);
    for (let i = 0; i < 200; i++) {
      expect(all.readUInt32BE(i * chunk.length), `chunk ${i} in order`).to.equal(i);
      expect(all[i * chunk.length + chunk.length - 1]).to.equal(i & 0xff);
    }
    held.peer!.destroy();
    const t1 = Date.now();
    while (!closed && Date.now() - t1 < 5000) { t.poll(); await turn(); }
    expect(closed).to.equal('connection closed by peer');
    expect(t.state).to.equal('closed');
    expect(t.send(chunk, 0, 10), 'no send after close').to.equal(false);
    t.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('receives into its region and hands the session (offset, length) views of it', async () => {
    const server = net.createServer((s) => { s.write('hello '); setTimeout(() => s.write('world'), 20); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const t = new NativeTcpTransport({ idlePollMs: 0 });
    let text = '';
    let regions = new Set<ArrayBufferLike>();
    t.connect('localhost', (server.address() as net.AddressInfo).port, {
      onConnect() {},
      onData(buf, off, len) { text += buf.toString('latin1', off, off + len); regions.add(buf.buffer); },
      onClose() {},
    });
    const t0 = Date.now();
    while (text !== 'hello world' && Date.now() - t0 < 5000) { t.poll(); await turn(); }
    expect(text).to.equal('hello world');
    expect(regions.size, 'one region, mapped once').to.equal(1);
    regions = new Set();
    t.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
