import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';
import { SocketPathWarmer } from '../../lib/pipeline/stages/socket-warmer';
import { OrderPathWarmer } from '../../lib/pipeline/stages/order-path';
import { loadRoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack } from '../../lib/router/router-stack';

// dist/test/pipeline -> repository root
const ROOT = path.resolve(__dirname, '../../..');
const CONFIG = path.join(ROOT, 'configs/routing_config.yml');

/**
 * keep_warm_socket_us (socket-warmer.ts): each such keep-warm turn is a real send(2) of an
 * Enter-Order-sized message over a private loopback connection and a recv(2) of it at the other
 * end, inside this process. These fail if the turn stops reaching the kernel (the addon's own send
 * counter), if the bytes do not come back, or if anything reaches a venue connector.
 */
describe('pipeline/socket path warmer (keep_warm_socket_us)', function () {
  const nb = nativeTcpBinding();
  before(function () { if (!nb) this.skip(); });

  const untilReady = (w: SocketPathWarmer): void => {
    const t0 = Date.now();
    while (!w.ready && Date.now() - t0 < 5000) w.run();
    expect(w.ready, `private connection up (${w.failure})`).to.equal(true);
  };

  it('each turn is one send(2) the addon counts and the 49 bytes read back at the other end', () => {
    const w = new SocketPathWarmer(nb!);
    untilReady(w);
    const client = (w as unknown as { client: number }).client;
    const sends0 = nb!.tcpStats(client).sends;
    const turns0 = w.turns, back0 = w.bytesBack;
    for (let i = 0; i < 2000; i++) expect(w.run()).to.equal(1);
    expect(w.turns - turns0).to.equal(2000);
    expect(nb!.tcpStats(client).sends - sends0, 'send(2) calls').to.equal(2000);
    // Loopback delivers inside send(2): each turn's poll finds its message.
    expect(w.bytesBack - back0).to.equal(2000 * 49);
    expect(w.failure).to.equal('');
    w.close();
    expect(w.run(), 'closed: no more turns').to.equal(0);
    expect(w.failure).to.equal('closed');
  });

  it('through OrderPathWarmer: one turn in socketEvery dry runs, and nothing reaches a venue connector', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-socket-warm-'));
    const cfg = loadRoutingConfig(CONFIG);
    cfg.journal.path = path.join(dir, 'orders.journal');
    const sent: string[] = [];
    const connectorFor = (v: { name: string; protocol: 'ouch' | 'fix42' | 'fix44' }) => ({
      name: v.name, protocol: v.protocol, resendsIdempotently: true, setListener() {}, connect: async () => undefined, close: async () => undefined,
      sendNew: (o: { clOrdId: string }) => { sent.push(o.clOrdId); return true; }, sendCancel: () => true, sendReplace: () => true, stats: () => ({}),
    });
    const bbo = { bestBid: () => 1_000_000, bestAsk: () => 1_000_100, entries: () => [{ symbol: 'AAPL', bid: 1_000_000, ask: 1_000_100 }] };
    const stack = createRouterStack(cfg, { connectorFor: connectorFor as never, bbo, listener: new Proxy({}, { get: () => () => undefined }) as never });
    const socket = new SocketPathWarmer(nb!);
    untilReady(socket);
    const warmer = new OrderPathWarmer(stack, cfg.risk, bbo, dir, { socket, socketEvery: 4 });
    warmer.noteOrder({ symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_100, ordType: 'LIMIT', tif: 'DAY' });
    const t0 = socket.turns, records0 = stack.journal.records;
    for (let i = 0; i < 4000; i++) warmer.run();
    expect(socket.turns - t0).to.equal(1000);
    expect(sent, 'venue sends').to.have.length(0);
    expect(stack.journal.records, 'real journal records').to.equal(records0);
    warmer.close();
    expect(socket.run(), 'closed with the warmer').to.equal(0);
    stack.journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
