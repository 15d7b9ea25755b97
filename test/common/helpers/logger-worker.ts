/** Worker for logger.test: a hot loop that logs through a ring it attached. */
import { parentPort, workerData } from 'node:worker_threads';
import { SpscRing } from '../../../lib/common/spsc-ring';
import { Logger, LogEventTable } from '../../../lib/common/logger';
import { ManualClock } from '../../../lib/common/clock';
import { TEST_LOG_EVENTS } from './log-events';

if (parentPort) {
  const { sab, count } = workerData as { sab: SharedArrayBuffer; count: number };
  const table = new LogEventTable(TEST_LOG_EVENTS);
  const clock = new ManualClock(0);
  const logger = new Logger(SpscRing.attach(sab), { clock });
  const kTick = table.idOf('test.tick');
  const park = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    clock.set(i * 1000);
    // A real hot path would drop on full; the test wants every record, so it waits instead.
    while (!logger.info(kTick, i, i * 2, -i, i + 0.5)) {
      logger.dropped--;
      Atomics.wait(park, 0, 0, 0.05);
    }
  }
  parentPort.postMessage('done');
}
