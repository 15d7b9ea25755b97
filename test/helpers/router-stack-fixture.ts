/**
 * A router stack for order-path tests: the shipped routing config with its journal in a fresh
 * temporary directory, each venue's connector a recorder of the clOrdIds it was asked to send (no
 * socket), and a BBO of one symbol at 1_000_000 / 1_000_100. Shared by the keep-warm tests
 * (shadow route, the order table's warmNext) so each states only what it checks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadRoutingConfig, type RoutingConfig } from '../../lib/router/routing-config';
import { createRouterStack, type RouterStack } from '../../lib/router/router-stack';
import type { OrderRequest } from '../../lib/router/types';

// dist/test/helpers -> repository root
export const kRoutingConfig = path.resolve(__dirname, '../../../configs/routing_config.yml');

export interface RecordingRouterStack {
  stack: RouterStack;
  /** The journal's directory (removed by close). */
  dir: string;
  /** clOrdIds the connectors' sendNew was called with, in order. */
  sent: string[];
  bbo: { bestBid: () => number; bestAsk: () => number; entries: () => { symbol: string; bid: number; ask: number }[] };
  /** A 100-share limit buy at the ask. */
  order: (symbol?: string) => OrderRequest;
  close: () => void;
}

export function recordingRouterStack(symbol: string, prefix: string, edit?: (cfg: RoutingConfig) => void): RecordingRouterStack {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const cfg = loadRoutingConfig(kRoutingConfig);
  cfg.journal.path = path.join(dir, 'orders.journal');
  edit?.(cfg);
  const sent: string[] = [];
  const bbo = { bestBid: () => 1_000_000, bestAsk: () => 1_000_100, entries: () => [{ symbol, bid: 1_000_000, ask: 1_000_100 }] };
  const connectorFor = (v: { name: string; protocol: 'ouch' | 'fix42' | 'fix44' }) => ({
    name: v.name, protocol: v.protocol, resendsIdempotently: true, setListener() {}, connect: async () => undefined, close: async () => undefined,
    sendNew: (o: { clOrdId: string }) => { sent.push(o.clOrdId); return true; },
    sendCancel: () => true, sendReplace: () => true, stats: () => ({}),
  });
  const listener = new Proxy({}, { get: () => () => undefined });
  const stack = createRouterStack(cfg, { connectorFor: connectorFor as never, bbo, listener: listener as never });
  const order = (s = symbol): OrderRequest => ({ symbol: s, side: 'B', qty: 100, price: 1_000_100, ordType: 'LIMIT', tif: 'DAY' });
  return {
    stack, dir, sent, bbo, order,
    close: () => { stack.journal.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}
