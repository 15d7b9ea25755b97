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
    const before = { ...counter.sample() };
    now = 5000;
    for (let i = 0; i < 3; i++) forceGc();
    const afterMajor = { ...counter.sample() };
    expect(afterMajor.major - before.major).to.equal(3);
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
    const start = counter.sample().major;
    for (let i = 0; i < 20; i++) { forceGc(); counter.sample(); }
    expect(counter.close().major - start).to.equal(20);
  });
});
