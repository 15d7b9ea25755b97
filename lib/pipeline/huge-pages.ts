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
