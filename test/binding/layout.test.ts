import { expect } from 'chai';
import { binding, kLayout } from '../../lib/binding';
import { kQueueCounter } from '../../lib/binding/layout';

describe('binding/layout', () => {
  it('mirrors every ring constant the addon exports', () => {
    const native = binding().layout as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(kLayout)) expect(native[k], k).to.equal(v);
    expect(Object.keys(native).sort()).to.deep.equal(Object.keys(kLayout).sort());
  });

  it('mirrors the queue counter list: same names, same indices, same order, and they fill the counters line', () => {
    const native = binding().queueCounters;
    expect(Object.entries(native)).to.deep.equal(Object.entries(kQueueCounter));
    expect(Object.keys(kQueueCounter)).to.have.length(kLayout.queueCounterCount);
    expect(kLayout.countersByte + 8 * kLayout.queueCounterCount).to.be.at.most(kLayout.ringHeaderBytes);
  });

  it('lists all five backends with install hints for the missing ones', () => {
    const names = binding().backends().map((b) => b.name);
    expect(names).to.deep.equal(['dpdk', 'af_xdp', 'af_packet', 'udp', 'pcap']);
    for (const b of binding().backends()) if (!b.compiledIn) expect(b.missing).to.match(/apt-get install/);
  });
});
