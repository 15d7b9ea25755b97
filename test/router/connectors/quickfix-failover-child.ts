/**
 * Child process for the QuickFIX failover drill (quickfix-failover.test.ts; not a test file
 * itself): the primary. Builds the production router stack from a routing config whose one venue
 * is the QuickFIX acceptor, routes `held` orders for HOLD (acked, resting) and journals the
 * session's numbers (endOfBatch), prints "ACKED", then routes `inFlight` more and, without reading
 * the socket again or journaling the numbers, prints "SENT" and spins until the parent SIGKILLs it:
 * QuickFIX has acked those orders, the journal still holds them SENT.
 *
 * argv: <routing_config.yml> <journal> <fix store dir> <held> <inFlight>
 */
import { loadRoutingConfig } from '../../../lib/router/routing-config';
import { createRouterStack } from '../../../lib/router/router-stack';
import type { RouterListener } from '../../../lib/router/types';

async function main(): Promise<void> {
  const [cfgFile, journalPath, fixStoreDir, heldArg, inFlightArg] = process.argv.slice(2);
  const held = Number(heldArg);
  const inFlight = Number(inFlightArg);
  let acked = 0;
  const listener = new Proxy({}, {
    get: (_t, k) => (...a: unknown[]) => {
      if (k === 'onAcked') acked++;
      if (k === 'onRejected' || k === 'onVenueReject') console.log(`${String(k)} ${a.join(' ')}`);
    },
  }) as RouterListener;
  const stack = createRouterStack(loadRoutingConfig(cfgFile), {
    bbo: { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, listener, journalPath, fixStoreDir, connector: { transport: 'libuv' },
  });
  await stack.connect();
  const order = { symbol: 'HOLD', side: 'B' as const, qty: 100, price: 1_000_000, ordType: 'LIMIT' as const, tif: 'DAY' as const };
  for (let i = 0; i < held; i++) stack.router.sendOrder({ ...order });
  const end = Date.now() + 20_000;
  while (acked < held && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  stack.router.endOfBatch();
  console.log(acked === held ? 'ACKED' : `only ${acked} of ${held} acked`);
  for (let i = 0; i < inFlight; i++) stack.router.sendOrder({ ...order });
  console.log('SENT');
  // The event loop never turns again: the acks stay unread in the socket until SIGKILL.
  for (;;) { /* spin */ }
}

main().catch((e: Error) => { console.log(`ERROR ${e.message}`); process.exit(1); });
