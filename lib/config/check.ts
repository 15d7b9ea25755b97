/**
 * `tickpath config check DIR`: the three config files validated together, before anything
 * starts. Each file is read with the same ConfigReader its loader uses, so the check and the
 * loaders can never disagree; then the rules that span files or need the machine are checked:
 * the journal can be written, the CPUs exist, and the EAL arguments the binding would build from
 * feed_config.yml and performance.yml are ones the EAL accepts. Every problem is reported, not
 * just the first. Reads files only: opens no port, socket, journal or worker.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dpdkEalArgs } from '../binding/dpdk-args';
import { routingConfigFrom, type RoutingConfig } from '../router/routing-config';
import { nativeTcpBinding } from '../protocols/transport/native-tcp-transport';
import { ConfigReader, type ConfigProblem } from './config-reader';
import { feedConfigFrom, type FeedConfig } from './feed-config';
import { performanceConfigFrom, type PerformanceConfig } from './performance-config';
import { portOptionsFrom } from './port-options';

export const kConfigFiles = { feed: 'feed_config.yml', performance: 'performance.yml', routing: 'routing_config.yml' } as const;

export interface ConfigCheckOptions {
  /** CPUs on the machine that will run the configs (default: this host's). */
  cpuCount?: number;
}

export interface ConfigCheckResult {
  dir: string;
  files: string[];
  problems: ConfigProblem[];
  /** The loaded configs, when there are no problems. */
  configs: { feed: FeedConfig; performance: PerformanceConfig; routing: RoutingConfig } | undefined;
}

export function checkConfigDir(dir: string, options: ConfigCheckOptions = {}): ConfigCheckResult {
  const cpuCount = options.cpuCount ?? os.availableParallelism();
  const files = [kConfigFiles.feed, kConfigFiles.performance, kConfigFiles.routing].map((f) => path.join(dir, f));
  const [fr, pr, rr] = files.map((f) => ConfigReader.read(f));
  const feed = feedConfigFrom(fr);
  const performance = performanceConfigFrom(pr, { cpuCount });
  const routing = routingConfigFrom(rr);

  if (!rr.failed('routing.journal.path')) checkJournalWritable(rr, routing.journal.path);
  checkVenueTransports(rr, routing);
  if (feed.fast && pr.ok && performance.stages.book.shards > 1) {
    pr.problem('performance.stages.book.shards', performance.stages.book.shards,
      '1 with feed.protocol moex-fast (FAST books are built by the decoder as it decodes, so they cannot be sharded behind it)',
      'set performance.stages.book.shards: 1 for a FAST feed');
  }
  if (feed.dpdk && !fr.failed('feed.dpdk')) {
    checkLcores(fr, feed.dpdk.eal.lcores, cpuCount);
    if (pr.ok) checkEalArgs(fr, feed, performance);
  }

  const problems = [...fr.problems, ...pr.problems, ...rr.problems];
  return { dir, files, problems, configs: problems.length === 0 ? { feed, performance, routing } : undefined };
}

/** A venue that insists on the native transport needs the addon's TCP channel on this machine. */
function checkVenueTransports(r: ConfigReader, routing: RoutingConfig): void {
  if (!Array.isArray(routing.venues) || nativeTcpBinding()) return;
  routing.venues.forEach((v, i) => {
    if (v.transport === 'native' && !r.failed(['routing', 'venues', i, 'transport'])) {
      r.problem(['routing', 'venues', i, 'transport'], v.transport, "'auto' or 'libuv' (the addon's TCP channel is not built here)",
        "npm run build:native, or transport: auto to fall back to libuv");
    }
  });
}

/** `file:line: message` and the fix on the next line, one problem after another. */
export function formatCheck(result: ConfigCheckResult): string {
  const out: string[] = [];
  for (const p of result.problems) out.push(p.message, `    fix: ${p.fix}`);
  const n = result.problems.length;
  const names = result.files.map((f) => path.basename(f)).join(', ');
  out.push(n === 0 ? `${result.dir}: ${names}: no problems` : `${result.dir}: ${n} problem${n === 1 ? '' : 's'} in ${names}`);
  return out.join('\n');
}

/**
 * The router opens (and creates) the journal when it starts, after the feed is up: a journal it
 * cannot write would stop the run then. Checked here from the nearest existing directory.
 */
function checkJournalWritable(r: ConfigReader, file: string): void {
  const at = 'routing.journal.path';
  const value = (r.root as { routing?: { journal?: { path?: unknown } } }).routing?.journal?.path;
  const fix = 'point routing.journal.path at a writable directory on a local disk (relative paths start at this file)';
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return r.problem(at, value, `a file the router can write (${file} is not a regular file)`, fix);
    fs.accessSync(file, fs.constants.W_OK);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return r.problem(at, value, `a file the router can write (${file}: ${code})`, fix);
  }
  // Not there yet: the router creates it and its missing parent directories.
  let dir = path.dirname(file);
  for (;;) {
    try {
      if (!fs.statSync(dir).isDirectory()) {
        return r.problem(at, value, `a file the router can create (${dir} is not a directory)`, fix);
      }
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(dir) === dir) {
        return r.problem(at, value, `a file the router can create (${dir}: ${code})`, fix);
      }
      dir = path.dirname(dir);
    }
  }
}

/** Every CPU named in an EAL --lcores map ("0@(0-1),1@1") must exist. */
function checkLcores(r: ConfigReader, lcores: string | undefined, cpuCount: number): void {
  if (!lcores) return;
  const cpus = new Set<number>();
  for (const m of lcores.matchAll(/@\(?([0-9,\-]+)\)?/g)) {
    for (const part of m[1].split(',').filter(Boolean)) {
      const [a, b] = part.split('-').map(Number);
      for (let c = a; c <= (b ?? a); c++) cpus.add(c);
    }
  }
  const missing = [...cpus].filter((c) => c >= cpuCount);
  if (missing.length > 0) {
    r.problem('feed.dpdk.eal.lcores', lcores, `lcores on CPUs from 0 to ${cpuCount - 1} (CPU ${missing.join(', ')} does not exist here)`,
      'use CPUs this machine has, or leave lcores unset to derive it from performance.stages.rx.cpu');
  }
}

/**
 * Option pairs rte_eal_init refuses (DPDK's eal_check_common_options); --no-huge counts as
 * --legacy-mem because the EAL sets legacy memory mode for it.
 */
const kEalConflicts: [string, string][] = [
  ['--legacy-mem', '--in-memory'],
  ['--legacy-mem', '--match-allocations'],
  ['--no-huge', '--match-allocations'],
  ['--no-huge', '--socket-mem'],
  ['--no-huge', '--huge-unlink'],
  ['--no-huge', '--huge-worker-stack'],
  ['--single-file-segments', '--huge-unlink'],
  ['-m', '--socket-mem'],
  ['--legacy-mem', '--socket-limit'],
];

/** Pairs in `args` that rte_eal_init refuses, as [option, option it refuses it with, why]. */
export function ealArgConflicts(args: readonly string[]): [string, string, string][] {
  const flags = new Set(args.filter((a) => a.startsWith('-')).map((a) => a.split('=')[0]));
  const legacyImplied = flags.has('--no-huge') && !flags.has('--legacy-mem');
  if (flags.has('--no-huge')) flags.add('--legacy-mem');
  const out: [string, string, string][] = [];
  for (const [a, b] of kEalConflicts) {
    if (!flags.has(a) || !flags.has(b)) continue;
    if (a === '--legacy-mem' && legacyImplied && flags.has('--no-huge') && kEalConflicts.some(([x, y]) => x === '--no-huge' && y === b)) continue;
    out.push([a, b, `the EAL refuses ${a}${a === '--legacy-mem' && legacyImplied ? ' (implied by --no-huge)' : ''} with ${b}`]);
  }
  return out;
}

/** The EAL arguments lib/binding would pass for this config, checked for pairs the EAL refuses. */
function checkEalArgs(r: ConfigReader, feed: FeedConfig, performance: PerformanceConfig): void {
  const at = 'feed.dpdk.eal';
  const eal = (r.root as { feed?: { dpdk?: { eal?: unknown } } }).feed?.dpdk?.eal;
  let args: string[];
  try {
    args = dpdkEalArgs(portOptionsFrom(feed, performance).dpdk!);
  } catch (err) {
    return r.problem(at, eal, `options lib/binding can turn into EAL arguments (${(err as Error).message})`);
  }
  for (const [a, b, why] of ealArgConflicts(args)) {
    r.problem(at, eal, `options the EAL accepts together, but ${why} (arguments: ${args.join(' ')})`,
      a === '--legacy-mem' && b === '--in-memory'
        ? 'set in_memory: false (without hugepages there are no hugepage files to keep in memory), or use hugepages (no_huge: false)'
        : `drop ${a} or ${b}`);
  }
}
