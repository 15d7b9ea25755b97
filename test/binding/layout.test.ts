import { expect } from 'chai';
import { binding, kLayout } from '../../lib/binding';

describe('binding/layout', () => {
  it('mirrors every ring constant the addon exports', () => {
    const native = binding().layout as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(kLayout)) expect(native[k], k).to.equal(v);
    expect(Object.keys(native).sort()).to.deep.equal(Object.keys(kLayout).sort());
  });

  it('lists all five backends with install hints for the missing ones', () => {
    const names = binding().backends().map((b) => b.name);
    expect(names).to.deep.equal(['dpdk', 'af_xdp', 'af_packet', 'udp', 'pcap']);
    for (const b of binding().backends()) if (!b.compiledIn) expect(b.missing).to.match(/apt-get install/);
  });
});
