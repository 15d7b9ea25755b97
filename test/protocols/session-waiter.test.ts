/**
 * How a session owner idles (SessionWaiter) over real native sockets: a net.Server peer on loopback
 * answers a NativeTcpTransport whose socket is in a NativeWaitSet. Also the round-trip split that
 * perf/router-rtt --split computes from two timelines, and the native channel's one address check.
 */
import { expect } from 'chai';
import { spawn } from 'child_process';
import { performance } from 'perf_hooks';
import { NativeTcpTransport, nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';
import { NativeWaitSet } from '../../lib/protocols/transport/tcp-server';
import { SessionWaiter, sessionIdlePolicy } from '../../lib/protocols/transport/session-waiter';
import {
  SessionTrace, setSessionTrace, kTraceWake, kTraceRx, kTraceRxDone, kTraceTxBegin, kTraceTxEnd, kTraceCall, kTraceAck,
} from '../../lib/protocols/transport/session-trace';
import { splitRtt } from '../../perf/router-rtt';
import { TickpathError } from '../../lib/errors';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A connected native session to an echo peer: a net.Server in a child process (so the answer comes
 * while this thread sleeps), answering after `delayMs` when asked.
 */
async function session(delayMs = 0): Promise<{ t: NativeTcpTransport; ws: NativeWaitSet; got: () => number; close: () => Promise<void> }> {
  const src = `const s=require('net').createServer((c)=>c.on('data',(d)=>${delayMs ? `setTimeout(()=>c.write(d),${delayMs})` : 'c.write(d)'}))` +
    ".listen(0,'127.0.0.1',()=>console.log('ECHO '+s.address().port));";
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /ECHO (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    child.once('exit', (code) => reject(new Error(`echo peer exited ${code}`)));
  });
  const ws = new NativeWaitSet();
  const t = new NativeTcpTransport({ idlePollMs: 0, waitSet: ws });
  let got = 0;
  let up = false;
  t.connect('127.0.0.1', port, { onConnect() { up = true; }, onData(_b, _o, len) { got += len; }, onClose() {} });
  for (const t0 = Date.now(); !up && Date.now() - t0 < 10000;) { t.poll(); await turn(); }
  expect(up).to.equal(true);
  return {
    t, ws, got: () => got,
    close: async () => {
      t.destroy();
      ws.close();
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('SessionWaiter (how the owner of native sessions idles)', function () {
  this.timeout(20000);

  it("'block' sleeps in epoll at the first empty turn and an answer ends the sleep", async () => {
    const s = await session(100);
    try {
      const w = new SessionWaiter(s.ws, { idle: 'block', spinUs: 0 });
      // Sleep (up to 500 ms at a time) and poll until the answer, due 100 ms after the ping: the
      // waiter slept, and a sleep ended on the session's socket, not on its timeout.
      s.t.send(Buffer.from('ping'), 0, 4);
      const t0 = Date.now();
      while (s.got() < 4 && Date.now() - t0 < 10000) { w.idle(s.t.poll(), 500_000); await turn(); }
      expect(s.got()).to.equal(4);
      const st = w.stats();
      expect(st).to.include({ idle: 'block', spinUs: 0, spinTurns: 0 });
      expect(st.sleeps).to.be.greaterThan(0);
      expect(st.wakeups, 'a sleep ended by the answer, not by its timeout').to.be.greaterThan(0);
    } finally {
      await s.close();
    }
  });

  it("'block' with spinUs spins that long after the last work, then sleeps; 'spin' never sleeps", async () => {
    const sleeper = { calls: 0, wait(): number { this.calls++; return 0; } };
    const w = new SessionWaiter(sleeper, { idle: 'block', spinUs: 30_000 });
    const tWork = performance.now();
    w.idle(1, 1000);                       // work: the spin window starts now (at or after tWork)
    // Every call that returned inside the window spun (checked by time, not by counting on the
    // scheduler: a loaded machine may take this thread away for longer than the window).
    let inside = 0;
    for (;;) {
      const before = sleeper.calls;
      w.idle(0, 1000);
      if (performance.now() - tWork >= 29) break;
      expect(sleeper.calls, 'no sleep inside the spin window').to.equal(before);
      inside++;
    }
    for (const t0 = Date.now(); sleeper.calls === 0 && Date.now() - t0 < 5000;) w.idle(0, 1000);
    expect(sleeper.calls, 'sleeps once the window is over').to.be.greaterThan(0);
    if (inside > 0) expect(w.stats().spinTurns).to.be.at.least(inside);
    // Nothing to sleep for (the owner's deadline is now): a spin turn, not a zero-length sleep.
    const before = sleeper.calls;
    new SessionWaiter(sleeper, { idle: 'block', spinUs: 0 }).idle(0, 0);
    expect(sleeper.calls).to.equal(before);
    const spin = new SessionWaiter(null, { idle: 'spin', spinUs: 0 });
    for (let i = 0; i < 1000; i++) spin.idle(0, 1000);
    expect(spin.stats()).to.include({ idle: 'spin', turns: 1000, spinTurns: 1000, sleeps: 0 });
  });

  it('combines several venues (any spin spins, else the longest spin) and refuses bad policies by name', () => {
    expect(SessionWaiter.combine([{ idle: 'block', spinUs: 10 }, undefined, { idle: 'block', spinUs: 300 }])).to.deep.equal({ idle: 'block', spinUs: 300 });
    expect(SessionWaiter.combine([{ idle: 'block', spinUs: 10 }, { idle: 'spin', spinUs: 0 }])).to.deep.equal({ idle: 'spin', spinUs: 0 });
    expect(SessionWaiter.combine([])).to.deep.equal({ idle: 'block', spinUs: 0 });
    expect(() => sessionIdlePolicy('venue NSDQ', 'nap', 0)).to.throw(TickpathError, /venue NSDQ: option 'idle' is "nap", expected 'block' or 'spin'/);
    expect(() => sessionIdlePolicy('venue NSDQ', 'block', -1)).to.throw(TickpathError, /option 'spin_us' is -1, expected an integer number of microseconds/);
    expect(() => new SessionWaiter(null, { idle: 'block', spinUs: 0 })).to.throw(TickpathError, /a wait set to sleep on/);
  });
});

describe('SessionTrace and the round-trip split (perf/router-rtt --split)', () => {
  it('records what the native transport does: wakes, receives and sends, in time order', async () => {
    const s = await session();
    const trace = new SessionTrace(1024);
    setSessionTrace(trace);
    try {
      s.t.send(Buffer.from('ping'), 0, 4);
      const t0 = Date.now();
      while (s.got() < 4 && Date.now() - t0 < 5000) { if (s.t.poll() === 0 && (s.ws.wait(5000, false) & 1) === 0) await turn(); }
    } finally {
      setSessionTrace(null);
      await s.close();
    }
    const kinds: number[] = [];
    for (let i = 0; i < trace.count; i++) {
      kinds.push(trace.points[i * 2]);
      if (i > 0) expect(trace.points[i * 2 + 1]).to.be.at.least(trace.points[i * 2 - 1]);
    }
    expect(kinds.slice(0, 2)).to.deep.equal([kTraceTxBegin, kTraceTxEnd]);
    expect(kinds.slice(-2)).to.deep.equal([kTraceRx, kTraceRxDone]);
    // Recording stops with the trace: nothing is added after setSessionTrace(null).
    const n = trace.count;
    s.t.send(Buffer.from('x'), 0, 1);
    expect(trace.count).to.equal(n);
  });

  it('splits each round trip into client, wire, wakeup and venue parts that add up to it', () => {
    // Client: call 0, send 100..300, woke at 2100, read at 2200, ack at 2500. Venue: woke at 900,
    // read at 1000, answered 1400..1600. A second order whose venue did not sleep (no wake).
    const client = Float64Array.from([
      kTraceCall, 0, kTraceTxBegin, 100, kTraceTxEnd, 300, kTraceWake, 2100, kTraceRx, 2200, kTraceAck, 2500,
      kTraceCall, 10_000, kTraceTxBegin, 10_050, kTraceTxEnd, 10_200, kTraceRx, 11_000, kTraceAck, 11_100,
    ]);
    const venue = Float64Array.from([
      kTraceWake, 900, kTraceRx, 1000, kTraceRxDone, 1300, kTraceTxBegin, 1400, kTraceTxEnd, 1600,
      kTraceRx, 10_400, kTraceRxDone, 10_500, kTraceTxBegin, 10_600, kTraceTxEnd, 10_700,
    ]);
    const one = splitRtt(client.subarray(0, 12), 6, venue.subarray(0, 10), 0)!;
    expect(one).to.deep.include({ orders: 1, overlapped: 0, venue_slept: 1, client_slept: 1 });
    expect(one.p50_ns).to.deep.equal({
      client_out: 100, to_venue: 800, venue_wake: 100, venue_work: 400, to_client: 700, client_wake: 100, client_in: 300, send_syscall: 200, total: 2500,
    });
    const parts = ['client_out', 'to_venue', 'venue_wake', 'venue_work', 'to_client', 'client_wake', 'client_in'];
    expect(parts.reduce((a, k) => a + one.p50_ns[k], 0)).to.equal(one.p50_ns.total);
    // Skip the first (warm-up): the second alone, the venue awake (wake 0), the client spinning.
    const second = splitRtt(client, 11, venue, 1)!;
    expect(second).to.deep.include({ orders: 1, venue_slept: 0, client_slept: 0 });
    expect(second.p50_ns).to.include({ client_out: 50, to_venue: 350, venue_wake: 0, venue_work: 200, to_client: 400, client_wake: 0, client_in: 100, total: 1100 });
    expect(splitRtt(client, 11, new Float64Array(0), 0), 'no venue timeline, no split').to.equal(null);
    // Two orders in flight at once (a late sender catching up): neither is split, both are counted.
    const both = Float64Array.from([kTraceCall, 0, kTraceTxBegin, 10, kTraceTxEnd, 20, kTraceCall, 30, kTraceTxBegin, 40, kTraceTxEnd, 50,
      kTraceRx, 900, kTraceAck, 950, kTraceAck, 960, kTraceCall, 5000, kTraceTxBegin, 5010, kTraceTxEnd, 5020, kTraceRx, 6000, kTraceAck, 6100]);
    const v2 = Float64Array.from([kTraceRx, 100, kTraceTxBegin, 200, kTraceTxEnd, 210, kTraceRx, 5100, kTraceTxBegin, 5200, kTraceTxEnd, 5300]);
    const after = splitRtt(both, 14, v2, 0)!;
    expect(after).to.deep.include({ orders: 1, overlapped: 2 });
    expect(after.p50_ns.total).to.equal(1100);
  });
});

describe('TcpChannel address check (connect and listen share it)', () => {
  it('both refuse a host name with the same cause and fix, as an errno the glue maps', () => {
    const b = nativeTcpBinding()!;
    const id = b.tcpOpen(4096, 4096);
    let connectErr: Error & { errno?: number } = new Error('none');
    let listenErr: Error & { errno?: number } = new Error('none');
    try {
      try { b.tcpConnect(id, 'venue.example', 5000, 0); } catch (e) { connectErr = e as Error; }
      try { b.tcpListen('venue.example', 0, 16); } catch (e) { listenErr = e as Error; }
    } finally {
      b.tcpDestroy(id);
    }
    const text = 'not an IPv4 address: venue.example (fix: give a dotted IPv4 address such as 127.0.0.1; resolve a host name first)';
    expect(connectErr.message).to.equal(text);
    expect(listenErr.message).to.equal(text);
    expect(connectErr.errno).to.equal(22);
    expect(listenErr.errno).to.equal(22);
  });
});
