/**
 * What a split pipeline's per-core figures (perf:throughput's `shipped_layouts`) say about 10 M
 * msgs/s, in one place for the JSON and the README row.
 *
 * The split layout (fusion [[decoder], [book], [strategy, router]], performance.stages.book.shards:
 * N) has one decoder and one strategy+router stage that merges every shard, so only the book workers
 * scale with N: its ceiling is the least of decoder, N x book worker and strategy+router, and with
 * any N it stays below min(decoder, strategy+router). The layout that would scale (not built; see
 * docs/ARCHITECTURE.md, "Reaching 10 M msgs/s"): a strategy per shard, fused with that shard's
 * books, one router taking only orders; a shard worker then costs at most book + strategy+router
 * CPU per message (the ring between them goes away).
 */
export interface SplitLayoutPerCore {
  /** Messages per CPU-second, saturated: the decoder, one book worker (of its own shard's messages), the strategy+router. */
  decoder: number;
  book_worker: number;
  strategy_router: number;
}

export interface TenMillion {
  /** This layout with this many shards. */
  ceiling_msgs_per_s: number;
  limited_by: string;
  /** This layout with any number of shards: min(decoder, strategy+router). */
  any_shards_ceiling_msgs_per_s: number;
  any_shards_limited_by: 'decoder' | 'strategy+router';
  reaches_10m: boolean;
  /** The strategy-per-shard layout: shard workers (book + strategy each), one decoder, one router. */
  strategy_per_shard: { per_core_msgs_per_s: number; shard_workers: number; decoders: 1; routers: 1; cores: number; decoder_short_of_10m: boolean };
}

export function tenMillion(per: SplitLayoutPerCore, shards: number): TenMillion | undefined {
  const { decoder, book_worker: book, strategy_router: strat } = per;
  if (![decoder, book, strat].every((v) => Number.isFinite(v) && v > 0) || !(shards >= 1)) return undefined;
  const parts: [string, number][] = [['decoder', decoder], [`${shards} x book worker`, shards * book], ['strategy+router', strat]];
  const [limitedBy, ceiling] = parts.reduce((a, b) => (b[1] < a[1] ? b : a));
  const perShard = 1 / (1 / book + 1 / strat);
  const shardWorkers = Math.ceil(10e6 / perShard);
  return {
    ceiling_msgs_per_s: Math.round(ceiling), limited_by: limitedBy,
    any_shards_ceiling_msgs_per_s: Math.round(Math.min(decoder, strat)), any_shards_limited_by: decoder < strat ? 'decoder' : 'strategy+router',
    reaches_10m: ceiling >= 10e6,
    strategy_per_shard: { per_core_msgs_per_s: Math.round(perShard), shard_workers: shardWorkers, decoders: 1, routers: 1, cores: shardWorkers + 2, decoder_short_of_10m: decoder < 10e6 },
  };
}
