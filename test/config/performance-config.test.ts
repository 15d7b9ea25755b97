import { expect } from 'chai';
import * as YAML from 'yaml';
import { burstBacklogPackets, burstDrainMs, parsePerformanceConfig } from '../../lib/config/performance-config';
import { TickpathError } from '../../lib/errors';

const kFile = 'configs/performance.yml';

function base(): any {
  return {
    performance: {
      stages: {
        rx: { cpu: 1 },
        decoder: { cpu: 0 },
        book: { cpu: 0 },
        strategy: { cpu: 0 },
        router: { cpu: 0 },
      },
      fusion: [['decoder', 'book', 'strategy', 'router']],
    },
  };
}

function parse(doc: unknown, cpuCount = 2) {
  return parsePerformanceConfig(YAML.stringify(doc), kFile, { cpuCount });
}

/** Like the feed config test's: the message without its line number and fix, the line checked. */
function expectError(mutate: (d: any) => void, message: string, code = 'ERR_CONFIG_INVALID', cpuCount = 2): void {
  const doc = base();
  mutate(doc);
  const text = YAML.stringify(doc);
  let caught: unknown;
  try {
    parsePerformanceConfig(text, kFile, { cpuCount });
  } catch (e) {
    caught = e;
  }
  expect(caught).to.be.instanceOf(TickpathError);
  expect((caught as TickpathError).code).to.equal(code);
  const m = /^([^:]+):(\d+): (.*?)(?: \(and \d+ more problems?: [^)]*\))? \(fix: (.+)\)$/.exec((caught as Error).message);
  expect(m, (caught as Error).message).to.not.equal(null);
  expect(`${m![1]}: ${m![3]}`).to.equal(message);
  const line = text.split('\n')[Number(m![2]) - 1];
  const key = /^[^:]+: (?:\S+\.)?([a-z_]+) is (?!missing)/.exec(message);
  if (key) expect(line, `line ${m![2]} of:\n${text}`).to.contain(`${key[1]}:`);
}

describe('performance config', () => {
  it('fills defaults for idle, bursts and rings', () => {
    const c = parse(base());
    expect(c.idle).to.deep.equal({ strategy: 'backoff', maxSpins: 100, maxYields: 10, minParkMicros: 1, maxParkMicros: 1000 });
    expect(c.stages.rx).to.deep.equal({ cpu: 1, burst: 32, poller: 'thread', idle: 'backoff' });
    expect(c.stages.router).to.deep.equal({ cpu: 0, burst: 64, venuePollMicros: 10, venueIdlePollMicros: 10, keepWarmMicros: 0, keepWarmPathMicros: 0, keepWarmSocketMicros: 0 });
    expect(c.rings).to.deep.equal({ rxDescriptors: 4096, decoderToBook: 4096, bookToStrategy: 4096, strategyToRouter: 1024 });
    expect(c.workers).to.deep.equal([['decoder', 'book', 'strategy', 'router']]);
    expect(c.numaNode).to.equal(0);
  });

  it('reads the burst to size the RX buffering for, with the backlog and drain time it implies', () => {
    expect(parse(base()).burst).to.equal(undefined);
    const d = base();
    d.performance.burst = { normal_msgs_per_s: 100000, multiplier: 100, duration_ms: 100, msgs_per_packet: 20, drain_msgs_per_s: 1000000 };
    const b = parse(d).burst!;
    expect(b).to.deep.equal({ normalMsgsPerS: 100000, multiplier: 100, durationMs: 100, msgsPerPacket: 20, drainMsgsPerS: 1000000 });
    expect(burstBacklogPackets(b)).to.equal(45000);
    expect(burstDrainMs(b)).to.equal(1000);
    expect(burstBacklogPackets({ ...b, drainMsgsPerS: 20e6 })).to.equal(0);
    expectError((x) => (x.performance.burst = { multiplier: 0 }), 'configs/performance.yml: performance.burst.multiplier is 0, expected an integer from 1 to 1000000');
  });

  it('without fusion runs one worker per stage', () => {
    const doc = base();
    delete doc.performance.fusion;
    expect(parse(doc).workers).to.deep.equal([['decoder'], ['book'], ['strategy'], ['router']]);
  });

  it('rejects a CPU the machine does not have', () => {
    expectError(
      (d) => (d.performance.stages.rx.cpu = 2),
      'configs/performance.yml: performance.stages.rx.cpu is 2, expected a CPU from 0 to 1 (this machine has 2)',
    );
    expect(parse(base(), 8).stages.rx.cpu).to.equal(1);
  });

  it('rejects ring sizes that are not powers of two and unknown idle strategies', () => {
    expectError(
      (d) => (d.performance.rings = { decoder_to_book: 1000 }),
      'configs/performance.yml: performance.rings.decoder_to_book is 1000, expected a power of two from 64 to 4194304',
    );
    expectError(
      (d) => (d.performance.idle = { strategy: 'sleep' }),
      'configs/performance.yml: performance.idle.strategy is "sleep", expected one of spin, yield, backoff',
    );
    expectError(
      (d) => (d.performance.idle = { min_park_us: 100, max_park_us: 10 }),
      'configs/performance.yml: performance.idle.max_park_us is 10, expected an integer >= performance.idle.min_park_us (100)',
    );
  });

  it('the RX poller idles as performance.idle says unless stages.rx.idle says otherwise', () => {
    const d = base();
    d.performance.idle = { strategy: 'spin' };
    expect(parse(d).stages.rx.idle).to.equal('spin');
    d.performance.stages.rx.idle = 'backoff';
    const c = parse(d);
    expect([c.idle.strategy, c.stages.rx.idle]).to.deep.equal(['spin', 'backoff']);
    expectError((x) => (x.performance.stages.rx.idle = 'nap'), 'configs/performance.yml: performance.stages.rx.idle is "nap", expected one of spin, yield, backoff');
  });

  it('reads how often the router stage polls its venue sessions, only on the router', () => {
    const d = base();
    d.performance.stages.router.venue_poll_us = 0;
    expect(parse(d).stages.router.venuePollMicros).to.equal(0);
    // Between orders: venue_idle_poll_us, venue_poll_us when absent.
    expect(parse(d).stages.router.venueIdlePollMicros).to.equal(0);
    d.performance.stages.router.venue_idle_poll_us = 100;
    expect(parse(d).stages.router.venueIdlePollMicros).to.equal(100);
    expectError(
      (x) => (x.performance.stages.router.venue_idle_poll_us = 'soon'),
      'configs/performance.yml: performance.stages.router.venue_idle_poll_us is "soon", expected an integer from 0 to 1000000',
    );
    expectError(
      (x) => (x.performance.stages.router.venue_poll_us = -5),
      'configs/performance.yml: performance.stages.router.venue_poll_us is -5, expected an integer from 0 to 1000000',
    );
    expectError(
      (x) => (x.performance.stages.book.venue_poll_us = 10),
      'configs/performance.yml: performance.stages.book.venue_poll_us is an unknown key, expected one of cpu, burst, shards, cpus, warm_idle',
      'ERR_CONFIG_UNKNOWN_KEY',
    );
  });

  it('reads the router stage\'s keep-warm period (0 = off), only on the router', () => {
    const d = base();
    d.performance.stages.router.keep_warm_us = 200;
    expect(parse(d).stages.router.keepWarmMicros).to.equal(200);
    d.performance.stages.router.keep_warm_socket_us = 400;
    expect(parse(d).stages.router.keepWarmSocketMicros).to.equal(400);
    expectError(
      (x) => (x.performance.stages.router.keep_warm_socket_us = -1),
      'configs/performance.yml: performance.stages.router.keep_warm_socket_us is -1, expected an integer from 0 to 1000000',
    );
    expectError(
      (x) => (x.performance.stages.router.keep_warm_us = 2.5),
      'configs/performance.yml: performance.stages.router.keep_warm_us is 2.5, expected an integer from 0 to 1000000',
    );
    expectError(
      (x) => (x.performance.stages.strategy.keep_warm_us = 200),
      'configs/performance.yml: performance.stages.strategy.keep_warm_us is an unknown key, expected one of cpu, burst',
      'ERR_CONFIG_UNKNOWN_KEY',
    );
  });

  it('rejects unknown keys and missing stages', () => {
    expectError(
      (d) => (d.performance.stages.strategy.cpus = 0),
      'configs/performance.yml: performance.stages.strategy.cpus is an unknown key, expected one of cpu, burst',
      'ERR_CONFIG_UNKNOWN_KEY',
    );
    expectError(
      (d) => delete d.performance.stages.strategy,
      'configs/performance.yml: performance.stages.strategy is missing, expected a mapping with keys cpu, burst',
    );
  });

  it('reads book shards (default 1) and their CPUs; refuses shards fused with another stage and a CPU list of the wrong length', () => {
    expect([parse(base()).stages.book.shards, parse(base()).stages.book.shardCpus]).to.deep.equal([1, undefined]);
    const d = base();
    d.performance.fusion = [['decoder'], ['book'], ['strategy', 'router']];
    d.performance.stages.book.shards = 3;
    d.performance.stages.book.cpus = [0, 1, 0];
    const c = parse(d);
    expect([c.stages.book.shards, c.stages.book.shardCpus, c.workers]).to.deep.equal([3, [0, 1, 0], [['decoder'], ['book'], ['strategy', 'router']]]);
    expectError((x) => { x.performance.stages.book.shards = 2; }, 'configs/performance.yml: performance.stages.book.shards is 2, expected 1 while performance.fusion runs book with decoder, strategy, router on one worker (sharded books run on workers of their own)');
    expectError((x) => { x.performance.fusion = [['decoder'], ['book'], ['strategy', 'router']]; x.performance.stages.book.shards = 2; x.performance.stages.book.cpus = [0]; },
      'configs/performance.yml: performance.stages.book.cpus is [0], expected a list of 2 CPUs, one per book shard (shards is 2)');
    expectError((x) => { x.performance.stages.book.shards = 0; }, 'configs/performance.yml: performance.stages.book.shards is 0, expected an integer from 1 to 64');
  });

  it('validates fusion: every stage once, adjacent, one CPU per group', () => {
    expectError(
      (d) => (d.performance.fusion = [['decoder', 'strategy'], ['book', 'router']]),
      'configs/performance.yml: performance.fusion[0] is ["decoder","strategy"], expected adjacent stages in pipeline order (decoder -> book -> strategy -> router)',
    );
    expectError(
      (d) => (d.performance.fusion = [['decoder', 'book'], ['book', 'strategy', 'router']]),
      'configs/performance.yml: performance.fusion[1][0] is "book", expected each stage in one group only (already in performance.fusion[0])',
    );
    expectError(
      (d) => (d.performance.fusion = [['decoder', 'book', 'strategy']]),
      'configs/performance.yml: performance.fusion is [["decoder","book","strategy"]], expected every stage in some group (missing: router)',
    );
    expectError(
      (d) => (d.performance.stages.router.cpu = 1),
      'configs/performance.yml: performance.stages.router.cpu is 1, expected 0, the CPU of decoder, because performance.fusion[0] runs them on one worker',
    );
    expectError(
      (d) => (d.performance.fusion = [['decoder', 'book', 'rx']]),
      'configs/performance.yml: performance.fusion[0][2] is "rx", expected one of decoder, book, strategy, router',
    );
  });
});
