/**
 * The native poller thread idles with the configured strategy (PortOptions.idle / idleOptions, the
 * same meaning as lib/common/idle-strategy.ts): on a quiet udp port (nothing ever arrives) a
 * spinning poller burns its core, a backing-off or yielding one parks and gives it back. Measured
 * as the CPU time of the poller thread itself, found by the name it gives itself.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import { Port, PortOptions } from '../../lib/binding';
import { TickpathError } from '../../lib/errors';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime, in clock ticks, of this process's threads named `name`. */
function threadTicks(name: string): number {
  let ticks = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== name) continue;
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);  // fields 14 and 15: utime, stime
    } catch { /* the thread exited */ }
  }
  return ticks;
}

async function pollerTicks(options: Partial<PortOptions>, ms: number): Promise<number> {
  const port = Port.open({ backend: 'udp', poller: 'thread', udp: { bind: '127.0.0.1', port: 0 }, ...options });
  try {
    port.start();
    await sleep(50);
    const t0 = threadTicks('tp-poll-q0');
    await sleep(ms);
    return threadTicks('tp-poll-q0') - t0;
  } finally {
    port.close();
  }
}

describe('binding/native poller idle strategy', function () {
  this.timeout(20_000);

  it('spin burns the core on a quiet port; backoff and yield with long parks give it back', async () => {
    // 500 ms at 100 ticks/s: a spinning thread gets up to 50 ticks (far fewer when other processes
    // share the cores); one parking 1 ms at a time wakes 500 times for a few microseconds each,
    // well under a tick. So: spin clearly above the parking ones, which stay near zero.
    const spin = await pollerTicks({ idle: 'spin' }, 500);
    const backoff = await pollerTicks({ idle: 'backoff', idleOptions: { maxSpins: 10, maxYields: 2, minParkMicros: 100, maxParkMicros: 1000 } }, 500);
    const yieldTicks = await pollerTicks({ idle: 'yield', idleOptions: { minParkMicros: 1000 } }, 500);
    const detail = JSON.stringify({ spin, backoff, yield: yieldTicks });
    expect(spin, detail).to.be.at.least(Math.max(5, 4 * Math.max(backoff, yieldTicks)));
    expect(backoff, detail).to.be.at.most(5);
    expect(yieldTicks, detail).to.be.at.most(5);
  });

  it('validates idle options in TypeScript, naming the option, the value and what was expected', () => {
    const base: PortOptions = { backend: 'udp', udp: { port: 0 } };
    const cases: [PortOptions['idleOptions'], RegExp][] = [
      [{ maxSpins: -1 }, /option 'idleOptions.maxSpins' is -1, expected an integer from 0 to 1000000/],
      [{ minParkMicros: 0 }, /option 'idleOptions.minParkMicros' is 0, expected a number in \(0, 1000000\]/],
      [{ minParkMicros: 100, maxParkMicros: 10 }, /option 'idleOptions.maxParkMicros' is 10, expected a number >= idleOptions.minParkMicros \(100\)/],
    ];
    for (const [idleOptions, msg] of cases) {
      expect(() => Port.open({ ...base, idle: 'backoff', idleOptions })).to.throw(TickpathError, msg).with.property('code', 'ERR_INVALID_OPTION');
    }
  });
});
