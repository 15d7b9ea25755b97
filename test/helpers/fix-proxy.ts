/**
 * A FIX-aware TCP proxy for interop tests: sits between our connector and an independent engine
 * (the QuickFIX acceptor) and can drop, hold or pass single messages in either direction, so a
 * test makes real transit losses the engine itself must detect and recover (it sends the
 * ResendRequest, or answers ours), instead of two copies of our own session agreeing on a bug.
 * Messages are framed with our parser but forwarded byte for byte.
 *
 * Threading: the test's event loop.
 */
import * as net from 'net';
import { FixParser, type FixMessage } from '../../lib/protocols/fix/fix-codec';

export type ProxyDirection = 'toVenue' | 'toClient';

/** One message seen by the proxy, with the fields a rule can match on. */
export interface ProxiedMessage { dir: ProxyDirection; type: string; seq: number; fields: Map<number, string>; action: 'passed' | 'dropped' | 'held' }

interface Rule { dir: ProxyDirection; match: (m: ProxiedMessage) => boolean; action: 'drop' | 'hold'; remaining: number }

function fieldsOf(m: FixMessage): Map<number, string> {
  const f = new Map<number, string>();
  for (let i = 0; i < m.count; i++) f.set(m.tags[i], m.buf.toString('latin1', m.valueStart[i], m.valueEnd[i]));
  return f;
}

export class FixProxy {
  readonly seen: ProxiedMessage[] = [];
  private readonly rules: Rule[] = [];
  private readonly held: Array<{ dir: ProxyDirection; bytes: Buffer }> = [];
  private readonly sockets = new Set<net.Socket>();
  private pair: { client: net.Socket; venue: net.Socket } | null = null;
  private server!: net.Server;
  port = 0;

  /** `upstreamPort` may be changed later (a restarted venue); new connections go there. */
  constructor(public upstreamPort: number) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Drops the next `times` messages in `dir` that match. */
  drop(dir: ProxyDirection, match: (m: ProxiedMessage) => boolean, times = 1): void {
    this.rules.push({ dir, match, action: 'drop', remaining: times });
  }

  /** Holds the next `times` matching messages in `dir` (and nothing else) until `release()`. */
  hold(dir: ProxyDirection, match: (m: ProxiedMessage) => boolean, times = 1): void {
    this.rules.push({ dir, match, action: 'hold', remaining: times });
  }

  /** Forwards everything held, in the order it arrived. */
  release(): void {
    const held = this.held.splice(0);
    for (const h of held) this.forward(h.dir, h.bytes);
  }

  clearRules(): void { this.rules.length = 0; }

  count(dir: ProxyDirection, type: string, action?: ProxiedMessage['action']): number {
    return this.seen.filter((m) => m.dir === dir && m.type === type && (!action || m.action === action)).length;
  }

  /** Cuts the current connection pair (a network failure, neither side logs out). */
  cut(): void { for (const s of this.sockets) s.destroy(); }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }

  private accept(client: net.Socket): void {
    const venue = net.connect(this.upstreamPort, '127.0.0.1');
    client.setNoDelay(true);
    venue.setNoDelay(true);
    this.pair = { client, venue };
    this.sockets.add(client);
    this.sockets.add(venue);
    const wire = (from: net.Socket, dir: ProxyDirection) => {
      const parser = new FixParser((m) => this.onMessage(dir, m), { maxMessage: 1 << 20 });
      from.on('data', (c: Buffer) => parser.push(c));
    };
    wire(client, 'toVenue');
    wire(venue, 'toClient');
    const end = () => { client.destroy(); venue.destroy(); this.sockets.delete(client); this.sockets.delete(venue); };
    for (const s of [client, venue]) { s.on('close', end); s.on('error', end); }
  }

  private onMessage(dir: ProxyDirection, m: FixMessage): void {
    const fields = fieldsOf(m);
    const seen: ProxiedMessage = { dir, type: fields.get(35) ?? '', seq: Number(fields.get(34)), fields, action: 'passed' };
    this.seen.push(seen);
    const rule = this.rules.find((r) => r.dir === dir && r.remaining > 0 && r.match(seen));
    if (rule) {
      rule.remaining--;
      if (rule.action === 'drop') { seen.action = 'dropped'; return; }
      seen.action = 'held';
      this.held.push({ dir, bytes: m.copy() });
      return;
    }
    this.forward(dir, m.copy());
  }

  private forward(dir: ProxyDirection, bytes: Buffer): void {
    const p = this.pair;
    if (!p) return;
    const to = dir === 'toVenue' ? p.venue : p.client;
    if (!to.destroyed) to.write(bytes);
  }
}
