/**
 * Transparent huge pages for this process's anonymous memory (the V8 heap, the books' and the order
 * path's typed arrays and SharedArrayBuffers), by madvise from the addon (`adviseHugePages`,
 * dpdk-binding/src/hugepage_glue.cc), so the shipped run gets what `transparent_hugepage/enabled =
 * always` gave without changing a system-wide setting: the kernel's default mode, `madvise`,
 * honours the advice. Why: an order after ~20 ms of market data pays a page walk for most of the
 * dozens of 4 KiB pages it touches (the TLB holds a few thousand and the books sweep far more).
 *
 * Modes (performance.huge_pages): 'off'; 'advise' (MADV_HUGEPAGE: memory faulted in from now on in
 * 2 MiB-aligned ranges comes as huge pages, and khugepaged collapses the rest in the background);
 * 'collapse' (also MADV_COLLAPSE over what is already present, once, at start-up).
 *
 * What this cannot reach: code. V8's JIT code lives in 240 KiB rwx mappings with 16 KiB guard pages
 * between them (smaps of a perf:latency process after the collapse: every one at AnonHugePages 0),
 * so no 2 MiB range of it has one protection and neither this advice nor a later MADV_COLLAPSE can
 * make it huge. The embedded builtins (the interpreter's handlers, the IC stubs) run from a copy of
 * node's blob that V8 maps into each isolate's code range (1.6 MB, file-backed, one per thread with
 * an isolate: `--short-builtin-calls`, on with >= 4 GB of RAM), not from node's text; and this
 * kernel has no CONFIG_READ_ONLY_THP_FOR_FS, so file text cannot be collapsed in place either.
 * `node --use-largepages=on` (node's own remap at start) did take: 24 MiB of node's text at
 * AnonHugePages 24576 kB. Tried and not kept (`node [flags] dist/perf/latency.js --rates 100000
 * --seconds 2 --no-compare --no-shadow-compare --no-socket-compare --no-books-warm-compare
 * --venue-variants none --json`, alternated with the same build without, load 3.6-8.1, two other
 * benchmarks on the 2 vCPUs): md_to_send_call p50 lower in 14 of 23 pairs, dec_to_send_call in 13
 * of 23 (e.g. 9.75/14.80/14.54/11.48/13.99/12.92 us without against 13.78/16.98/11.02/12.22/
 * 13.09/12.36 with); `tickpath run --duration 12`, 4 pairs: md_to_send_call lower in 1,
 * dec_to_send_call in 3 (dec_to_send_call medians 19.4 against 21.5 us, load 4.9-7.5). With
 * `--no-short-builtin-calls` as well, so the builtins run from the huge text (checked: the
 * per-isolate copies are gone): perf:latency md_to_send_call lower in 5 of 13 pairs,
 * dec_to_send_call in 7 of 13; `tickpath run` 2 of 4 and 2 of 4. Neither separable from this
 * machine's spread; and most of the hot path's code (the JIT code, the addon, and the builtins
 * unless their copies are turned off) is not in node's text, which is all the flag moves. So the
 * bin does not re-execute itself with it.
 *
 * Threading contract: any thread, at start-up (it reads /proc/self/maps; the collapse copies memory:
 * 0.1-0.6 s on a quiet machine, seconds under load); it affects the whole process, every thread's
 * memory. The pipeline takes adviseHugePagesAsync: the work runs on a libuv pool thread, so the
 * event loop (the bundled run's venue simulators, the book mailbox, a FIX logon) is not held up.
 */
import { optionalAddonFunction } from '../binding/native';
import { invalidOption } from '../errors';

export type HugePageMode = 'off' | 'advise' | 'collapse';
export const kHugePageModes: readonly HugePageMode[] = ['off', 'advise', 'collapse'];

export interface HugePageAdvice {
  /** 2 MiB-aligned bytes advised, and bytes MADV_COLLAPSE made huge. */
  bytes: number;
  collapsed: number;
  regions: number;
  failed: number;
  errno: number;
}

type AdviseFn = (minBytes: number, collapse: boolean) => HugePageAdvice;
type AdviseAsyncFn = (minBytes: number, collapse: boolean, cb: (err: Error | null, r: HugePageAdvice) => void) => void;

/**
 * adviseHugePages on a libuv pool thread: resolves with what was done, or null for 'off' or without
 * the addon's function; rejects when /proc/self/maps cannot be read.
 */
export function adviseHugePagesAsync(mode: HugePageMode, minBytes = 2 << 20): Promise<HugePageAdvice | null> {
  if (!kHugePageModes.includes(mode)) return Promise.reject(invalidOption('performance', 'huge_pages', mode, "'off', 'advise' or 'collapse'"));
  if (mode === 'off') return Promise.resolve(null);
  const f = optionalAddonFunction<AdviseAsyncFn>('adviseHugePagesAsync');
  if (f === undefined) return Promise.resolve(null);
  return new Promise((resolve, reject) => f(minBytes, mode === 'collapse', (err, r) => (err ? reject(err) : resolve(r))));
}

/**
 * Advises every private anonymous mapping of at least `minBytes` (default 2 MiB). Returns what was
 * done, or null for 'off' or without the addon's function.
 */
export function adviseHugePages(mode: HugePageMode, minBytes = 2 << 20): HugePageAdvice | null {
  if (!kHugePageModes.includes(mode)) throw invalidOption('performance', 'huge_pages', mode, "'off', 'advise' or 'collapse'");
  if (mode === 'off') return null;
  const f = optionalAddonFunction<AdviseFn>('adviseHugePages');
  return f === undefined ? null : f(minBytes, mode === 'collapse');
}
