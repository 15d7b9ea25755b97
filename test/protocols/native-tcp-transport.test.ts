/**
 * The native TCP channel under the SessionTransport interface: bytes in order through the native
 * outbound queue when the kernel's buffer is full (backpressure), the peer's close reported once,
 * and the control-line layout the addon exports.
 */
import { expect } from 'chai';
import * as net from 'net';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { binding } from '../../lib/binding/native';
import { NativeTcpTransport, nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';

type NativeTcpBindingLike = { tcpSend: unknown };
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

  it('the TCP functions are one fast-properties copy of the addon\'s exports per thread, and a wrapper put on it is what a transport\'s send calls', async () => {
    const b = nativeTcpBinding()!;
    expect(nativeTcpBinding(), 'the same object on every call').to.equal(b);
    expect(b.tcpSend, 'the addon\'s own functions').to.equal((binding() as unknown as NativeTcpBindingLike).tcpSend);
    expect(b.tcpLayout.zeroSendFree, 'this addon stops a zero-byte send before send(2)').to.equal(1);
    // The addon's exports are in dictionary mode (a hash lookup per b.tcpSend); the copy is not.
    const mod = path.join(__dirname, '..', '..', 'lib', 'protocols', 'transport', 'native-tcp-transport.js');
    const nat = path.join(__dirname, '..', '..', 'lib', 'binding', 'native.js');
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e',
      `const t = require(${JSON.stringify(mod)}); const n = require(${JSON.stringify(nat)});` +
      'console.log(JSON.stringify([%HasFastProperties(t.nativeTcpBinding()), %HasFastProperties(n.binding())]))'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!), '[copy fast, exports fast]').to.deep.equal([true, false]);
    // The order path's probe wraps nativeTcpBinding().tcpSend: a transport must call through it.
    const server = net.createServer((s) => { s.resume(); s.on('error', () => {}); });
    await new Promise<void>((r2) => server.listen(0, '127.0.0.1', () => r2()));
    const t = new NativeTcpTransport({ idlePollMs: 0 });
    const orig = b.tcpSend;
    let wrapped = 0;
    try {
      let up = false;
      t.connect('127.0.0.1', (server.address() as net.AddressInfo).port, { onConnect() { up = true; }, onData() {}, onClose() {} });
      const t0 = Date.now();
      while (!up && Date.now() - t0 < 5000) { t.poll(); await turn(); }
      b.tcpSend = (id, buf, off, len) => { wrapped++; return orig.call(b, id, buf, off, len); };
      expect(t.send(Buffer.alloc(8), 0, 8)).to.equal(true);
      expect(wrapped).to.equal(1);
    } finally {
      b.tcpSend = orig;
      t.destroy();
      await new Promise<void>((r2) => server.close(() => r2()));
    }
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
