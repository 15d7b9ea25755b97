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
 * Threading contract: any thread, at start-up (it reads /proc/self/maps; the collapse copies memory
 * for a few ms to ~100 ms); it affects the whole process, every thread's memory.
 */
import { binding } from '../binding/native';
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

/** The addon's function, or undefined (an injected binding, or a build without it). */
function nativeAdvise(): AdviseFn | undefined {
  try {
    const b = binding() as unknown as { adviseHugePages?: AdviseFn };
    return typeof b.adviseHugePages === 'function' ? b.adviseHugePages.bind(b) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Advises every private anonymous mapping of at least `minBytes` (default 2 MiB). Returns what was
 * done, or null for 'off' or without the addon's function.
 */
export function adviseHugePages(mode: HugePageMode, minBytes = 2 << 20): HugePageAdvice | null {
  if (!kHugePageModes.includes(mode)) throw invalidOption('performance', 'huge_pages', mode, "'off', 'advise' or 'collapse'");
  if (mode === 'off') return null;
  const f = nativeAdvise();
  return f === undefined ? null : f(minBytes, mode === 'collapse');
}
