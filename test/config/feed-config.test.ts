import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { Port } from '../../lib/binding';
import { loadFeedConfig, parseFeedConfig } from '../../lib/config/feed-config';
import { parsePerformanceConfig } from '../../lib/config/performance-config';
import { portOptionsFrom } from '../../lib/config/port-options';
import { TickpathError } from '../../lib/errors';
import { makeFrames, pcapBytes } from '../helpers/pcap-writer';

const kFile = '/etc/tickpath/feed.yml';

function base(): any {
  return {
    feed: {
      backend: 'udp',
      udp: { interface: '127.0.0.1' },
      lines: [
        { name: 'A', group: '233.54.12.111', port: 26477 },
        { name: 'B', group: '233.49.196.111', port: 26477 },
      ],
    },
  };
}

function parse(doc: unknown) {
  return parseFeedConfig(YAML.stringify(doc), kFile, { checkFiles: false });
}

/**
 * `message` is the error without its line number and fix: `file: path is value, expected ...`.
 * Checks the code, the whole message, that a fix is given and that the line number points at the
 * line of the path's last key (for a missing value: a line inside its parent).
 */
function expectError(mutate: (d: any) => void, message: string, code = 'ERR_CONFIG_INVALID'): void {
  const doc = base();
  mutate(doc);
  const text = YAML.stringify(doc);
  let caught: TickpathError | undefined;
  try {
    parseFeedConfig(text, kFile, { checkFiles: false });
  } catch (e) {
    caught = e as TickpathError;
  }
  expect(caught, 'expected the config to be refused').to.be.instanceOf(TickpathError);
  expect(caught!.code).to.equal(code);
  const m = /^([^:]+):(\d+): (.*?)(?: \(and \d+ more problems?: [^)]*\))? \(fix: (.+)\)$/.exec(caught!.message);
  expect(m, caught!.message).to.not.equal(null);
  expect(`${m![1]}: ${m![3]}`).to.equal(message);
  expect(caught!.fix).to.equal(m![4]);
  const line = text.split('\n')[Number(m![2]) - 1];
  const key = /^[^:]+: (?:\S+\.)?([a-z_]+) is (?!missing)/.exec(message);
  if (key) expect(line, `line ${m![2]} of:\n${text}`).to.contain(`${key[1]}:`);
}

describe('feed config', () => {
  it('reads a minimal udp config into typed values with defaults', () => {
    const c = parse(base());
    expect(c.backend).to.equal('udp');
    expect(c.udp).to.deep.equal({ interface: '127.0.0.1', source: undefined, bind: undefined, rcvbuf: undefined });
    expect(c.lines[1]).to.deep.equal({ name: 'B', group: '233.49.196.111', port: 26477, source: undefined });
    expect(c.dpdk).to.equal(undefined);
    expect(c.moldudp64.sessions).to.deep.equal([]);
  });

  it('reads dpdk EAL options and resolves vdev pcap files against the config directory', () => {
    const doc = base();
    doc.feed.backend = 'dpdk';
    doc.feed.dpdk = {
      eal: { no_huge: true, memory_mb: 128, vdevs: ['net_pcap0,rx_pcap=caps/a.pcap,infinite_rx=0'], pci_allow: ['0000:03:00.0'], file_prefix: 'tp', in_memory: false },
      port: 'net_pcap0',
      rx_queues: 2,
    };
    const c = parse(doc);
    expect(c.dpdk).to.deep.equal({
      eal: {
        lcores: undefined,
        inMemory: false,
        filePrefix: 'tp',
        noHuge: true,
        memoryMb: 128,
        vdevs: ['net_pcap0,rx_pcap=/etc/tickpath/caps/a.pcap,infinite_rx=0'],
        pciAllow: ['0000:03:00.0'],
      },
      port: 'net_pcap0',
      rxQueues: 2,
      mbufs: 8191,
      promiscuous: false,
    });
  });

  it('names file, path, value and expectation for a bad line port', () => {
    expectError(
      (d) => (d.feed.lines[1].port = 70000),
      '/etc/tickpath/feed.yml: feed.lines[1].port is 70000, expected an integer from 1 to 65535',
    );
  });

  it('rejects unknown keys at every level', () => {
    expectError(
      (d) => (d.feed.lines[0].grp = '1.2.3.4'),
      '/etc/tickpath/feed.yml: feed.lines[0].grp is an unknown key, expected one of name, group, port, source',
      'ERR_CONFIG_UNKNOWN_KEY',
    );
    expectError(
      (d) => (d.feed.backnd = 'udp'),
      '/etc/tickpath/feed.yml: feed.backnd is an unknown key, expected one of backend, dpdk, af_xdp, af_packet, udp, pcap, lines, rerequest, moldudp64, protocol, fast, line_wait_ms',
      'ERR_CONFIG_UNKNOWN_KEY',
    );
    expectError(
      (d) => (d.extra = 1),
      '/etc/tickpath/feed.yml: extra is an unknown key, expected one of feed',
      'ERR_CONFIG_UNKNOWN_KEY',
    );
  });

  it('rejects a backend name it does not know and a missing backend section', () => {
    expectError(
      (d) => (d.feed.backend = 'netmap'),
      '/etc/tickpath/feed.yml: feed.backend is "netmap", expected one of dpdk, af_xdp, af_packet, udp, pcap, auto',
    );
    expectError(
      (d) => (d.feed.backend = 'pcap'),
      "/etc/tickpath/feed.yml: feed.pcap is missing, expected a mapping of pcap options because feed.backend is 'pcap'",
    );
  });

  it('checks multicast groups, duplicate lines and the number of lines', () => {
    expectError(
      (d) => (d.feed.lines[0].group = '10.1.2.3'),
      '/etc/tickpath/feed.yml: feed.lines[0].group is "10.1.2.3", expected an IPv4 multicast group from 224.0.0.0 to 239.255.255.255',
    );
    expectError(
      (d) => (d.feed.lines[1].name = 'A'),
      '/etc/tickpath/feed.yml: feed.lines[1].name is "A", expected a name not used by feed.lines[0]',
    );
    expectError(
      (d) => (d.feed.lines = []),
      '/etc/tickpath/feed.yml: feed.lines is [], expected a list of 1 to 4 feed lines (A, B) with name, group and port',
    );
    expectError(
      (d) => delete d.feed.lines[0].port,
      '/etc/tickpath/feed.yml: feed.lines[0].port is missing, expected an integer from 1 to 65535',
    );
  });

  it('requires memory_mb with no_huge, a known vdev name for a net_ port and well-formed PCI addresses', () => {
    expectError(
      (d) => {
        d.feed.backend = 'dpdk';
        d.feed.dpdk = { eal: { no_huge: true }, port: '0' };
      },
      '/etc/tickpath/feed.yml: feed.dpdk.eal.memory_mb is missing, expected an integer from 64 to 1048576 when feed.dpdk.eal.no_huge is true (EAL -m)',
    );
    expectError(
      (d) => {
        d.feed.backend = 'dpdk';
        d.feed.dpdk = { eal: { vdevs: ['net_null0'] }, port: 'net_pcap0' };
      },
      '/etc/tickpath/feed.yml: feed.dpdk.port is "net_pcap0", expected the name of a vdev in feed.dpdk.eal.vdevs (have: net_null0)',
    );
    expectError(
      (d) => {
        d.feed.backend = 'dpdk';
        d.feed.dpdk = { eal: { pci_allow: ['03:00.0'] }, port: 0 };
      },
      '/etc/tickpath/feed.yml: feed.dpdk.eal.pci_allow[0] is "03:00.0", expected a PCI address such as "0000:03:00.0"',
    );
  });

  it('checks pcap pace and af_xdp options', () => {
    expectError(
      (d) => (d.feed.pcap = { file: 'a.pcap', pace: 'slow' }),
      '/etc/tickpath/feed.yml: feed.pcap.pace is "slow", expected fast, recorded or a positive speed multiple such as 2.5',
    );
    expectError(
      (d) => (d.feed.af_xdp = { interface: 'eth0', mode: 'skb' }),
      '/etc/tickpath/feed.yml: feed.af_xdp.mode is "skb", expected one of auto, native, generic',
    );
    const doc = base();
    doc.feed.pcap = { file: 'a.pcap', pace: 2.5, loops: 0 };
    expect(parse(doc).pcap).to.deep.equal({ file: '/etc/tickpath/a.pcap', pace: 2.5, loops: 0, allowTruncated: false });
  });

  it('checks MoldUDP64 session names and the re-request server', () => {
    expectError(
      (d) => (d.feed.moldudp64 = { sessions: [100591] }),
      '/etc/tickpath/feed.yml: feed.moldudp64.sessions[0] is 100591, expected a quoted string of 1 to 10 printable ASCII characters such as "000010059B"',
    );
    expectError(
      (d) => (d.feed.rerequest = { host: '127.0.0.1', port: 0 }),
      '/etc/tickpath/feed.yml: feed.rerequest.port is 0, expected an integer from 1 to 65535',
    );
    const doc = base();
    doc.feed.moldudp64 = { sessions: ['ABC'] };
    doc.feed.rerequest = { host: '127.0.0.1', port: 26400 };
    const c = parse(doc);
    expect(c.moldudp64.sessions).to.deep.equal(['ABC       ']);
    expect(c.rerequest).to.deep.equal({ host: '127.0.0.1', port: 26400, timeoutMs: 1000 });
  });

  it("'auto' needs at least one backend section", () => {
    expectError(
      (d) => {
        d.feed.backend = 'auto';
        delete d.feed.udp;
      },
      '/etc/tickpath/feed.yml: feed.backend is "auto", expected a named backend, or at least one backend section (dpdk, af_xdp, af_packet, udp, pcap) for auto to choose from',
    );
  });

  it('reports YAML syntax errors with line and column, and unreadable files', () => {
    expect(() => parseFeedConfig('feed:\n  backend: [udp\n', kFile))
      .to.throw(TickpathError, /^\/etc\/tickpath\/feed\.yml:\d+: YAML syntax error at column \d+: /)
      .with.property('code', 'ERR_CONFIG_PARSE');
    expect(() => parseFeedConfig('feed:\n  backend: udp\n  backend: pcap\n', kFile))
      .to.throw(TickpathError, /^\/etc\/tickpath\/feed\.yml:3: YAML syntax error at column 3: Map keys must be unique/)
      .with.property('code', 'ERR_CONFIG_PARSE');
    expect(() => loadFeedConfig('/nonexistent/feed.yml'))
      .to.throw(TickpathError, '/nonexistent/feed.yml: cannot read config file (ENOENT)')
      .with.property('code', 'ERR_CONFIG_NOT_FOUND');
  });

  it('checks that the pcap file exists, relative to the config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-config-'));
    try {
      const file = path.join(dir, 'feed.yml');
      const doc = base();
      doc.feed.pcap = { file: 'missing.pcap' };
      const text = YAML.stringify(doc);
      fs.writeFileSync(file, text);
      const line = text.split('\n').findIndex((l) => l.includes('file: missing.pcap')) + 1;
      expect(() => loadFeedConfig(file)).to.throw(
        `${file}:${line}: feed.pcap.file is "missing.pcap", expected an existing pcap file (resolved to ${path.join(dir, 'missing.pcap')}, relative to the config file)`,
      );
      fs.writeFileSync(path.join(dir, 'missing.pcap'), '');
      expect(loadFeedConfig(file).pcap?.file).to.equal(path.join(dir, 'missing.pcap'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('feed config: feed.pcap.allow_truncated', () => {
  // The pcap backend refuses a capture whose last frame was cut short and its fix says "pass
  // allow_truncated": the config must accept that key and hand it to the backend.
  it('is accepted and reaches the pcap backend, which then replays the complete frames', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-trunc-'));
    try {
      const bytes = pcapBytes(makeFrames(5));
      fs.writeFileSync(path.join(dir, 'trunc.pcap'), bytes.subarray(0, bytes.length - 10));
      const perf = parsePerformanceConfig(YAML.stringify({
        performance: { stages: { rx: { cpu: 0 }, decoder: { cpu: 0 }, book: { cpu: 0 }, strategy: { cpu: 0 }, router: { cpu: 0 } } },
      }), path.join(dir, 'performance.yml'), { cpuCount: 1 });
      const doc = base();
      doc.feed.backend = 'pcap';
      doc.feed.pcap = { file: 'trunc.pcap' };
      const refused = parseFeedConfig(YAML.stringify(doc), path.join(dir, 'feed.yml'));
      expect(refused.pcap!.allowTruncated).to.equal(false);
      expect(() => Port.open({ ...portOptionsFrom(refused, perf), poller: 'inline' })).to.throw(TickpathError, /allow_truncated/);

      doc.feed.pcap.allow_truncated = true;
      const feed = parseFeedConfig(YAML.stringify(doc), path.join(dir, 'feed.yml'));
      expect(feed.pcap!.allowTruncated).to.equal(true);
      const port = Port.open({ ...portOptionsFrom(feed, perf), poller: 'inline' });
      try {
        const c = port.consumer(0);
        let frames = 0;
        for (let spins = 0; !c.eof && spins < 1_000_000; spins++) {
          const n = c.available(64);
          frames += n;
          if (n > 0) c.advance(n);
        }
        expect(frames).to.equal(4);
      } finally {
        port.close();
      }
      expectError((d) => (d.feed.pcap = { file: 'a.pcap', allow_truncated: 'yes' }),
        '/etc/tickpath/feed.yml: feed.pcap.allow_truncated is "yes", expected true or false');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('feed config: protocol moex-fast', () => {
  const templates = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'fast', 'moex-asts-fix50sp2-2017-mar.xml');
  // af_packet sees every line's frames (so does udp, one socket per line: test/feed/fast/fast-udp-ab.test.ts).
  const base = (fast: string, protocol = 'moex-fast'): string => `feed:
  protocol: ${protocol}
  backend: af_packet
  af_packet: { interface: eth0 }
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
    - { name: B, group: 239.195.129.1, port: 16001 }
    - { name: S, group: 239.195.1.2, port: 16002 }
${fast}`;

  it('reads templates (checked when loaded), channel lines by name, price decimals and market', () => {
    const c = parseFeedConfig(base(`  fast:\n    templates: ${templates}\n    incremental: [A, B]\n    snapshot: [S]\n    price_decimals: 4\n    market: FOND\n`), '/etc/tickpath/feed.yml');
    expect(c.protocol).to.equal('moex-fast');
    expect(c.fast!.templates).to.equal(templates);
    expect(c.fast!.templatesXml).to.contain('X-OLR-CURR');
    expect(c.fast!.incremental).to.deep.equal(['A', 'B']);
    expect(c.fast!.snapshot).to.deep.equal(['S']);
    expect(c.fast!.priceDecimals).to.equal(4);
    expect(c.fast!.market).to.equal('FOND');
  });

  it('defaults to itch; every mistake is reported at its line', () => {
    expect(parseFeedConfig(base('', 'itch'), 'f.yml').protocol).to.equal('itch');
    const problems = (text: string): string => {
      try { parseFeedConfig(text, '/etc/tickpath/feed.yml'); } catch (err) {
        const all = (err as { problems?: { message: string }[] }).problems;
        return all ? all.map((p) => p.message).join('\n') : (err as Error).message;
      }
      return '';
    };
    expect(problems(base(''))).to.match(/feed\.yml.*feed\.fast.*feed\.protocol is 'moex-fast'/);
    expect(problems(base(`  fast:\n    templates: ${templates}\n    incremental: [A]\n`, 'itch'))).to.match(/feed\.fast.*unless feed\.protocol is 'moex-fast'/);
    const bad = problems(base(`  fast:\n    templates: ${templates}\n    incremental: [X]\n    snapshot: [A]\n    price_decimals: 12\n`));
    expect(bad).to.match(/feed\.yml:11.*feed\.fast\.incremental\[0\].*have: A, B, S/);
    expect(bad).to.match(/feed\.yml:13.*feed\.fast\.price_decimals/);
    const xml = path.join(os.tmpdir(), `tickpath-bad-templates-${process.pid}.xml`);
    fs.writeFileSync(xml, '<templates><template name="T" id="1"><uInt32 name="x"><tail/></uInt32></template></templates>');
    try {
      expect(problems(base(`  fast:\n    templates: ${xml}\n    incremental: [A]\n`))).to.match(/feed\.fast\.templates.*tail applies only to strings/);
    } finally { fs.rmSync(xml); }
    expect(problems(base('').replace('moex-fast', 'fix'))).to.match(/feed\.protocol.*itch.*moex-fast/);
  });
});
