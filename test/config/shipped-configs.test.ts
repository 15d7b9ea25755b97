import { expect } from 'chai';
import * as path from 'node:path';
import { loadConfigs, portOptionsFrom } from '../../lib/config';
import { nativeOptions } from '../../lib/binding/port';

// dist/test/config -> repository root
const kRoot = path.resolve(__dirname, '..', '..', '..');

describe('shipped configs (configs/*.yml)', () => {
  it('load on a 2-core machine: pcap replay of the vendored capture, RX on CPU 1, JS stages fused on CPU 0', () => {
    const { feed, performance } = loadConfigs(path.join(kRoot, 'configs'), { cpuCount: 2 });
    expect(feed.backend).to.equal('pcap');
    expect(feed.pcap?.file).to.equal(
      path.join(kRoot, 'test/fixtures/itch/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap'),
    );
    expect(feed.lines.map((l) => `${l.name} ${l.group}:${l.port}`)).to.deep.equal([
      'A 233.54.12.111:26477',
      'B 233.49.196.111:26477',
    ]);
    expect(feed.moldudp64.sessions).to.deep.equal(['000010059B']);
    expect(performance.stages.rx.cpu).to.equal(1);
    expect(performance.workers).to.deep.equal([['decoder', 'book', 'strategy', 'router']]);
    expect(performance.stages.decoder.cpu).to.equal(0);
  });

  it('translate into port options that lib/binding accepts for the chosen backend', () => {
    const { feed, performance } = loadConfigs(path.join(kRoot, 'configs'), { cpuCount: 2 });
    const options = portOptionsFrom(feed, performance);
    expect(options.backend).to.equal('pcap');
    expect(options.rxCpus).to.deep.equal([1]);
    const native = nativeOptions('pcap', options);
    expect(native.file).to.equal(feed.pcap?.file);
    expect(native.pace).to.equal('fast');
    expect(native.ring_size).to.equal('65536'); // sized for performance.burst (tickpath doctor --config checks it)
    // The native poller idles as performance.idle says, parameters included.
    expect(native).to.include({ idle: 'backoff', idle_max_spins: '100', idle_max_yields: '10', idle_min_park_ns: '1000', idle_max_park_ns: '1000000' });
    // The dpdk section (pcap vdev, no hugepages, in memory) is valid for the binding too, and for
    // the EAL: --no-huge means legacy memory, which the EAL refuses with --in-memory, so in-memory
    // without hugepages is asked for as --no-shconf.
    const eal = nativeOptions('dpdk', options).eal_args.split('\n');
    expect(eal).to.include.members(['--no-huge', '-m', '256', '--no-shconf', '--no-pci']);
    expect(eal).to.not.include('--in-memory');
  });
});
