/**
 * The `cap` npm package (libpcap: one 'packet' event per packet, copied into a Buffer) as a
 * baseline receiver, in its own process: cap's addon frees a Buffer's memory with the wrong
 * allocator when the V8 isolate is torn down at exit (free(): invalid pointer under glibc's malloc
 * checker, a SIGSEGV in _dl_fini without it, in about one exit in five), so it must not share a
 * process with the code being measured.
 *
 *   node dist/perf/lib/cap-receiver.js IFACE BPF_FILTER
 * Prints `ready` once the capture is open (or one JSON line {"missing": reason} and exits 0 when
 * cap is not installed). Then `start` on stdin starts counting and `stop` prints one JSON line
 * {"packets": N, "seconds": S} and exits.
 */
import * as readline from 'readline';

type CapClass = new () => { open(dev: string, filter: string, size: number, buf: Buffer): string; on(ev: 'packet', cb: (n: number) => void): void; close(): void };

function main(): void {
  const [iface, filter] = process.argv.slice(2);
  let Cap: CapClass;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    Cap = require('cap').Cap;
  } catch (e) {
    console.log(JSON.stringify({ missing: `the cap package is not installed or not built (${(e as Error).message.split('\n')[0]}); npm ci builds it when package.json allowScripts permits` }));
    return;
  }
  const c = new Cap();
  const buf = Buffer.alloc(65535);
  c.open(iface, filter, 10 << 20, buf);
  let packets = 0, counting = false, sink = 0, t0 = 0n;
  c.on('packet', (n: number) => {
    if (!counting) return;
    packets++;
    sink += n + buf.readUInt32BE(42);
  });
  console.log('ready');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line === 'start') { counting = true; t0 = process.hrtime.bigint(); }
    if (line === 'stop') {
      counting = false;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      c.close();
      rl.close();
      if (sink === -1) console.error(sink);
      console.log(JSON.stringify({ packets, seconds }));
      // cap's capture handle keeps the loop alive after close(); the answer is out (stdout to a
      // pipe is synchronous on Linux), so leave now.
      process.exit(0);
    }
  });
}

main();
