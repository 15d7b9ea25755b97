import { expect } from 'chai';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { FixSession } from '../../lib/protocols/fix/fix-session';
import { FixEncoder, FixParser, Tag, type FixMessage } from '../../lib/protocols/fix/fix-codec';

interface Msg { type: string; seq: number; f: Map<number, string> }

function toMsg(m: FixMessage): Msg {
  const f = new Map<number, string>();
  for (let i = 0; i < m.count; i++) f.set(m.tags[i], m.buf.toString('latin1', m.valueStart[i], m.valueEnd[i]));
  return { type: f.get(35)!, seq: Number(f.get(34)), f };
}

/** A hand-driven counterparty: we choose every MsgSeqNum it sends. */
class RawPeer {
  server!: net.Server;
  sock: net.Socket | null = null;
  readonly got: Msg[] = [];
  private readonly buf = Buffer.alloc(8192);
  private readonly enc = new FixEncoder();
  private readonly parser = new FixParser((m) => this.got.push(toMsg(m)));
  closed = false;

  async listen(): Promise<number> {
    this.server = net.createServer((s) => {
      this.sock = s;
      s.on('data', (c: Buffer) => this.parser.push(c));
      s.on('close', () => { this.closed = true; });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  send(type: string, seq: number, fields: Array<[number, string]> = []): void {
    const e = this.enc.begin(this.buf, 0, 'FIX.4.4', type).str(49, 'VENUE').str(56, 'ME').int(34, seq).time(52, Date.now());
    for (const [t, v] of fields) e.str(t, v);
    const start = e.finish();
    this.sock!.write(Buffer.from(this.buf.subarray(start, e.end)));
  }

  async until(cond: () => boolean, what: string, ms = 4000): Promise<void> {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; got ${this.got.map((m) => `${m.type}:${m.seq}`).join(' ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): Promise<void> {
    this.sock?.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('FixSession (initiator) against a hand-driven peer', function () {
  this.timeout(15000);
  let peer: RawPeer;
  let session: FixSession;
  let dir: string;
  let app: Msg[];
  let logouts: string[];
  let client: net.Socket;

  async function start(extra: Partial<ConstructorParameters<typeof FixSession>[0]> = {}): Promise<void> {
    peer = new RawPeer();
    const port = await peer.listen();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fix-session-'));
    session = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'VENUE', role: 'initiator', storeDir: dir, heartbeatIntervalSec: 1, ...extra });
    app = [];
    logouts = [];
    session.setApplication({ onLogon() {}, onLogout: (r) => logouts.push(r), onAppMessage: (m) => app.push(toMsg(m)) });
    const parser = new FixParser((m) => session.receive(m));
    client = net.connect(port, '127.0.0.1');
    client.on('data', (c: Buffer) => parser.push(c));
    client.on('close', () => session.disconnected('closed'));
    await new Promise<void>((r) => client.on('connect', () => { session.connected(client); r(); }));
    await peer.until(() => peer.got.some((m) => m.type === 'A'), 'Logon');
    peer.send('A', 1, [[98, '0'], [108, '1']]);
    await peer.until(() => session.isLoggedIn, 'logged in');
  }

  afterEach(async () => {
    session.close();
    client.destroy();
    await peer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function sendOrders(n: number): void {
    for (let i = 0; i < n; i++) {
      session.beginApp('D').str(Tag.ClOrdID, `O${i}`).str(Tag.Symbol, 'X');
      expect(session.sendApp()).to.equal(true);
    }
  }

  it('answers ResendRequest with PossDup resends of stored messages and gap-fills admin messages', async () => {
    await start();
    sendOrders(5); // seqs 2..6 (1 was Logon)
    await peer.until(() => peer.got.length === 6, 'orders');
    peer.got.length = 0;
    peer.send('2', 2, [[7, '1'], [16, '0']]);
    await peer.until(() => peer.got.length === 6, 'resends');
    expect(peer.got[0].type).to.equal('4');
    expect(peer.got[0].f.get(123)).to.equal('Y');
    expect(peer.got[0].seq).to.equal(1);
    expect(peer.got[0].f.get(36)).to.equal('2');
    for (let i = 1; i <= 5; i++) {
      expect(peer.got[i].seq).to.equal(i + 1);
      expect(peer.got[i].type).to.equal('D');
      expect(peer.got[i].f.get(43)).to.equal('Y');
      expect(peer.got[i].f.has(122)).to.equal(true);
      expect(peer.got[i].f.get(11)).to.equal(`O${i - 1}`);
    }
  });

  it('bounds a huge ResendRequest: the older part is gap-filled, resends come in throttled batches', async () => {
    await start({ maxResendRange: 3, resendBatch: 2 });
    sendOrders(10); // seqs 2..11
    await peer.until(() => peer.got.length === 11, 'orders');
    peer.got.length = 0;
    peer.send('2', 2, [[7, '1'], [16, '0']]);
    await peer.until(() => peer.got.length === 4, 'gap fill + 3 resends');
    expect(peer.got[0].type).to.equal('4');
    expect(peer.got[0].f.get(36)).to.equal('9');
    expect(peer.got.slice(1).map((m) => m.seq)).to.deep.equal([9, 10, 11]);
    expect(session.counters.resentMessages).to.equal(3);
  });

  it('detects an inbound gap, sends ResendRequest, and delivers queued messages in order after a gap fill', async () => {
    await start();
    peer.send('8', 4, [[11, 'C'], [150, '0']]);
    await peer.until(() => peer.got.some((m) => m.type === '2'), 'ResendRequest');
    const rr = peer.got.find((m) => m.type === '2')!;
    expect(rr.f.get(7)).to.equal('2');
    expect(rr.f.get(16)).to.equal('0');
    expect(app).to.have.length(0);
    peer.send('4', 2, [[43, 'Y'], [123, 'Y'], [36, '3']]);
    peer.send('8', 3, [[43, 'Y'], [11, 'B'], [150, '0']]);
    await peer.until(() => app.length === 2, 'both in order');
    expect(app.map((m) => m.f.get(11))).to.deep.equal(['B', 'C']);
    expect(session.nextTargetSeq).to.equal(5);
    peer.send('8', 3, [[43, 'Y'], [11, 'B'], [150, '0']]); // a duplicate resend: ignored
    peer.send('0', 5);
    await peer.until(() => session.nextTargetSeq === 6, 'heartbeat 5');
    expect(app).to.have.length(2);
    expect(session.counters.possDupsIgnored).to.equal(1);
  });

  it('answers TestRequest with a Heartbeat carrying its TestReqID', async () => {
    await start();
    peer.send('1', 2, [[112, 'PING-7']]);
    await peer.until(() => peer.got.some((m) => m.type === '0' && m.f.get(112) === 'PING-7'), 'heartbeat reply');
  });

  it('logs out and disconnects on MsgSeqNum too low without PossDupFlag', async () => {
    await start();
    peer.send('0', 2);
    peer.send('0', 2);
    await peer.until(() => peer.closed, 'disconnect');
    const lo = peer.got.find((m) => m.type === '5')!;
    expect(lo.f.get(58)).to.equal('MsgSeqNum too low, expecting 3 but received 2');
    expect(logouts[0]).to.match(/too low/);
  });

  it('sends TestRequest to a silent peer and drops it when the TestRequest goes unanswered', async () => {
    await start();
    await peer.until(() => peer.got.some((m) => m.type === '1'), 'TestRequest', 4000);
    await peer.until(() => peer.closed, 'disconnect', 4000);
    expect(logouts[0]).to.match(/silent/);
  });

  it('persists sequence numbers and sent messages across a restart', async () => {
    await start();
    sendOrders(3);
    await peer.until(() => peer.got.length === 4, 'orders');
    session.store.close();
    const again = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'VENUE', role: 'initiator', storeDir: dir });
    expect(again.nextSenderSeq).to.equal(5);
    expect(again.nextTargetSeq).to.equal(2);
    expect(again.store.get(4)!.toString('latin1')).to.include('11=O2\x01');
    again.store.close();
  });
});
