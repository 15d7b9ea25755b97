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
    this.sock!.write(this.encode(type, seq, fields));
  }

  /** Several messages in one write, so the session sees them in one read. */
  sendTogether(msgs: Array<[string, number, Array<[number, string]>]>): void {
    this.sock!.write(Buffer.concat(msgs.map(([t, s, f]) => this.encode(t, s, f))));
  }

  private encode(type: string, seq: number, fields: Array<[number, string]>): Buffer {
    const e = this.enc.begin(this.buf, 0, 'FIX.4.4', type).str(49, 'VENUE').str(56, 'ME').int(34, seq).time(52, Date.now());
    for (const [t, v] of fields) e.str(t, v);
    const start = e.finish();
    return Buffer.from(this.buf.subarray(start, e.end));
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

  it('once its owner polls, resend batches go out on the owner\'s turns (pollResends), one batch per turn, not on event-loop turns', async () => {
    await start({ resendBatch: 2 });
    expect(session.pollResends()).to.equal(0); // nothing owed; the owner now drives the throttle
    sendOrders(6); // seqs 2..7
    await peer.until(() => peer.got.length === 7, 'orders');
    peer.got.length = 0;
    peer.send('2', 2, [[7, '2'], [16, '0']]);
    // The request is answered with its first batch as it arrives; the rest waits for the owner.
    const t0 = Date.now();
    while (session.counters.resentMessages < 2 && Date.now() - t0 < 4000) await new Promise((r) => setTimeout(r, 5));
    expect(session.counters.resentMessages).to.equal(2);
    // Event-loop turns alone (well under the 100 ms timer backstop) send nothing more.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(session.counters.resentMessages).to.equal(2);
    expect(session.pollResends()).to.equal(2);
    expect(session.pollResends()).to.equal(2);
    expect(session.pollResends()).to.equal(0);
    await peer.until(() => peer.got.length === 6, 'six resends');
    expect(peer.got.map((m) => m.seq)).to.deep.equal([2, 3, 4, 5, 6, 7]);
    expect(peer.got.every((m) => m.f.get(43) === 'Y')).to.equal(true);
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

  it('a second ResendRequest during a throttled resend is merged, not a replacement: every requested message goes out once, in order', async () => {
    // The reported case: ResendRequest(2..0) then (600..610) on 1,000 stored messages. A single
    // resend cursor answered only 2..201 (the first batch) and 600..610.
    await start({ resendBatch: 200 });
    sendOrders(1000); // seqs 2..1001
    await peer.until(() => peer.got.length === 1001, 'orders', 30000);
    peer.got.length = 0;
    peer.sendTogether([['2', 2, [[7, '2'], [16, '0']]], ['2', 3, [[7, '600'], [16, '610']]]]);
    await peer.until(() => peer.got.filter((m) => m.type === 'D').length >= 1000, 'resends', 30000);
    await new Promise((r) => setTimeout(r, 100));
    const resent = peer.got.filter((m) => m.type === 'D').map((m) => m.seq);
    expect(resent).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i + 2));
    expect(session.counters.resentMessages).to.equal(1000);
    expect(peer.got.every((m) => m.type !== 'D' || m.f.get(43) === 'Y')).to.equal(true);
  });

  it('a second ResendRequest for numbers already resent replays them again after the rest of the first range', async () => {
    await start({ resendBatch: 2 });
    sendOrders(8); // seqs 2..9
    await peer.until(() => peer.got.length === 9, 'orders');
    peer.got.length = 0;
    // The first batch (2, 3) goes out before the second request is read; 2..3 are owed again.
    peer.sendTogether([['2', 2, [[7, '2'], [16, '9']]], ['2', 3, [[7, '2'], [16, '3']]]]);
    await peer.until(() => session.counters.resentMessages === 10, 'resends');
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.got.filter((m) => m.type === 'D').map((m) => m.seq)).to.deep.equal([2, 3, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('caps what one ResendRequest replays; a merged request keeps its own cap and gap fills never overlap a replay', async () => {
    await start({ maxResendRange: 3, resendBatch: 100 });
    sendOrders(10); // seqs 2..11
    await peer.until(() => peer.got.length === 11, 'orders');
    peer.got.length = 0;
    peer.sendTogether([['2', 2, [[7, '2'], [16, '6']]], ['2', 3, [[7, '8'], [16, '11']]]]);
    await peer.until(() => session.counters.resentMessages === 6, 'resends');
    await new Promise((r) => setTimeout(r, 50));
    // 2..6 capped to 4..6 (2..3 gap-filled); 8..11 capped to 9..11 (8 gap-filled); 7 was never asked for.
    expect(peer.got.map((m) => (m.type === '4' ? `GF${m.seq}-${m.f.get(36)}` : `${m.type}${m.seq}`))).to.deep.equal(
      ['GF2-4', 'D4', 'D5', 'D6', 'GF8-9', 'D9', 'D10', 'D11']);
    expect(session.counters.resendCapped).to.equal(2);
  });

  it('re-sends an unanswered ResendRequest after the timeout and recovers when the peer answers the retry', async () => {
    await start({ resendRequestTimeoutMs: 300, resendRequestRetries: 3 });
    peer.send('8', 4, [[11, 'C'], [150, '0']]);
    await peer.until(() => peer.got.filter((m) => m.type === '2').length === 2, 'a second ResendRequest', 5000);
    const rrs = peer.got.filter((m) => m.type === '2');
    expect(rrs.map((m) => m.f.get(7))).to.deep.equal(['2', '2']);
    expect(session.counters.resendRetries).to.equal(1);
    peer.send('4', 2, [[43, 'Y'], [123, 'Y'], [36, '4']]);
    await peer.until(() => app.length === 1, 'queued report delivered');
    expect(session.nextTargetSeq).to.equal(5);
    expect(session.isLoggedIn).to.equal(true);
  });

  it('logs out with the missing range named when a ResendRequest stays unanswered after its retries', async () => {
    await start({ resendRequestTimeoutMs: 200, resendRequestRetries: 2 });
    peer.send('8', 4, [[11, 'C'], [150, '0']]);
    await peer.until(() => peer.closed, 'disconnect', 8000);
    expect(peer.got.filter((m) => m.type === '2')).to.have.length(3);
    const lo = peer.got.find((m) => m.type === '5')!;
    expect(lo.f.get(58)).to.match(/^ResendRequest for 2\.\.3 unanswered after 3 attempts/);
    expect(logouts[0]).to.match(/ResendRequest for 2\.\.3 unanswered/);
    expect(session.counters.resendFailures).to.equal(1);
  });

  it('SequenceReset-Reset drains the early messages queued from its NewSeqNo on, in order', async () => {
    // The reported case: 5, 6, 7 queued behind a gap, then Reset to 5: nothing was delivered.
    await start({ resendRequestTimeoutMs: 30000 });
    for (const s of [5, 6, 7]) peer.send('8', s, [[11, `R${s}`], [150, '0']]);
    await peer.until(() => peer.got.some((m) => m.type === '2'), 'ResendRequest');
    await new Promise((r) => setTimeout(r, 50));
    expect(app).to.have.length(0);
    peer.send('4', 99, [[36, '5']]); // Reset: MsgSeqNum ignored
    await peer.until(() => app.length === 3, 'queued reports');
    expect(app.map((m) => m.f.get(11))).to.deep.equal(['R5', 'R6', 'R7']);
    expect(session.nextTargetSeq).to.equal(8);
    expect(session.counters.sequenceResetsIn).to.equal(1);
    peer.send('0', 8);
    await peer.until(() => session.nextTargetSeq === 9, 'heartbeat 8');
    expect(peer.got.filter((m) => m.type === '2')).to.have.length(1);
  });

  it('a gap fill over queued early messages delivers them instead of dropping them', async () => {
    await start({ resendRequestTimeoutMs: 30000 });
    for (const s of [5, 6, 7]) peer.send('8', s, [[11, `R${s}`], [150, '0']]);
    await peer.until(() => peer.got.some((m) => m.type === '2'), 'ResendRequest');
    peer.send('4', 2, [[43, 'Y'], [123, 'Y'], [36, '8']]);
    await peer.until(() => app.length === 3, 'queued reports');
    expect(app.map((m) => m.f.get(11))).to.deep.equal(['R5', 'R6', 'R7']);
    expect(session.nextTargetSeq).to.equal(8);
  });

  it('a Reset to below what is queued, then a gap fill: every queued report is delivered once, in order', async () => {
    await start({ resendRequestTimeoutMs: 30000 });
    for (const s of [5, 6, 7, 9]) peer.send('8', s, [[11, `R${s}`], [150, '0']]);
    await peer.until(() => peer.got.some((m) => m.type === '2'), 'ResendRequest');
    peer.send('4', 99, [[36, '5']]);
    await peer.until(() => app.length === 3, 'R5..R7');
    peer.send('4', 8, [[43, 'Y'], [123, 'Y'], [36, '9']]);
    await peer.until(() => app.length === 4, 'R9');
    expect(app.map((m) => m.f.get(11))).to.deep.equal(['R5', 'R6', 'R7', 'R9']);
    expect(session.nextTargetSeq).to.equal(10);
  });

  it('rejects a SequenceReset-Reset whose NewSeqNo is below the expected number and keeps its numbers', async () => {
    await start();
    peer.send('0', 2);
    peer.send('0', 3);
    await peer.until(() => session.nextTargetSeq === 4, 'heartbeats');
    peer.send('4', 4, [[36, '2']]);
    await peer.until(() => peer.got.some((m) => m.type === '3'), 'Reject');
    const rj = peer.got.find((m) => m.type === '3')!;
    expect(rj.f.get(373)).to.equal('5');
    expect(session.nextTargetSeq).to.equal(4);
    expect(session.isLoggedIn).to.equal(true);
  });

  it('sends the configured extra Logon fields (a venue\'s cancel-on-disconnect tag)', async () => {
    await start({ logonFields: [[8013, 'Y']] });
    expect(peer.got.find((m) => m.type === 'A')!.f.get(8013)).to.equal('Y');
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

describe('FixSession over a session transport: application messages encoded where the mapped store keeps them', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fix-inplace-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A socket that copies what it is given (a native TransportSocket's contract), keeping every write. */
  function sink(kind: 'native' | 'libuv'): { sent: Buffer[] } & Record<string, unknown> {
    const sent: Buffer[] = [];
    return {
      sent, transport: { kind }, destroyed: false, setNoDelay: () => undefined, destroy: () => undefined, once: () => undefined,
      send: (b: Buffer, o: number, l: number) => { sent.push(Buffer.from(b.subarray(o, o + l))); return true; },
    };
  }

  function loggedIn(kind: 'native' | 'libuv'): { s: FixSession; sent: Buffer[] } {
    const s = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'VENUE', role: 'initiator', storeDir: dir, storeKind: 'mapped', resetOnLogon: true });
    s.setApplication({ onLogon: () => undefined, onLogout: () => undefined, onAppMessage: () => undefined });
    const sock = sink(kind);
    s.connected(sock as never);
    const b = Buffer.alloc(512);
    const e = new FixEncoder().begin(b, 0, 'FIX.4.4', 'A').str(Tag.SenderCompID, 'VENUE').str(Tag.TargetCompID, 'ME')
      .int(Tag.MsgSeqNum, 1).time(Tag.SendingTime, Date.now()).int(Tag.EncryptMethod, 0).int(Tag.HeartBtInt, 30).char(Tag.ResetSeqNumFlag, 0x59);
    new FixParser((m) => s.receive(m)).push(b, e.finish(), e.end);
    expect(s.isLoggedIn).to.equal(true);
    return { s, sent: sock.sent };
  }

  for (const kind of ['native', 'libuv'] as const) {
    it(`${kind}: a body of 2, 3 and 4 BodyLength digits goes out whole and valid, and the store holds exactly the bytes sent, across a reopen`, () => {
      const { s, sent } = loggedIn(kind);
      const texts = ['', 'x'.repeat(150), 'y'.repeat(1200)];
      for (const t of texts) {
        const e = s.beginApp('D').str(Tag.ClOrdID, `O${t.length}`);
        if (t) e.str(Tag.Text, t);
        expect(s.sendApp()).to.equal(true);
      }
      const apps = sent.slice(1); // after our Logon
      expect(apps).to.have.length(3);
      const parsed: Array<{ len: number; text: string }> = [];
      const bad: string[] = [];
      const p = new FixParser((m) => parsed.push({ len: m.getInt(Tag.BodyLength), text: m.getStr(Tag.Text) }), { onBad: (r) => bad.push(r) });
      for (const b of apps) p.push(b);
      expect(bad).to.deep.equal([]);
      expect(parsed.map((m) => String(m.len).length)).to.deep.equal([2, 3, 4]);
      expect(parsed.map((m) => m.text)).to.deep.equal(texts);
      for (let i = 0; i < 3; i++) expect(s.store.get(2 + i)!.equals(apps[i])).to.equal(true);
      s.close();
      const again = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'VENUE', role: 'initiator', storeDir: dir, storeKind: 'mapped' });
      expect(again.nextSenderSeq).to.equal(5);
      for (let i = 0; i < 3; i++) expect(again.store.get(2 + i)!.equals(apps[i])).to.equal(true);
      again.close();
    });
  }
});
