/**
 * `tickpath book`: one symbol's order book as a price ladder, from a capture (replayed through the
 * production decoder and BookBuilder up to a sequence number or a time) or live from a running
 * instance (asked through its book mailbox in /dev/shm; the book stage answers between slices, so
 * the hot path pays one atomic load per slice, asked or not).
 * Exit codes: 0 shown, 1 no such symbol / no running instance / bad capture, 2 bad usage.
 */
import * as path from 'path';
import { TickpathError } from '../lib/errors';
import type { BookSnapshot } from '../lib/feed/book/book-snapshot';
import { renderLadder, renderTopOfBook } from '../lib/ops/book-view';
import { defaultStatsDir, pidAlive, StatsReader } from '../lib/ops/stats-publisher';
import { formatItchTime, parseItchTime } from '../lib/ops/units';
import { BookMailboxClient, bookFilePath, kBookMaxDepth, TopOfBookRow } from '../lib/pipeline/book-mailbox';
import { replayBook } from '../lib/tools/book-replay';
import { terminalProgress } from '../lib/tools/progress';
import { intOption, parseCommandLine, UsageError } from './args';

export const summary = "one symbol's order book as a price ladder, from a capture or a running instance";

const kHelp = `Usage: tickpath book --symbol S (--pcap FILE [--seq N | --at TIME] | --instance ID) [options]
       tickpath book --instance ID --top [--symbol S] [--watch]

  --symbol S         the stock symbol (required), e.g. META
  --pcap FILE        replay this MoldUDP64/ITCH capture through the decoder and books
    --seq N          ... up to and including MoldUDP64 sequence number N
    --at TIME        ... up to and including ITCH time TIME: HH:MM:SS[.fraction] (e.g. 09:30:38.95)
                     or nanoseconds since midnight
  --instance ID      ask a running \`tickpath run --instance ID\` (its book stage answers between slices)
    --top            the top of every book instead of one ladder: best bid and ask, the shares
                     and orders at each, and the spread (with --symbol: that symbol's row only)
    --watch          redraw every --interval ms until Ctrl-C
    --interval MS    with --watch (default 1000, at least 100)
  --depth N          price levels per side (default 10)
  --dir DIR          where a running instance's files live (default $TICKPATH_STATS_DIR or /dev/shm)
  --json             one JSON object: price_decimals (4: ITCH Price(4); a MOEX FAST feed's
                     feed.fast.price_decimals), levels with price (that integer), price_value (the
                     price it stands for) and, for ITCH, price_usd, shares, orders; last trade with
                     timestamp_ns and time; trading state
  --help             this text

With --json and --top: {price_decimals, symbols: [{symbol, bid, bid_value, bid_usd, bid_shares,
bid_orders, ask, ask_value, ask_usd, ask_shares, ask_orders}], omitted} (omitted: rows that did not
fit the instance's book file; *_usd only for ITCH).
A MOEX FAST instance's prices are shown at its feed.fast.price_decimals, in the venue's currency.

The ladder shows asks above (highest first) and bids below (best first): price in dollars, shares
and orders per level; then the last trade and the trading state (from Stock Trading Action).
Exit codes: 0 shown, 1 no such symbol or no running instance, 2 bad usage.`;

/** The snapshot with units in its keys, for --json. */
export function bookJson(s: BookSnapshot, extra: Record<string, unknown>, priceDecimals = 4): Record<string, unknown> {
  const scale = 10 ** priceDecimals, itch = priceDecimals === 4;
  const value = (p: number) => (itch ? { price_value: p / scale, price_usd: p / scale } : { price_value: p / scale });
  const level = (l: { price: number; shares: number; orders: number }) => ({ price: l.price, ...value(l.price), shares: l.shares, orders: l.orders });
  return {
    symbol: s.symbol, stock_locate: s.stockLocate, trading_state: s.tradingState, price_decimals: priceDecimals,
    bids: s.bids.map(level), asks: s.asks.map(level), bid_levels: s.bidLevels, ask_levels: s.askLevels,
    last_trade: s.lastTrade ? { price: s.lastTrade.price, ...value(s.lastTrade.price), shares: s.lastTrade.shares,
      timestamp_ns: s.lastTrade.timestamp, time: formatItchTime(s.lastTrade.timestamp) } : null,
    ...extra,
  };
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('book', kHelp, argv, {
    symbol: { type: 'string' }, pcap: { type: 'string' }, seq: { type: 'string' }, at: { type: 'string' },
    instance: { type: 'string' }, watch: { type: 'boolean' }, top: { type: 'boolean' }, interval: { type: 'string', default: '1000' },
    depth: { type: 'string', default: '10' }, dir: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let depth: number, untilSequence: number | undefined, untilTimestamp: number | undefined, interval: number;
  try {
    if (values.top && !values.instance) throw new UsageError('--top goes with --instance ID (the top of every book of a running instance)');
    if (!values.symbol && !values.top) throw new UsageError('option --symbol S is required');
    // 8 is ITCH's width; a MOEX FIX/FAST instance names its books SESSION:SYMBOL (CETS:USD000UTSTOM).
    if (values.symbol !== undefined && !/^[\x21-\x7e]{1,32}$/.test(values.symbol)) throw new UsageError(`option --symbol is ${JSON.stringify(values.symbol)}, expected 1 to 32 printable characters`);
    if (!values.pcap === !values.instance) throw new UsageError('give exactly one of --pcap FILE or --instance ID');
    depth = intOption('depth', values.depth, 1, kBookMaxDepth)!;
    interval = intOption('interval', values.interval, 100, 3_600_000)!;
    untilSequence = intOption('seq', values.seq, 1, Number.MAX_SAFE_INTEGER);
    if (values.at !== undefined) {
      untilTimestamp = parseItchTime(values.at);
      if (untilTimestamp === undefined) throw new UsageError(`option --at is ${JSON.stringify(values.at)}, expected HH:MM:SS[.fraction] or nanoseconds since midnight`);
    }
    if (values.instance && (untilSequence !== undefined || untilTimestamp !== undefined)) throw new UsageError('--seq and --at go with --pcap (a live book is always now)');
    if (values.pcap && values.watch) throw new UsageError('--watch goes with --instance');
    if (untilSequence !== undefined && untilTimestamp !== undefined) throw new UsageError('give --seq or --at, not both');
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tickpath book: ${err.message}\n\nRun \`tickpath book --help\` for the options.`);
    return 2;
  }
  if (values.top) return fromInstance(values.instance!, values.dir ?? defaultStatsDir(), values.symbol, 'top', depth, values.json === true, values.watch === true, interval);
  const symbol = values.symbol!;
  if (values.pcap) return fromCapture(values.pcap, symbol, depth, untilSequence, untilTimestamp, values.json === true);
  return fromInstance(values.instance!, values.dir ?? defaultStatsDir(), symbol, 'ladder', depth, values.json === true, values.watch === true, interval);
}

function fromCapture(file: string, symbol: string, depth: number, untilSequence: number | undefined, untilTimestamp: number | undefined, json: boolean): number {
  const progress = terminalProgress({ unit: 'bytes', total: 1 });
  let result;
  try {
    result = replayBook(path.resolve(file), {
      symbol, depth, untilSequence, untilTimestamp,
      onProgress: progress ? (done, total) => progress.update(done / total) : undefined,
    });
    progress?.finish(1);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof TickpathError) { console.error(`tickpath book: ${err.message} [${err.code}]`); return 1; }
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') { console.error(`tickpath book: cannot read ${file}: ${e.code}`); return 1; }
    throw err;
  }
  const asOf = `as of seq ${result.lastSequence} (${formatItchTime(result.lastTimestamp)}), ${result.messages} messages applied`;
  if (!result.snapshot) {
    console.error(`tickpath book: no book for ${symbol} in ${file} up to seq ${result.lastSequence}; symbols with a book: ${result.symbols.join(' ') || '(none)'}`);
    return 1;
  }
  if (json) {
    console.log(JSON.stringify(bookJson(result.snapshot, {
      source: 'pcap', file, last_sequence: result.lastSequence, last_timestamp_ns: result.lastTimestamp,
      last_time: formatItchTime(result.lastTimestamp), messages: result.messages,
    })));
  } else {
    console.log(renderLadder(result.snapshot, { asOf }).join('\n'));
  }
  return 0;
}

/** The top-of-book rows with units in their keys, for --json --top. */
export function topJson(rows: TopOfBookRow[], priceDecimals = 4): Record<string, unknown>[] {
  const scale = 10 ** priceDecimals, itch = priceDecimals === 4;
  return rows.map((r) => ({
    symbol: r.symbol, bid: r.bid, bid_value: r.bid / scale, ...(itch ? { bid_usd: r.bid / scale } : {}), bid_shares: r.bidShares, bid_orders: r.bidOrders,
    ask: r.ask, ask_value: r.ask / scale, ...(itch ? { ask_usd: r.ask / scale } : {}), ask_shares: r.askShares, ask_orders: r.askOrders,
  }));
}

async function fromInstance(instance: string, dir: string, symbol: string | undefined, view: 'ladder' | 'top', depth: number, json: boolean, watch: boolean, interval: number): Promise<number> {
  // The stats file says whether the instance is alive; the book file is where it answers.
  let reader: StatsReader;
  let client: BookMailboxClient;
  try {
    reader = StatsReader.attach(instance, dir);
    client = BookMailboxClient.attach(bookFilePath(instance, dir));
  } catch (err) {
    if (!(err instanceof TickpathError)) throw err;
    console.error(`tickpath book: ${err.message}`);
    return 1;
  }
  const tty = process.stdout.isTTY === true;
  let stopping = false;
  const stop = (): void => { stopping = true; };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (;;) {
      let answer;
      try {
        answer = view === 'top' ? await client.askTop(3000) : await client.ask(symbol!, depth, 3000);
      } catch (err) {
        if (!(err instanceof TickpathError)) throw err;
        console.error(`tickpath book: instance '${instance}': ${err.message}${pidAlive(client.pid) ? '' : ' (it has exited)'}`);
        return 1;
      }
      // The answer says how its prices are scaled (an older instance's answer: ITCH Price(4)).
      const decimals = answer.priceDecimals ?? 4;
      if (view === 'top') {
        const rows = (answer.top ?? []).filter((r) => symbol === undefined || r.symbol === symbol);
        if (rows.length === 0) {
          console.error(symbol !== undefined
            ? `tickpath book: instance '${instance}' has no book for ${symbol}; symbols with a book: ${(answer.top ?? []).map((r) => r.symbol).slice(0, 50).join(' ') || '(none yet)'}`
            : `tickpath book: instance '${instance}' has no books yet`);
          if (!watch) return 1;
        } else if (json) {
          console.log(JSON.stringify({ source: 'instance', instance, pid: reader.pid, at_ms: answer.atMs, price_decimals: decimals, symbols: topJson(rows, decimals), omitted: answer.topOmitted ?? 0 }));
        } else {
          const lines = renderTopOfBook(rows, { asOf: `live, instance ${instance} at ${new Date(answer.atMs).toISOString()}`, omitted: answer.topOmitted, priceDecimals: decimals });
          if (watch && tty) process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n\n  (Ctrl-C to quit)\n`);
          else console.log(lines.join('\n'));
        }
      } else if (!answer.found || !answer.snapshot) {
        console.error(`tickpath book: instance '${instance}' has no book for ${symbol}; symbols with a book: ${(answer.known ?? []).join(' ') || '(none yet)'}`);
        if (!watch) return 1;
      } else if (json) {
        console.log(JSON.stringify(bookJson(answer.snapshot, { source: 'instance', instance, pid: reader.pid, at_ms: answer.atMs }, decimals)));
      } else {
        const lines = renderLadder(answer.snapshot, { asOf: `live, instance ${instance} at ${new Date(answer.atMs).toISOString()}`, priceDecimals: decimals });
        if (watch && tty) process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n\n  (Ctrl-C to quit)\n`);
        else console.log(lines.join('\n'));
      }
      if (!watch || stopping) return 0;
      const end = Date.now() + interval;
      while (!stopping && Date.now() < end) await new Promise((r) => setTimeout(r, Math.min(50, end - Date.now())));
      if (stopping) return 0;
      if (!reader.alive()) { console.error(`tickpath book: instance '${instance}' (pid ${reader.pid}) has exited`); return 1; }
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
