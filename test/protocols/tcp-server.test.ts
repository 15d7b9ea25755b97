/**
 * The accepting side of venue sessions (`ServerTransport`): the addon's polled listener and the
 * net.Server fallback behind one interface. Real sockets on loopback; the peers are independent
 * net.Socket clients, so nothing here trusts the native code to test itself.
 */
import { expect } from 'chai';
import * as net from 'net';
import { NativeTcpServer, LibuvTcpServer, NativeWaitSet, serverTransport } from '../../lib/protocols/transport/tcp-server';
import type { ServerTransport, SessionTransport } from '../../lib/protocols/transport/session-transport';
import { TickpathError } from '../../lib/errors';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Drives `server.poll()` (native) and the event loop until `done()`, or fails after `ms`. */
async function until(server: ServerTransport, done: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    server.poll();
    await turn();
  }
}

/** An upper-casing echo server over the transport: what a venue does with a request, in miniature. */
async function echoServer(server: ServerTransport): Promise<{ port: number; closes: string[]; conns: SessionTransport[] }> {
  const closes: string[] = [];
  const conns: SessionTransport[] = [];
  const port = await server.listen('127.0.0.1', 0, (t) => {
    conns.push(t);
    return {
      onConnect() {},
      onData(buf, off, len) {
        const text = buf.toString('latin1', off, off + len);
        const out = Buffer.from(text.toUpperCase(), 'latin1');
        t.send(out, 0, out.length);
        if (text.includes('bye')) t.end();
      },
      onClose(reason) { closes.push(reason); },
    };
  });
  return { port, closes, conns };
}

function client(port: number): Promise<{ sock: net.Socket; got: () => string; ended: () => boolean }> {
  return new Promise((resolve, reject) => {
    let got = '';
    let ended = false;
    const sock = net.connect({ host: '127.0.0.1', port }, () => resolve({ sock, got: () => got, ended: () => ended }));
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('end', () => { ended = true; });
    sock.on('error', reject);
  });
}

for (const kind of ['native', 'libuv'] as const) {
  describe(`ServerTransport (${kind})`, function () {
    this.timeout(20000);

    it('accepts several clients, answers each on its own connection, reports a peer closing, and end() delivers the last bytes before FIN', async () => {
      const server = serverTransport(kind);
      expect(server.kind).to.equal(kind);
      try {
        const { port, closes, conns } = await echoServer(server);
        const a = await client(port);
        const b = await client(port);
        await until(server, () => conns.length === 2, 'two accepts');
        a.sock.write('hello a');
        b.sock.write('hello b');
        await until(server, () => a.got() === 'HELLO A' && b.got() === 'HELLO B', 'both answers');
        expect(server.stats()).to.include({ kind, accepted: 2, connections: 2 });
        a.sock.destroy();
        await until(server, () => closes.length === 1, 'the peer close');
        // Graceful end: the answer arrives, then end of stream, and the server keeps reading
        // until the client closes its side.
        b.sock.write('bye');
        await until(server, () => b.ended(), 'end of stream after the answer');
        expect(b.got()).to.equal('HELLO BBYE');
        b.sock.end();
        await until(server, () => closes.length === 2, 'the second close');
        await until(server, () => server.stats().connections === 0, 'connections dropped');
        if (kind === 'native') expect(server.stats().polls).to.be.greaterThan(0);
      } finally {
        await server.close();
      }
    });

    it('a port in use is a TickpathError (native) or EADDRINUSE (libuv), not a crash', async () => {
      const taken = net.createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
      const port = (taken.address() as net.AddressInfo).port;
      const server = serverTransport(kind);
      try {
        const err = await server.listen('127.0.0.1', port, () => ({ onConnect() {}, onData() {}, onClose() {} })).then(() => null, (e) => e);
        expect(err).to.not.equal(null);
        if (kind === 'native') {
          expect(err).to.be.instanceOf(TickpathError);
          expect((err as TickpathError).message).to.contain('Address already in use').and.contain('fix: pick another port');
        } else {
          expect((err as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
        }
      } finally {
        await server.close();
        await new Promise<void>((r) => taken.close(() => r()));
      }
    });
  });
}

describe('NativeWaitSet (epoll over native sessions)', function () {
  this.timeout(20000);

  it('sleeps while nothing arrives and wakes when a client connects or sends', async () => {
    const ws = new NativeWaitSet();
    const server = new NativeTcpServer({ waitSet: ws });
    try {
      const { port, conns } = await echoServer(server);
      // Nothing pending: the wait times out (0) after about the time asked for.
      // Sessions only (withLoop false): in a full suite the event loop's own fd is often ready (other
      // tests' child pipes), which ends a wait that includes it at once. A signal may still end one
      // wait early, with nothing reported: the loop asks that nothing is reported and that a wait sleeps.
      let sleptMs = 0;
      for (let i = 0; i < 10 && sleptMs <= 5; i++) {
        const t0 = process.hrtime.bigint();
        expect(ws.wait(20_000, false) & 1).to.equal(0);
        sleptMs = Number(process.hrtime.bigint() - t0) / 1e6;
      }
      expect(sleptMs).to.be.greaterThan(5);
      const c = await client(port);
      // A pending connection wakes the wait (the listener is a member).
      let r = 0;
      for (let i = 0; i < 200 && !(r & 1); i++) { r = ws.wait(10_000); await turn(); }
      expect(r & 1).to.equal(1);
      await until(server, () => conns.length === 1, 'accept');
      for (let i = 0; i < 5 && (ws.wait(0) & 1); i++) server.poll();
      c.sock.write('x');
      r = 0;
      for (let i = 0; i < 200 && !(r & 1); i++) { r = ws.wait(10_000); await turn(); }
      expect(r & 1, 'data on an accepted connection wakes the wait').to.equal(1);
      await until(server, () => c.got() === 'X', 'answer');
      c.sock.destroy();
    } finally {
      await server.close();
      ws.close();
    }
  });

  it('LibuvTcpServer never needs polling: poll() returns 0 and events come from the event loop', async () => {
    const server = new LibuvTcpServer();
    try {
      const { port } = await echoServer(server);
      const c = await client(port);
      c.sock.write('abc');
      const t0 = Date.now();
      while (c.got() !== 'ABC' && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
      expect(c.got()).to.equal('ABC');
      expect(server.poll()).to.equal(0);
      c.sock.destroy();
    } finally {
      await server.close();
    }
  });
});
