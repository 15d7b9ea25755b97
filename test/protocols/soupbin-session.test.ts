import { readNumeric } from '../../lib/common/bytes';
import { expect } from 'chai';
import * as net from 'net';
import { SoupBinClient } from '../../lib/protocols/soupbin/soupbin-client';
import { SoupBinServer } from '../../lib/protocols/soupbin/soupbin-server';
import { encodeLoginRequest, SoupFrameParser, kSoupLoginAccepted, kSoupSequencedData } from '../../lib/protocols/soupbin/soupbintcp';

async function until(cond: () => boolean, what: string, ms = 4000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SoupBinTCP client/server sessions', function () {
  this.timeout(10000);
  let server: SoupBinServer | undefined;
  let received: string[];

  async function startServer(heartbeatIntervalMs: number, clientTimeoutMs = 15000): Promise<number> {
    received = [];
    server = new SoupBinServer({ session: 'S1', heartbeatIntervalMs, clientTimeoutMs }, {
      authenticate: (u, p) => u === 'user' && p === 'pw',
      onUnsequenced: (conn, buf, off, len) => {
        received.push(buf.toString('latin1', off, off + len));
        server!.streamFor(conn.username).publish(Buffer.from(`echo:${buf.toString('latin1', off, off + len)}`));
      },
    });
    return server.listen(0);
  }

  afterEach(async () => { await server?.close(); });

  it('validates client options with exact messages', () => {
    expect(() => new SoupBinClient({ host: '127.0.0.1', port: 1, username: 'toolongname', password: '' }, { onSequenced() {}, onDisconnected() {} }))
      .to.throw("SoupBinClient: option 'username' is \"toolongname\", expected a string of at most 6 characters");
    expect(() => new SoupBinClient({ host: '127.0.0.1', port: 0, username: 'u', password: '' }, { onSequenced() {}, onDisconnected() {} }))
      .to.throw("SoupBinClient: option 'port' is 0, expected an integer port 1..65535");
  });

  it('logs in, exchanges unsequenced/sequenced data, and resumes from the next expected sequence after a drop', async () => {
    const port = await startServer(100);
    const got: Array<[number, string]> = [];
    const c = new SoupBinClient({ host: '127.0.0.1', port, username: 'user', password: 'pw', heartbeatIntervalMs: 50 }, {
      onSequenced: (b, o, l, seq) => got.push([seq, b.toString('latin1', o, o + l)]),
      onDisconnected() {},
    });
    await c.connect();
    expect(c.session).to.equal('S1');
    const send = (text: string) => { const o = c.payloadOffset(); c.txBuffer.write(text, o, 'latin1'); return c.sendUnsequenced(text.length); };
    expect(send('a')).to.equal(true);
    expect(send('b')).to.equal(true);
    await until(() => got.length === 2, 'two echoes');
    c.destroy();
    expect(send('lost')).to.equal(false);
    server!.streamFor('user').publish(Buffer.from('while-away'));
    await c.connect();
    await until(() => got.length === 3, 'replay');
    expect(got).to.deep.equal([[1, 'echo:a'], [2, 'echo:b'], [3, 'while-away']]);
    expect(c.nextSeq).to.equal(4);
    await until(() => c.counters.heartbeatsIn > 0 && c.counters.heartbeatsOut > 0, 'heartbeats both ways');
    await c.logout();
  });

  it('a client drops a silent server after serverTimeoutMs', async () => {
    const port = await startServer(60000);
    let reason = '';
    const c = new SoupBinClient({ host: '127.0.0.1', port, username: 'user', password: 'pw', heartbeatIntervalMs: 50, serverTimeoutMs: 300 }, {
      onSequenced() {},
      onDisconnected: (r) => { reason = r; },
    });
    await c.connect();
    await until(() => reason !== '', 'timeout');
    expect(reason).to.match(/server silent for \d+ ms \(timeout 300 ms\)/);
    expect(c.isLoggedIn).to.equal(false);
  });

  it('the server drops a client that stops heartbeating, and replays from a requested sequence on login', async () => {
    const port = await startServer(50, 300);
    server!.streamFor('user').publish(Buffer.from('m1'));
    server!.streamFor('user').publish(Buffer.from('m2'));
    server!.streamFor('user').publish(Buffer.from('m3'));
    const sock = net.connect(port, '127.0.0.1');
    const frames: Array<[number, string]> = [];
    const p = new SoupFrameParser((t, b, o, l) => frames.push([t, b.toString('latin1', o + 1, o + l)]));
    sock.on('data', (d: Buffer) => p.push(d));
    let closed = false;
    sock.on('close', () => { closed = true; });
    await new Promise((r) => sock.on('connect', r));
    const login = Buffer.alloc(49);
    encodeLoginRequest(login, 0, 'user', 'pw', '', 2);
    sock.write(login);
    await until(() => frames.filter(([t]) => t === kSoupSequencedData).length === 2, 'replay from 2');
    expect(frames[0][0]).to.equal(kSoupLoginAccepted);
    expect(readNumeric(Buffer.from(frames[0][1], 'latin1'), 10, 20)).to.equal(2);
    expect(frames.filter(([t]) => t === kSoupSequencedData).map(([, s]) => s)).to.deep.equal(['m2', 'm3']);
    await until(() => closed, 'server drops the silent client', 3000);
  });

  it('rejects a bad password with Login Rejected and the client reports ERR_SOUP_LOGIN_REJECTED', async () => {
    const port = await startServer(100);
    const c = new SoupBinClient({ host: '127.0.0.1', port, username: 'user', password: 'nope' }, { onSequenced() {}, onDisconnected() {} });
    let err: unknown;
    try { await c.connect(); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'ERR_SOUP_LOGIN_REJECTED');
    expect((err as Error).message).to.include('not authorized');
  });
});
