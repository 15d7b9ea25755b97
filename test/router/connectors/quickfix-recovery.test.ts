/**
 * Session recovery against an independent FIX engine: QuickFIX (test/interop/quickfix-acceptor),
 * with a FIX-aware proxy (test/helpers/fix-proxy.ts) between it and our FixConnector that loses,
 * holds or passes single messages, and the acceptor's stdin control commands that make QuickFIX
 * itself skip numbers, send SequenceResets, restart its numbers and send possible duplicates.
 * Both roles are covered: QuickFIX resending and gap-filling to us (we are the requester), and
 * QuickFIX asking us to resend (we are the responder). Recovery tested only between two copies of
 * our own FixSession could hide a bug present on both sides.
 *
 * Skipped with a reason when the acceptor cannot be built, unless TICKPATH_REQUIRE_QUICKFIX=1.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { FixConnector, type FixConnectorOptions } from '../../../lib/router/connectors/fix-connector';
import type { FixVersion } from '../../../lib/protocols/fix/fix-codec';
import { QuickfixAcceptor } from '../../helpers/quickfix';
import { FixProxy } from '../../helpers/fix-proxy';
import { RecordingListener } from './recording-listener';

const kWait = 20000; // the machine running CI may be loaded: generous, but bounded

describe('QuickFIX interop: resend, gap fill, SequenceReset, restarts and duplicates', function () {
  this.timeout(90000);
  let venue: QuickfixAcceptor | undefined;
  let proxy: FixProxy;
  let conns: FixConnector[] = [];
  let n = 0;

  before(async function () {
    venue = await QuickfixAcceptor.start(this, 'QuickFIX recovery interop');
  });

  after(async () => {
    if (venue) expect(await venue.stop()).to.equal(0);
  });

  afterEach(async () => {
    for (const c of conns) await c.close();
    conns = [];
    await proxy?.close();
  });

  /** Fresh numbers on both sides: QuickFIX's store for `version` is reset once nobody is logged on. */
  async function fresh(version: FixVersion): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      try { await venue!.control(`reset-store ${version}`); break; } catch (e) {
        if (Date.now() - t0 > kWait) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    proxy = new FixProxy(venue!.port);
    await proxy.start();
  }

  async function connect(version: FixVersion, extra: Partial<FixConnectorOptions> = {}, storeDir?: string): Promise<[FixConnector, RecordingListener]> {
    const c = new FixConnector({
      name: 'QF', host: '127.0.0.1', port: proxy.port, version, senderCompId: 'TICKPATH', targetCompId: 'QFVENUE',
      storeDir: storeDir ?? path.join(venue!.dir, `client-${++n}`), heartbeatIntervalSec: 1, reconnectDelayMs: 100, ...extra,
    });
    const l = new RecordingListener();
    c.setListener(l);
    conns.push(c);
    await c.connect();
    return [c, l];
  }

  function order(c: FixConnector, l: RecordingListener, id: string, symbol = 'IBM', qty = 100): void {
    l.track(id, qty);
    expect(c.sendNew({ clOrdId: id, symbol, side: 'B', qty, price: 1234500, ordType: 'LIMIT', tif: 'DAY' })).to.equal(true);
  }

  for (const version of ['FIX.4.2', 'FIX.4.4'] as FixVersion[]) {
    describe(version, () => {
      it('requester: a report lost in transit is resent by QuickFIX (PossDupFlag=Y) and applied once, in order', async () => {
        await fresh(version);
        const [c, l] = await connect(version, { cancelOnDisconnect: true });
        expect(proxy.seen.find((m) => m.dir === 'toVenue' && m.type === 'A')!.fields.get(8013)).to.equal('Y');
        proxy.drop('toClient', (m) => m.type === '8' && m.fields.get(150) === '0');
        order(c, l, 'A1', 'IBM', 300);
        await l.until(() => l.orders.get('A1')!.filled === 300 && l.orders.get('A1')!.acked === 1, 'ack and fill of A1', kWait);
        expect(proxy.count('toClient', '8', 'dropped')).to.equal(1);
        expect(proxy.seen.some((m) => m.dir === 'toClient' && m.type === '8' && m.fields.get(43) === 'Y' && m.fields.get(150) === '0')).to.equal(true);
        expect(c.stats().resendRequestsOut).to.be.at.least(1);
        expect(l.orders.get('A1')!.terminal).to.deep.equal(['filled']);
        expect(l.duplicateExecIds).to.deep.equal([]);
      });

      it('requester: numbers QuickFIX skipped are gap-filled by QuickFIX and the reports behind them delivered', async () => {
        await fresh(version);
        const [c, l] = await connect(version);
        await venue!.control('skip 3');
        order(c, l, 'G1');
        await l.until(() => l.orders.get('G1')!.filled === 100, 'fill of G1', kWait);
        expect(proxy.seen.some((m) => m.dir === 'toClient' && m.type === '4' && m.fields.get(123) === 'Y')).to.equal(true);
        expect(c.stats().gapFillsIn).to.be.at.least(1);
        expect(l.orders.get('G1')!.acked).to.equal(1);
      });

      it('responder: an order lost on the way in is asked for by QuickFIX and resent by us with PossDupFlag=Y', async () => {
        await fresh(version);
        const [c, l] = await connect(version);
        proxy.drop('toVenue', (m) => m.type === 'D');
        order(c, l, 'R1');
        order(c, l, 'R2');
        await l.until(() => l.orders.get('R1')!.filled === 100 && l.orders.get('R2')!.filled === 100, 'fills of R1 and R2', kWait);
        expect(proxy.count('toVenue', 'D', 'dropped')).to.equal(1);
        expect(proxy.count('toClient', '2')).to.be.at.least(1);
        const resent = proxy.seen.filter((m) => m.dir === 'toVenue' && m.type === 'D' && m.fields.get(43) === 'Y');
        expect(resent.map((m) => m.fields.get(11))).to.include('R1');
        expect(resent.every((m) => m.fields.has(122))).to.equal(true);
        expect(c.stats().resendRequestsIn).to.be.at.least(1);
      });
    });
  }

  it('responder: a ResendRequest bigger than maxResendRange replays the newest part and gap-fills the rest; QuickFIX stays logged on', async () => {
    await fresh('FIX.4.4');
    const [c, l] = await connect('FIX.4.4', { maxResendRange: 2 });
    for (const id of ['M1', 'M2', 'M3', 'M4']) order(c, l, id);
    await l.until(() => ['M1', 'M2', 'M3', 'M4'].every((id) => l.orders.get(id)!.filled === 100), 'four fills', kWait);
    const before = c.stats().resends;
    // The ResendRequest reaches us after control() has answered, as it may on a loaded machine
    // (QuickFIX prints OK once sent; the proxy and our loop forward it later): the proxy holds it,
    // and everything behind it, until the first check of the wait below has been made. Nothing
    // but the session counter changes on its arrival (no listener event), so the wait must see it.
    let holding = false;
    proxy.hold('toClient', (m) => (holding ||= m.type === '2'), 1 << 30);
    await venue!.control('rr 2 0');
    for (const t0 = Date.now(); !proxy.seen.some((m) => m.dir === 'toClient' && m.type === '2' && m.action === 'held');) {
      if (Date.now() - t0 > kWait) throw new Error('the ResendRequest never reached the proxy');
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(c.stats().resendCapped).to.equal(0);
    const capped = l.until(() => c.stats().resendCapped === 1, 'capped resend', kWait);
    proxy.clearRules();
    proxy.release();
    await capped;
    await new Promise((r) => setTimeout(r, 300));
    expect((c.stats().resends as number) - (before as number)).to.equal(2);
    const gf = proxy.seen.filter((m) => m.dir === 'toVenue' && m.type === '4' && m.fields.get(123) === 'Y');
    expect(gf.map((m) => `${m.seq}->${m.fields.get(36)}`)).to.deep.equal(['2->4']);
    order(c, l, 'M5');
    await l.until(() => l.orders.get('M5')!.filled === 100, 'fill after the capped resend', kWait);
    expect(c.state).to.equal('LOGGED_IN');
  });

  it('SequenceReset-Reset that overtakes reports queued behind a gap delivers them all (QuickFIX never answers the ResendRequest)', async () => {
    await fresh('FIX.4.4');
    const [c, l] = await connect('FIX.4.4', { resendRequestTimeoutMs: 60000 });
    proxy.drop('toVenue', (m) => m.type === '2', 100);
    proxy.hold('toClient', (m) => m.type === '4');
    const [, own, newSeq] = (await venue!.control('seqreset-jump 3')).split(' ').slice(1).map(Number);
    expect(newSeq).to.equal(own + 4);
    for (const id of ['H1', 'H2', 'H3']) order(c, l, id, 'HOLD', 10);
    const t0 = Date.now();
    while (proxy.seen.filter((m) => m.dir === 'toClient' && m.type === '8').length < 3) {
      if (Date.now() - t0 > kWait) throw new Error('acks did not arrive');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(['H1', 'H2', 'H3'].map((id) => l.orders.get(id)!.acked)).to.deep.equal([0, 0, 0]);
    proxy.release();
    await l.until(() => ['H1', 'H2', 'H3'].every((id) => l.orders.get(id)!.acked === 1), 'acks delivered by the Reset', kWait);
    expect(c.stats().sequenceResetsIn).to.equal(1);
    expect(c.stats().nextTargetSeq).to.equal(newSeq + 3);
    c.sendCancel('H2', 'HOLD', 'B', 10);
    await l.until(() => l.orders.get('H2')!.cancelled === 10, 'cancel of H2 after the reset', kWait);
  });

  it('a live SequenceReset-GapFill from QuickFIX moves our expected number and the session carries on', async () => {
    await fresh('FIX.4.4');
    const [c, l] = await connect('FIX.4.4');
    const newSeq = Number((await venue!.control('gapfill-jump 5')).split(' ')[3]);
    order(c, l, 'J1');
    await l.until(() => l.orders.get('J1')!.filled === 100, 'fill after the gap fill', kWait);
    expect(c.stats().nextTargetSeq).to.be.greaterThan(newSeq);
    expect(c.stats().resendRequestsOut).to.equal(0);
  });

  it('a possible duplicate fill from QuickFIX (PossDupFlag=Y, a new MsgSeqNum, the same ExecID) is not counted twice', async () => {
    await fresh('FIX.4.4');
    const [c, l] = await connect('FIX.4.4');
    order(c, l, 'D1', 'IBM', 300);
    await l.until(() => l.orders.get('D1')!.filled === 300, 'fill of D1', kWait);
    const execId = (await venue!.control('dupfill')).split(' ')[2];
    await l.until(() => c.stats().duplicateReports === 1, 'duplicate seen', kWait);
    expect(proxy.seen.some((m) => m.dir === 'toClient' && m.fields.get(43) === 'Y' && m.fields.get(17) === execId)).to.equal(true);
    expect(l.orders.get('D1')!.filled).to.equal(300);
    expect(c.stats().fills).to.equal(1);
    expect(l.duplicateExecIds).to.deep.equal([]);
  });

  it('an application resend of a partial fill (PossResend=Y, no PossDupFlag, a new MsgSeqNum, the same ExecID) is applied once: CumQty stays 150', async () => {
    await fresh('FIX.4.4');
    const [c, l] = await connect('FIX.4.4');
    order(c, l, 'H1', 'HALF', 300);
    await l.until(() => l.orders.get('H1')!.filled === 150, 'half fill of H1', kWait);
    const execId = (await venue!.control('possresend')).split(' ')[2];
    await l.until(() => c.stats().duplicateReports === 1, 'resend seen', kWait);
    const resent = proxy.seen.filter((m) => m.dir === 'toClient' && m.fields.get(17) === execId);
    expect(resent.map((m) => [m.fields.get(43) ?? '', m.fields.get(97) ?? ''])).to.deep.equal([['', ''], ['', 'Y']]);
    expect(l.orders.get('H1')!.filled).to.equal(150);
    expect(c.stats().fills).to.equal(1);
    expect(c.stats().filledQty).to.equal(150);
    expect(l.duplicateExecIds).to.deep.equal([]);
    // The connector's CumQty is still 150: a replace to 200 shares is above it (counted twice it
    // would be 300, and the replace refused as below what is filled).
    expect(c.sendReplace('H1', 'H1R', 'HALF', 'B', 200, 1234500)).to.equal(true);
  });

  it('after a restart, a possible duplicate (PossDupFlag=Y) of a fill applied before it is recognised from the ExecIDs the journal hands back', async () => {
    await fresh('FIX.4.4');
    const storeDir = path.join(venue!.dir, `client-restart-${++n}`);
    const [a, la] = await connect('FIX.4.4', {}, storeDir);
    order(a, la, 'R1', 'IBM', 200);
    await la.until(() => la.orders.get('R1')!.filled === 200, 'fill of R1', kWait);
    const execId = [...la.execIds][0];
    await a.close();
    conns = conns.filter((x) => x !== a);
    const b = new FixConnector({
      name: 'QF', host: '127.0.0.1', port: proxy.port, version: 'FIX.4.4', senderCompId: 'TICKPATH', targetCompId: 'QFVENUE',
      storeDir, heartbeatIntervalSec: 1, reconnectDelayMs: 100,
    });
    const lb = new RecordingListener();
    b.setListener(lb);
    conns.push(b);
    b.restoreExecIds([execId]);
    await b.connect();
    expect((await venue!.control('dupfill')).split(' ')[2]).to.equal(execId);
    await lb.until(() => b.stats().duplicateReports === 1, 'duplicate seen', kWait);
    expect(b.stats().fills).to.equal(0);
    expect([...lb.execIds]).to.deep.equal([]);
  });

  it('a session window (injected clock): no Logon before it, Logout at its end, no reconnect, and QuickFIX accepts the next day\'s ResetSeqNumFlag=Y Logon', async () => {
    await fresh('FIX.4.4');
    let now = Date.parse('2030-01-11T09:00:00Z');
    const c = new FixConnector({
      name: 'QF', host: '127.0.0.1', port: proxy.port, version: 'FIX.4.4', senderCompId: 'TICKPATH', targetCompId: 'QFVENUE',
      storeDir: path.join(venue!.dir, `client-window-${++n}`), heartbeatIntervalSec: 1, reconnectDelayMs: 50,
      window: { start: '09:30', end: '16:00' }, now: () => now,
    });
    const l = new RecordingListener();
    c.setListener(l);
    conns.push(c);
    const logons = () => (venue!.output.match(/^LOGON FIX\.4\.4:QFVENUE->TICKPATH/gm) ?? []).length;
    const logouts = () => (venue!.output.match(/^LOGOUT FIX\.4\.4:QFVENUE->TICKPATH/gm) ?? []).length;
    const before = [logons(), logouts()];
    await c.connect();
    expect(c.state).to.equal('LOGGED_OUT');
    expect(c.sessionWindowClosed).to.match(/opens at 2030-01-11T09:30:00\.000Z/);
    const poll = async (what: string, cond: () => boolean) => {
      const end = Date.now() + kWait;
      while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); c.poll(Date.now()); await new Promise((r) => setTimeout(r, 2)); }
    };
    now = Date.parse('2030-01-11T09:30:00Z');
    await poll('Logon at the window start', () => c.state === 'LOGGED_IN');
    order(c, l, 'W1', 'IBM', 100);
    await l.until(() => l.orders.get('W1')!.filled === 100, 'fill of W1', kWait);
    const seqBefore = c.session.nextSenderSeq;
    now = Date.parse('2030-01-11T16:00:00Z');
    await poll('Logout at the window end', () => c.state === 'LOGGED_OUT' && logouts() === before[1] + 1);
    for (let i = 0; i < 100; i++) { c.poll(Date.now()); await new Promise((r) => setTimeout(r, 2)); }
    expect(logons(), 'no reconnect while closed').to.equal(before[0] + 1);
    now = Date.parse('2030-01-12T09:30:00Z');
    await poll('Logon of the next day', () => c.state === 'LOGGED_IN' && logons() === before[0] + 2);
    expect(c.session.nextSenderSeq).to.be.below(seqBefore);
    expect(proxy.seen.some((m) => m.dir === 'toVenue' && m.fields.get(35) === 'A' && m.fields.get(141) === 'Y')).to.equal(true);
    order(c, l, 'W2', 'IBM', 100);
    await l.until(() => l.orders.get('W2')!.filled === 100, 'fill of W2 on the new day', kWait);
  });

  it('a counterparty that restarts with lower numbers: FAILED with the reason and the fix, no reconnect loop; resetOnLogon recovers', async () => {
    await fresh('FIX.4.4');
    const dir = path.join(venue!.dir, `client-${++n}`);
    const [c, l] = await connect('FIX.4.4', { reconnectAttempts: 5 }, dir);
    for (const id of ['L1', 'L2']) order(c, l, id);
    await l.until(() => l.orders.get('L2')!.filled === 100, 'fills before the restart', kWait);
    await venue!.control('reset');
    await l.until(() => l.states.some(([s]) => s === 'FAILED'), 'FAILED', kWait);
    const failed = l.states.find(([s]) => s === 'FAILED')![1];
    // The first number QuickFIX sends us after its reset is 1, or 2 in about one run of this file in
    // five ("expecting 7 but received 2"): which one depends on QuickFIX's own timing around
    // Session::reset and our reconnect, not on us. Either is lower than ours, which is the point.
    const low = /MsgSeqNum too low, expecting (\d+) but received (\d+)/.exec(failed);
    expect(low, failed).to.not.equal(null);
    expect(Number(low![2]), failed).to.be.within(1, 2).and.to.be.below(Number(low![1]));
    expect(failed).to.match(/resetOnLogon/);
    const logons = l.states.filter(([s]) => s === 'LOGGED_IN').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(l.states.filter(([s]) => s === 'LOGGED_IN').length).to.equal(logons); // no loop
    await c.close();
    conns = conns.filter((x) => x !== c);
    expect(fs.existsSync(dir)).to.equal(true);
    const [c2, l2] = await connect('FIX.4.4', { resetOnLogon: true }, dir);
    expect(c2.stats().nextSenderSeq).to.equal(2);
    order(c2, l2, 'L3');
    await l2.until(() => l2.orders.get('L3')!.filled === 100, 'fill after the reset logon', kWait);
  });
});
