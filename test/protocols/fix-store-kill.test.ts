/**
 * The FIX store survives `kill -9` of the sender: a process sends orders until it is SIGKILLed,
 * a new process opens the same store, logs on with the next number, and answers the peer's
 * ResendRequest with every order the killed one had sent (PossDupFlag=Y, the same MsgSeqNum and
 * ClOrdID). Real processes, a real socket; the peer is a hand-driven acceptor in this process.
 * Would fail if a message reached the wire before it was in the store's page cache, or if the
 * store lost numbers or messages on open.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { FixEncoder, FixParser, type FixMessage } from '../../lib/protocols/fix/fix-codec';
import { mappedStoreAvailable } from '../../lib/protocols/fix/fix-mapped-store';

interface Msg { type: string; seq: number; f: Map<number, string> }

/** The acceptor side, driven by hand: it answers Logon and sends what the test says. */
class Peer {
  server!: net.Server;
  sock: net.Socket | null = null;
  got: Msg[] = [];
  private readonly buf = Buffer.alloc(8192);
  private readonly enc = new FixEncoder();
  private parser = new FixParser((m: FixMessage) => this.onMessage(m));
  seq = 1;
  /** How many messages of the current connection to drop unread ("lost on the way in"). */

  async listen(): Promise<number> {
    this.server = net.createServer((s) => {
      this.sock = s;
      this.got = [];
      this.parser = new FixParser((m: FixMessage) => this.onMessage(m));
      s.on('data', (c: Buffer) => this.parser.push(c));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  private onMessage(m: FixMessage): void {
    const f = new Map<number, string>();
    for (let i = 0; i < m.count; i++) f.set(m.tags[i], m.buf.toString('latin1', m.valueStart[i], m.valueEnd[i]));
    const msg = { type: f.get(35)!, seq: Number(f.get(34)), f };
    this.got.push(msg);
    if (msg.type === 'A') this.send('A', [[98, '0'], [108, '5']]);
  }

  send(type: string, fields: Array<[number, string]>): void {
    const e = this.enc.begin(this.buf, 0, 'FIX.4.4', type).str(49, 'VENUE').str(56, 'ME').int(34, this.seq++).time(52, Date.now());
    for (const [t, v] of fields) e.str(t, v);
    const start = e.finish();
    this.sock!.write(Buffer.from(this.buf.subarray(start, e.end)));
  }

  close(): Promise<void> {
    this.sock?.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function startChild(dir: string, port: number, mode: string): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, [path.join(__dirname, 'fix-kill-sender-child.js'), dir, String(port), mode],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    const parts = (partial + c.toString('latin1')).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return { child, lines };
}

describe('FIX store: a resend after kill -9 of the sender (real processes)', function () {
  this.timeout(60000);
  const children: ChildProcess[] = [];
  let peer: Peer;
  let dir: string;
  before(function () { if (!mappedStoreAvailable()) this.skip(); });
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await peer?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('returns every message the killed process had sent, with its MsgSeqNum and PossDupFlag=Y, from the mapped store', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fixkill-'));
    peer = new Peer();
    const port = await peer.listen();
    const a = startChild(dir, port, 'send');
    children.push(a.child);
    // Killed while sending: somewhere past 300 orders, mid-batch or between batches.
    await until(() => a.lines.filter((l) => l.startsWith('sent ')).length >= 300, 'the sender to send 300 orders');
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    expect(a.child.signalCode).to.equal('SIGKILL');
    expect(a.lines[0]).to.equal('store mapped');
    const sent = a.lines.filter((l) => l.startsWith('sent ')).map((l) => { const [, s, id] = l.split(' '); return { seq: Number(s), id }; });
    expect(sent[0].seq).to.equal(2); // 1 was the Logon
    const last = sent[sent.length - 1].seq;

    // The peer forgets what it got (its side of a lost connection) and asks for all of it again.
    peer.sock?.destroy();
    const b = startChild(dir, port, 'resume');
    children.push(b.child);
    await until(() => b.lines.some((l) => l.startsWith('logon ')), 'the restarted sender to log on');
    const logon = peer.got.find((m) => m.type === 'A')!;
    expect(logon.seq, 'the restarted sender logs on with the number after the last one it stored').to.be.at.least(last + 1);
    peer.send('2', [[7, '2'], [16, '0']]);
    await until(() => peer.got.filter((m) => m.type === 'D').length >= sent.length, `${sent.length} resends`);
    const resent = peer.got.filter((m) => m.type === 'D');
    const bySeq = new Map(resent.map((m) => [m.seq, m]));
    for (const s of sent) {
      const m = bySeq.get(s.seq);
      expect(m, `order ${s.id} (MsgSeqNum ${s.seq}) sent before the kill was not resent`).to.not.equal(undefined);
      expect(m!.f.get(11)).to.equal(s.id);
      expect(m!.f.get(43)).to.equal('Y');
      expect(m!.f.has(122), 'OrigSendingTime').to.equal(true);
    }
  });
});
