import { expect } from 'chai';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ManualClock } from '../../lib/common/clock';
import {
  LogDrain,
  LogEventTable,
  Logger,
  formatEpochTime,
  kLogLevelDebug,
  kLogLevelWarn,
} from '../../lib/common/logger';
import { TEST_LOG_EVENTS } from './helpers/log-events';
import { workerResult } from '../helpers/worker-result';

describe('Logger', () => {
  const table = new LogEventTable(TEST_LOG_EVENTS);
  const kGap = table.idOf('feed.gap');

  it('formats records in order with level, event name, time and arguments', () => {
    const ring = Logger.createRing(16);
    const clock = new ManualClock(123_456_000);
    const logger = new Logger(ring, { clock, level: kLogLevelDebug });
    const lines: string[] = [];
    const drain = new LogDrain(ring, table, { sink: (l) => lines.push(l), epochOffsetMs: 1_700_000_000_000 });
    logger.warn(kGap, 1, 1000, 1005);
    clock.advance(1_000);
    logger.debug(kGap, 2, 7, 9.5);
    expect(drain.drainAll()).to.equal(2);
    expect(lines).to.deep.equal([
      '2023-11-14T22:13:20.123456Z WARN  feed.gap gap on line 1: expected 1000, got 1005',
      '2023-11-14T22:13:20.123457Z DEBUG feed.gap gap on line 2: expected 7, got 9.5',
    ]);
  });

  it('filters below its level before touching the ring', () => {
    const ring = Logger.createRing(4);
    const logger = new Logger(ring, { level: kLogLevelWarn });
    expect(logger.info(kGap, 1, 2, 3)).to.equal(false);
    expect(ring.size()).to.equal(0);
    expect(logger.error(kGap, 1, 2, 3)).to.equal(true);
    expect(ring.size()).to.equal(1);
  });

  it('drops and counts records when the ring is full instead of blocking', () => {
    const ring = Logger.createRing(4);
    const logger = new Logger(ring);
    for (let i = 0; i < 6; i++) logger.info(kGap, i, 0, 0);
    expect(logger.dropped).to.equal(2);
    const lines: string[] = [];
    new LogDrain(ring, table, { sink: (l) => lines.push(l), epochOffsetMs: 0 }).drainAll();
    expect(lines.map((l) => /line (\d+):/.exec(l)?.[1])).to.deep.equal(['0', '1', '2', '3']);
  });

  it('rejects duplicate event names and placeholders beyond {3}', () => {
    expect(() => new LogEventTable([{ name: 'a', template: '' }, { name: 'a', template: '' }])).to.throw(
      "LogEventTable: event name 'a' appears twice, expected unique names",
    );
    expect(() => new LogEventTable([{ name: 'a', template: 'x {4}' }])).to.throw(
      "LogEventTable: event 'a' uses {4}, expected placeholders {0} to {3}",
    );
  });

  it('formats ISO time with microseconds', () => {
    expect(formatEpochTime(0, 0)).to.equal('1970-01-01T00:00:00.000000Z');
    expect(formatEpochTime(1_700_000_000_001, 999_999)).to.equal('2023-11-14T22:13:20.001999Z');
  });

  it('delivers 200,000 records from a worker thread to a timer drain on this thread, formatted and in order', async function () {
    this.timeout(20_000);
    const count = 200_000;
    const ring = Logger.createRing(1024);
    const lines: string[] = [];
    const drain = new LogDrain(ring, table, { sink: (l) => lines.push(l), epochOffsetMs: 0 });
    drain.start(1);
    const worker = new Worker(path.join(__dirname, 'helpers', 'logger-worker.js'), {
      workerData: { sab: ring.sab, count },
    });
    await workerResult(worker, { name: 'logger worker' });
    drain.stop();
    expect(lines).to.have.length(count);
    for (let i = 0; i < count; i += 1) {
      const expected = `${formatEpochTime(Math.floor(i / 1000), (i % 1000) * 1000)} INFO  test.tick seq=${i} double=${i * 2} neg=${-i} half=${i + 0.5}`;
      if (lines[i] !== expected) expect(lines[i]).to.equal(expected);
    }
  });
});
