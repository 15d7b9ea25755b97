/**
 * Everything the main thread (pipeline.ts) and a stage worker (stage-worker.ts) tell each other:
 * the worker's start-up data, the messages it posts, the control block both touch, and the names of
 * the counters and histograms those carry. Both ends import these types, so a message's shape is
 * checked where it is built and where it is read, with no casts in between.
 *
 * Messages go one way, worker to main thread, and are rare (start, once a second, end): the hot
 * path crosses threads only through shared memory (rings, counters, the control block).
 */
import { kRunnerControlBytes } from '../common/agent-runner';
import type { SerializedLatency } from '../common/latency-recorder';
import type { RxQueueTransfer } from '../binding/rx-consumer';
import type { UdpFrameFilterOptions } from '../feed/wire/udp-frame-parser';
import type { FeedRecoveryOptions } from './feed-receiver';
import type { MoexFeedLine } from '../feed/fast/moex/moex-feed-receiver';

export type JsStage = 'decoder' | 'book' | 'strategy' | 'router';

/** A stage worker's control block: the AgentRunner's (state word, turns), then this flag on its own line. */
export const kStageSourceDoneI32 = kRunnerControlBytes >> 2;  // 1 once the source is exhausted (the decoder's worker writes)
export const kStageControlBytes = kRunnerControlBytes + 64;

/** workerData of a stage worker. */
export interface StageWorkerData {
  index: number;
  group: JsStage[];
  cpu: number;
  idle: { strategy: 'spin' | 'yield' | 'backoff'; maxSpins: number; maxYields: number; minParkMicros: number; maxParkMicros: number };
  bursts: Record<JsStage, number>;
  /** performance.stages.router.venue_poll_us: least time between venue session polls (us; 0 = every turn). */
  venuePollUs: number;
  /** performance.stages.router.venue_idle_poll_us: the same while no order awaits its venue's answer (us; absent = venuePollUs). */
  venueIdlePollUs?: number;
  /** performance.stages.router.keep_warm_us: idle time after which the order path is kept warm by dry runs (us; 0 = off). */
  keepWarmUs: number;
  /** performance.stages.router.keep_warm_path_us: how often a dry run goes through the shadow route (shadow-route.ts; us; 0/absent = never). */
  keepWarmPathUs?: number;
  /** performance.stages.router.keep_warm_socket_us: how often a dry run sends over a private loopback connection (socket-warmer.ts; us; 0/absent = never). */
  keepWarmSocketUs?: number;
  /** performance.stages.book.warm_idle: the books' idle warm walk on the decoder's empty turns (absent = off). */
  booksWarmIdle?: boolean;
  rx?: RxQueueTransfer;
  /**
   * decoderToBook and bookToStrategy hold one ring per book shard (one in all when the books are not
   * sharded): the decoder writes every decoderToBook ring, book shard k reads decoderToBook[k] and
   * writes bookToStrategy[k], the strategy's worker reads every bookToStrategy ring.
   */
  rings: { decoderToBook?: SharedArrayBuffer[]; bookToStrategy?: SharedArrayBuffer[]; strategyToRouter?: SharedArrayBuffer; routerToStrategy?: SharedArrayBuffer };
  /** Which book shard this worker runs (index 0 of count 1 when the books are not sharded). */
  bookShard: { index: number; count: number };
  /** source: 'capture' when the port replays a file (pcap backend, DPDK rx_pcap vdev): its gaps are the file's own. */
  feed: {
    filter?: UdpFrameFilterOptions; conflate: boolean; conflationIntervalUs: number; recovery?: FeedRecoveryOptions; source: 'capture' | 'live';
    /** MOEX FIX/FAST instead of ITCH: the template text and the channel lines (decoder and book stages on one worker). */
    fast?: { templatesXml: string; priceDecimals: number; market: 'CURR' | 'FOND' | 'ANY'; lineWaitMs?: number; lines: MoexFeedLine[] };
  };
  subscriptions: SharedArrayBuffer;
  bbo: SharedArrayBuffer;
  /** The live book view's mailbox (book-mailbox.ts); the book stage's worker answers it. */
  bookMailbox?: SharedArrayBuffer;
  strategy?: { module: string; params: Record<string, unknown> };
  routing?: { configFile: string; portOverrides?: Record<string, number>; journalPath?: string; fixStoreDir?: string;
    /** Run as the hot standby listening here (tickpath run --standby HOST:PORT). */
    standby?: { host: string; port: number } };
  /** This worker's log ring (lib/common/logger.ts), drained and printed by the main thread. */
  logRing: SharedArrayBuffer;
  /** kStageControlBytes: AgentRunner state (main thread requests the stop: drain and exit), kStageSourceDoneI32. */
  control: SharedArrayBuffer;
}

/** Counter names of every worker's block; stages a worker does not run stay 0. */
export const kWorkerCounterNames = [
  'rx_packets', 'rx_bytes', 'rx_ring_drops', 'bad_frames', 'moldudp64_packets', 'itch_messages', 'itch_errors',
  'book_events', 'book_bad_references', 'quotes', 'conflated', 'filtered',
  'strategy_events', 'orders_sent', 'orders_accepted', 'orders_rejected', 'orders_acked', 'orders_filled',
  'orders_partially_filled', 'orders_cancelled', 'venue_rejects', 'ring_stalls', 'loop_turns',
  'sequence_gaps', 'messages_missing', 'duplicates', 'messages_recovered', 'messages_lost', 'retransmit_requests', 'other_traffic',
  // Venue sessions by transport, set once the router stage has connected: a silent fallback to
  // the event loop shows as venue_sessions_libuv > 0.
  'venue_sessions_native', 'venue_sessions_libuv',
  // Of the native ones, those whose sends the kernel stamps (SO_TIMESTAMPING TX software: the
  // order-out instant, tx-stamps.ts); orders whose stamp was recorded (order_wire, md_to_wire),
  // orders sent where no stamp can come (libuv, venues[].tx_timestamps false, the kernel refused),
  // and orders whose stamp never came (session closed first, or later than a second).
  'venue_sessions_tx_stamped', 'tx_stamps', 'tx_stamps_off', 'tx_stamps_missing',
  // Times the router stage polled its venue sessions (a loop count, like loop_turns).
  'venue_polls',
  // Hot standby (lib/router/failover.ts): journal records received while standing by, orders the
  // strategy sent while this instance did not route, takeovers done and how long the last took
  // (detection -> venues logged in and in-flight orders resent).
  'standby_records', 'standby_orders_refused', 'failover_takeovers', 'failover_takeover_ms',
  // Times a parked router stage was woken by a venue socket (an ack or fill ended the park early).
  'venue_wakeups',
  // Dry-run turns of the order path (keep_warm_us): risk, journal record and OUCH/FIX encoding into
  // scratch; none of them sends, journals or books anything.
  'keep_warm_turns',
  // Of those, the ones that also sent a message over the stage's private loopback connection and
  // read it back (keep_warm_socket_us, socket-warmer.ts): the kernel's send path kept warm.
  'keep_warm_socket_turns',
  // Of those, the ones that went through the shadow route (keep_warm_path_us, shadow-route.ts): a
  // real submitOrder to a shadow OUCH or FIX venue, sent nowhere and rejected back. A FIX venue's
  // path stays cold when keep_warm_shadow_fix_runs stays 0.
  'keep_warm_shadow_ouch_runs', 'keep_warm_shadow_fix_runs',
  // Zero-byte sends through the real OUCH sessions' send path, one per session per dry run
  // (OrderPathWarmer warmSend): the addon returns before send(2), so nothing reached a venue.
  'keep_warm_send_warms',
  // Keep-warm calls of the strategy stage's sendOrder (strategy-stage.ts, every kWarmEveryTurns turns),
  // with a request it drops before the sink (router or ring); 0 with keep_warm_us 0.
  'keep_warm_order_entry_turns',
  // QUOTEs handed to the strategy's onTopOfBook as the books made them (before conflation).
  'strategy_quotes_immediate',
  // Slices of the books' idle warm walk (book.warm_idle): decoder turns that found no packet and
  // loaded a slice of the books' hot lines instead (BookBuilder.warmStep); 0 with it off.
  'books_warm_steps',
  // FAST A/B: what each incremental line brought (a = the first of feed.fast.incremental, b = the
  // second), the datagrams used from it first, and its copies of datagrams the other line had
  // brought first. A line that loses datagrams shows fewer of them and more firsts on the other.
  'fast_line_a_datagrams', 'fast_line_a_firsts', 'fast_line_a_duplicates',
  'fast_line_b_datagrams', 'fast_line_b_firsts', 'fast_line_b_duplicates',
] as const;
export type WorkerCounter = typeof kWorkerCounterNames[number];

/**
 * md_to_order splits in two where the strategy calls sendOrder: md_to_signal (RX time to that call:
 * the wait for the worker, decode, books, conflation, the strategy) and order_send (the router's
 * part: risk, routing, journal, encode, the socket write), so a slow order says which half it was.
 * md_to_signal splits again where the order's packet entered the decoder (only where the decoder
 * and the strategy share a worker): signal_wait (RX poll time to decoder entry: the RX ring hop and
 * the worker finishing what it was doing) and signal_decide (decoder entry to sendOrder: the
 * packet's messages before the trigger, the books, the immediate QUOTE, the strategy).
 * md_to_send_call is md_to_order without the send(2) itself: RX time to the moment the order's
 * encoded bytes are handed to send(2) (native transport only), i.e. what our code costs before the
 * kernel; md_to_order - md_to_send_call is order_syscall (loopback: the venue's TCP receive too).
 * order_wire and md_to_wire end at the order's kernel TX software timestamp (the driver's xmit took
 * its last byte: where it leaves this host's stack; tx-stamps.ts): order_wire from its send(2)
 * call, md_to_wire from the market data's RX time (tick-to-trade). Only orders with a stamp count.
 */
export const kLatencyNames = ['wire_to_decode', 'wire_to_handler', 'md_to_signal', 'order_send', 'md_to_order', 'order_ack', 'order_fill',
  'order_risk', 'order_journal', 'order_encode', 'order_syscall', 'signal_wait', 'signal_decide', 'md_to_send_call', 'dec_to_send_call',
  'order_wire', 'md_to_wire'] as const;
export type LatencyName = typeof kLatencyNames[number];

/** What a worker reports about itself once a second (heap and GC seen from inside its isolate). */
export interface WorkerHealth { heapUsed: number; oldSpaceUsed: number; gc: { major: number; minor: number; lastMajorAtNs: number }; atNs: number }

/** Started: stages built, venues logged in, pinned. `counters` is its CountersBlock. */
export interface WorkerReady { type: 'ready'; index: number; counters: SharedArrayBuffer; tid: number; cpusAllowed: string }
/** A line for the pipeline's log (rare, text; hot-path events go through the log ring). */
export interface WorkerLog { type: 'log'; line: string }
/** Latency histograms so far and the worker's health, once a second and at the end. */
export interface WorkerLatency { type: 'latency'; index: number; histograms: SerializedLatency[]; health: WorkerHealth }
/** Drained and closed: final counters and the strategy's own counts, if it keeps any. */
export interface WorkerDone { type: 'done'; index: number; counters: Record<string, number>; strategy?: Record<string, number> }
/** Building or starting a stage failed (a crash after start is the Worker's 'error' event). */
export interface WorkerFatal { type: 'fatal'; index: number; message: string; code?: string }

/** Every message a stage worker posts to the main thread. */
export type StageWorkerMessage = WorkerReady | WorkerLog | WorkerLatency | WorkerDone | WorkerFatal;
