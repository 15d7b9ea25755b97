/** Worker for agent-runner.test: a ring-consuming agent run until the test asks it to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { AgentRunner, type Agent } from '../../../lib/common/agent-runner';
import { BackoffIdleStrategy } from '../../../lib/common/idle-strategy';
import { SpscRing } from '../../../lib/common/spsc-ring';

if (parentPort) {
  const { ring: sab, control } = workerData as { ring: SharedArrayBuffer; control: SharedArrayBuffer };
  const ring = SpscRing.attach(sab);
  let sum = 0;
  let count = 0;
  let closed = false;
  const onRecord = (off: number): void => {
    sum += ring.i32[off >> 2];
    count++;
  };
  const agent: Agent = {
    roleName: 'summer',
    doWork: () => ring.read(onRecord, 64),
    onClose: () => {
      closed = true;
    },
  };
  const turns = new AgentRunner(agent, new BackoffIdleStrategy({ maxParkMicros: 500 }), control).run();
  parentPort.postMessage({ sum, count, turns, closed });
}
