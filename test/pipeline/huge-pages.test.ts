import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parsePerformanceConfig } from '../../lib/config/performance-config';
import { adviseHugePages } from '../../lib/pipeline/huge-pages';
import { TickpathError } from '../../lib/errors';

// dist/test/pipeline -> repository root
const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kModule = path.join(kRoot, 'dist', 'lib', 'pipeline', 'huge-pages.js');

function thpMode(): string {
  try { return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? ''; } catch { return ''; }
}

/**
 * performance.huge_pages: the addon's madvise over the process's anonymous memory (huge-pages.ts,
 * hugepage_glue.cc). Checked against the kernel's own count (AnonHugePages in smaps_rollup) in a
 * child process, so this one's memory is left alone, and through `tickpath run`.
 */
describe('pipeline/huge pages (performance.huge_pages)', () => {
  // A child that faults in 64 MiB of a typed array, then runs adviseHugePages(mode) and prints its
  // AnonHugePages (kB) before and after, and what the call returned.
  const child = (mode: string): { before: number; after: number; r: { collapsed: number; bytes: number } | null } => {
    const code = `
      const { adviseHugePages } = require(${JSON.stringify(kModule)});
      const fs = require('fs');
      const anonHuge = () => Number(/AnonHugePages:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);
      const a = new Uint8Array(64 << 20);
      for (let i = 0; i < a.length; i += 4096) a[i] = 1;
      const before = anonHuge();
      const r = adviseHugePages(process.argv[1]);
      console.log(JSON.stringify({ before, after: anonHuge(), r }));`;
    const out = spawnSync(process.execPath, ['-e', code, mode], { encoding: 'utf8', timeout: 60000 });
    expect(out.status, out.stderr).to.equal(0);
    return JSON.parse(out.stdout);
  };

  it("'collapse' turns the process's faulted-in memory into huge pages now (the kernel's AnonHugePages grows by at least the 64 MiB array's aligned part)", function () {
    if (thpMode() === 'never' || thpMode() === '') this.skip();     // the doctor warns about exactly this
    const { before, after, r } = child('collapse');
    expect(r!.collapsed).to.be.at.least(60 << 20);
    expect(after - before, 'AnonHugePages kB').to.be.at.least(60 * 1024);
  });

  it("adviseHugePagesAsync (what the pipeline runs) collapses the same memory on a pool thread while this thread's event loop keeps turning", function () {
    if (thpMode() === 'never' || thpMode() === '') this.skip();
    const code = `
      const { adviseHugePagesAsync } = require(${JSON.stringify(kModule)});
      const fs = require('fs');
      const anonHuge = () => Number(/AnonHugePages:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);
      const a = new Uint8Array(128 << 20);
      for (let i = 0; i < a.length; i += 4096) a[i] = 1;
      const before = anonHuge();
      let turns = 0, spinning = true;
      const spin = () => { turns++; if (spinning) setImmediate(spin); };
      setImmediate(spin);
      adviseHugePagesAsync('collapse').then((r) => { spinning = false; console.log(JSON.stringify({ before, after: anonHuge(), r, turns })); });`;
    const out = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60000 });
    expect(out.status, out.stderr).to.equal(0);
    const { before, after, r, turns } = JSON.parse(out.stdout) as { before: number; after: number; r: { collapsed: number }; turns: number };
    expect(r.collapsed).to.be.at.least(120 << 20);
    expect(after - before, 'AnonHugePages kB').to.be.at.least(120 * 1024);
    // Copying 128 MiB takes tens of ms at least: a call that ran on this thread would leave the loop
    // one or two turns, not dozens.
    expect(turns, 'event loop turns while the collapse ran').to.be.greaterThan(20);
  });

  it("'off' does nothing: no call, no huge pages made", () => {
    const { before, after, r } = child('off');
    expect(r).to.equal(null);
    expect(after).to.equal(before);
  });

  it('a mode that is not off, advise or collapse is refused with the option named', () => {
    expect(() => adviseHugePages('sometimes' as 'off')).to.throw(TickpathError, "performance: option 'huge_pages' is \"sometimes\", expected 'off', 'advise' or 'collapse'");
    const shipped = fs.readFileSync(path.join(kRoot, 'configs', 'performance.yml'), 'utf8');
    expect(() => parsePerformanceConfig(shipped.replace(/huge_pages: \w+/, 'huge_pages: always'), 'performance.yml', { cpuCount: 2 }))
      .to.throw(/performance\.huge_pages is "always", expected one of off, advise, collapse/);
    expect(parsePerformanceConfig(shipped, 'performance.yml', { cpuCount: 2 }).hugePages).to.equal('collapse');
    expect(parsePerformanceConfig(shipped.replace(/\n {2}huge_pages: \w+/, '\n  # none'), 'performance.yml', { cpuCount: 2 }).hugePages).to.equal('off');
  });

  it('tickpath run (the shipped config) makes its memory huge before RX starts, and says how much', async function () {
    if (thpMode() === 'never' || thpMode() === '') this.skip();
    this.timeout(60000);
    const out = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [kCli, 'run', '--duration', '2', '--metrics-port', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (b: Buffer) => { text += b.toString(); });
      p.stderr.on('data', (b: Buffer) => { text += b.toString(); });
      p.on('exit', () => resolve(text));
    });
    const m = /huge pages \(performance\.huge_pages: collapse\): (\d+) MiB made huge in \d+ ms\n/.exec(out);
    expect(m, out.slice(0, 3000)).to.not.equal(null);
    expect(Number(m![1])).to.be.greaterThan(16);
    expect(out.indexOf(m![0]), 'before the feed flows').to.be.lessThan(out.indexOf('pipeline: RX started'));
    expect(out).to.match(/orders: sent \d+/);
  });
});


