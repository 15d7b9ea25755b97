import { expect } from 'chai';
import * as v8 from 'v8';
import * as vm from 'vm';
import { GcCounter } from '../../lib/pipeline/gc-counts';

// A real collector, forced: gc() from a fresh context once --expose-gc is set at run time.
v8.setFlagsFromString('--expose-gc');
const forceGc = vm.runInNewContext('gc') as (o?: { type: 'major' | 'minor' }) => void;

for (const native of [true, false]) describe(`GcCounter (${native ? "the addon's GC epilogue" : 'v8.GCProfiler'})`, function () {
  this.timeout(20000);

  it('counts each forced major and minor GC once, stamped with the injected clock, and nothing after close', () => {
    let now = 1000;
    const counter = new GcCounter(() => now, native);
    expect(counter.source).to.equal(native ? 'native' : 'gc-profiler');
    // V8 may finish a major GC of its own in the window (incremental marking started earlier, the
    // memory reducer): the reference is V8's own GCProfiler over the same window, not the number forced.
    const ref = new v8.GCProfiler();
    const before = { ...counter.sample() };
    ref.start();
    now = 5000;
    for (let i = 0; i < 3; i++) forceGc();
    const afterMajor = { ...counter.sample() };
    const majors = ref.stop().statistics.filter((s) => s.gcType === 'MarkSweepCompact').length;
    expect(majors, 'major GCs in the window by V8').to.be.at.least(3);
    expect(afterMajor.major - before.major, 'each major GC counted once').to.equal(majors);
    expect(afterMajor.lastMajorAtNs).to.equal(5000);
    for (let i = 0; i < 4; i++) forceGc({ type: 'minor' });
    const afterMinor = { ...counter.sample() };
    expect(afterMinor.minor - afterMajor.minor).to.be.at.least(4);
    expect(afterMinor.major).to.equal(afterMajor.major);
    const closed = { ...counter.close() };
    forceGc();
    expect(counter.sample()).to.deep.equal(closed);
  });

  it('loses no GC across samples: a major between every pair of reads is counted every time', () => {
    const counter = new GcCounter(() => 0, native);
    const ref = new v8.GCProfiler();
    const start = counter.sample().major;
    ref.start();
    for (let i = 0; i < 20; i++) { forceGc(); counter.sample(); }
    const end = counter.close().major;
    const majors = ref.stop().statistics.filter((s) => s.gcType === 'MarkSweepCompact').length;
    expect(majors).to.be.at.least(20);
    expect(end - start).to.equal(majors);
  });
});
