import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { loadRoutingConfig, parseRoutingConfig } from '../../lib/router/routing-config';
import { TickpathError } from '../../lib/errors';
import { ConfigError } from '../../lib/config/config-reader';
import { createVenueConnector } from '../../lib/router/connectors/create-connector';
import { createRouterStack } from '../../lib/router/router-stack';
import * as os from 'os';
import { OrderJournal } from '../../lib/router/journal';

// dist/test/router -> repository root
const CONFIG = path.resolve(__dirname, '../../../configs/routing_config.yml');
const text = () => fs.readFileSync(CONFIG, 'utf8');

function errorOf(yamlText: string, file = 'routing_config.yml', code = 'ERR_CONFIG_INVALID'): TickpathError {
  try {
    parseRoutingConfig(yamlText, file);
  } catch (e) {
    expect(e).to.be.instanceOf(TickpathError);
    expect((e as TickpathError).code, (e as Error).message).to.equal(code);
    // file:line, and a fix
    expect((e as Error).message).to.match(new RegExp(`^${file.replace(/\./g, '\\.')}:\\d+: `));
    expect((e as TickpathError).fix).to.be.a('string').and.not.equal('');
    return e as TickpathError;
  }
  throw new Error('expected the config to be refused');
}

describe('routing config', () => {
  it('loads the shipped configs/routing_config.yml', () => {
    const c = loadRoutingConfig(CONFIG);
    expect(c.mode).to.equal('rules');
    expect(c.defaultVenue).to.equal('NSDQ');
    expect(c.venues.map((v) => `${v.name}/${v.protocol}/${v.host}:${v.port}`)).to.deep.equal(
      ['NSDQ/ouch/127.0.0.1:15001', 'ARCA/fix44/127.0.0.1:15002']);
    expect(c.venues[0]).to.include({ senderId: 'TPATH1', targetId: 'NSDQ', heartbeatIntervalS: 1 });
    expect(c.rules.AAPL).to.deep.equal([
      { venue: 'NSDQ', share: 0.6, priority: 1, active: true, feePerShare: 0.003 },
      { venue: 'ARCA', share: 0.4, priority: 2, active: true, feePerShare: 0.0028 },
    ]);
    expect(c.risk).to.deep.equal({
      maxOrderQty: 10000, maxOrderNotional: 1_000_000, maxDailyNotional: 50_000_000, maxSymbolNotional: 10_000_000,
      maxOpenOrdersPerSymbol: 200, priceCollarBps: 500, maxOrdersPerSecond: 500,
    });
    expect(c.journal).to.deep.equal({ path: path.resolve(path.dirname(CONFIG), '../var/orders.journal'), fsync: 'group', groupCommitUs: 1000 });
  });

  it('reads each venue\'s session transport and SO_BUSY_POLL, and refuses bad ones with the line', () => {
    const c = loadRoutingConfig(CONFIG);
    expect(c.venues.map((v) => [v.transport, v.busyPollUs])).to.deep.equal([['auto', 0], ['auto', 0]]);
    const native = parseRoutingConfig(text().replace('transport: auto ', 'transport: libuv ').replace('busy_poll_us: 0 ', 'busy_poll_us: 50 '), 'r.yml');
    expect(native.venues[0]).to.include({ transport: 'libuv', busyPollUs: 50 });
    const bad = errorOf(text().replace('transport: auto ', 'transport: dpdk '));
    expect(bad.message).to.match(/routing\.venues\[0\]\.transport is "dpdk", expected one of auto, native, libuv/);
    expect(text().split('\n')[Number(/:(\d+):/.exec(bad.message)![1]) - 1]).to.contain('transport: auto');
    expect(errorOf(text().replace('busy_poll_us: 0 ', 'busy_poll_us: -1 ')).message).to.contain('routing.venues[0].busy_poll_us is -1, expected an integer from 0 to 1000000');
  });

  it('reads each venue\'s tx_timestamps (default true), and refuses a value that is not a boolean with the line', () => {
    expect(parseRoutingConfig(text(), 'r.yml').venues.map((v) => v.txTimestamps)).to.deep.equal([true, true]);
    const off = parseRoutingConfig(text().replace('tx_timestamps: true ', 'tx_timestamps: false '), 'r.yml');
    expect(off.venues[0].txTimestamps).to.equal(false);
    expect(errorOf(text().replace('tx_timestamps: true ', 'tx_timestamps: yes ')).message).to.contain('routing.venues[0].tx_timestamps is');
  });

  it('reads each venue\'s session idle policy (idle, spin_us), hands it to the connector, and refuses bad ones with the line', () => {
    const c = loadRoutingConfig(CONFIG);
    expect(c.venues.map((v) => [v.idle, v.spinUs])).to.deep.equal([['block', 0], ['block', 0]]);
    const spun = parseRoutingConfig(text().replace('idle: block ', 'idle: spin ').replace('spin_us: 0 ', 'spin_us: 250 '), 'r.yml');
    expect(spun.venues[0]).to.include({ idle: 'spin', spinUs: 250 });
    // What the config says is what the connector the router builds carries (and reports).
    const conn = createVenueConnector(spun.venues[0], { transport: 'native', idle: { idle: spun.venues[0].idle!, spinUs: spun.venues[0].spinUs! } });
    expect(conn.idle).to.deep.equal({ idle: 'spin', spinUs: 250 });
    expect(conn.stats()).to.include({ idle: 'spin', spinUs: 250, transport: 'native' });
    // Through the one way the router builds its connectors: each venue keeps its own policy.
    spun.journal.path = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-idle-')), 'orders.journal');
    const stack = createRouterStack(spun, { bbo: { bestBid: () => 0, bestAsk: () => 0 }, listener: new Proxy({}, { get: () => () => undefined }) as never });
    try {
      expect(stack.connectors.map((k) => [k.name, k.idle?.idle, k.idle?.spinUs])).to.deep.equal([['NSDQ', 'spin', 250], ['ARCA', 'block', 0]]);
    } finally {
      stack.journal.close();
      fs.rmSync(path.dirname(spun.journal.path), { recursive: true, force: true });
    }
    const bad = errorOf(text().replace('idle: block ', 'idle: nap '));
    expect(bad.message).to.match(/routing\.venues\[0\]\.idle is "nap", expected one of block, spin/);
    expect(text().split('\n')[Number(/:(\d+):/.exec(bad.message)![1]) - 1]).to.contain('idle: block');
    expect(errorOf(text().replace('spin_us: 0 ', 'spin_us: 2000000 ')).message).to.contain('routing.venues[0].spin_us is 2000000, expected an integer from 0 to 1000000');
  });

  it('reads the journal ring\'s size (ring_records: 0 writes straight into the file) and refuses one that is not a power of two', () => {
    const withRing = (v: string) => text().replace('    group_commit_us: 1000', `    group_commit_us: 1000\n    ring_records: ${v}`);
    expect(parseRoutingConfig(withRing('0'), 'r.yml').journal.ringRecords).to.equal(0);
    expect(parseRoutingConfig(withRing('65536'), 'r.yml').journal.ringRecords).to.equal(65536);
    expect(errorOf(withRing('1000')).message).to.contain('routing.journal.ring_records is 1000, expected 0 or a power of two from 16 to 4194304');
  });

  it('a ring directory that cannot be written refuses the journal, naming the fix', () => {
    const file = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'tickpath-ringdir-')), 'orders.journal');
    expect(() => OrderJournal.open(file, { fsync: 'group', ringDir: '/nonexistent-tickpath-ring-dir' }))
      .to.throw(TickpathError, /creating the ring .* failed.*ring_records: 0/).with.property('code', 'ERR_JOURNAL_OPEN');
    // The journal was closed again: the file opens without a ring and keeps its header.
    const j = OrderJournal.open(file, { fsync: 'group', ringRecords: 0 });
    j.appendVenueSeq(0, 'X', 1);
    j.close();
    expect(OrderJournal.recover(file)).to.include({ lastRecordNo: 1 });
  });

  it('names file, line, path, bad value and expectation for a bad port', () => {
    const e = errorOf(text().replace('port: 15002', 'port: 99999'));
    expect(e.message).to.match(/^routing_config\.yml:\d+: routing\.venues\[1\]\.port is 99999, expected an integer from 1 to 65535/);
    const line = Number(/:(\d+):/.exec(e.message)![1]);
    expect(text().split('\n')[line - 1]).to.contain('port: 15002');
  });

  it('refuses unknown keys at every level', () => {
    expect(errorOf(text().replace('max_order_qty:', 'max_order_quantity:'), undefined, 'ERR_CONFIG_UNKNOWN_KEY').message).to.contain(
      'routing.risk.max_order_quantity is an unknown key, expected one of max_order_qty, max_order_notional, ' +
      'max_daily_notional, max_symbol_notional, max_open_orders_per_symbol, price_collar_bps, max_orders_per_second');
    expect(errorOf(text().replace('  mode: rules', '  mode: rules\n  modus: x'), undefined, 'ERR_CONFIG_UNKNOWN_KEY').message).to.contain(
      'routing.modus is an unknown key, expected one of mode, default_venue, order_capacity, journal, venues, rules, risk');
    expect(errorOf(text().replace('fee_per_share: 0.0028', 'fees: 0.0028'), undefined, 'ERR_CONFIG_UNKNOWN_KEY').message).to.contain(
      'routing.rules.AAPL[1].fees is an unknown key, expected one of venue, share, priority, active, fee_per_share');
  });

  it('refuses bad enums, missing values, unknown venues and wrong types', () => {
    expect(errorOf(text().replace('fsync: group', 'fsync: sometimes')).message).to.contain(
      'routing.journal.fsync is "sometimes", expected one of always, group, never');
    const batch = errorOf(text().replace('fsync: group', 'fsync: batch')).message;
    expect(batch).to.contain(`routing.journal.fsync is "batch", expected one of always, group, never ('batch' was removed)`);
    expect(batch).to.contain('use group: each record is in the page cache before the wire');
    expect(errorOf(text().replace('    group_commit_us: 1000', '    batch_records: 64')).message).to.contain(
      'routing.journal.batch_records is 64, expected no batch_records (removed with fsync: batch');
    expect(errorOf(text().replace('protocol: fix44', 'protocol: fix50')).message).to.contain(
      'routing.venues[1].protocol is "fix50", expected one of ouch, fix42, fix44');
    expect(errorOf(text().replace('default_venue: NSDQ', 'default_venue: XNYS')).message).to.contain(
      'routing.default_venue is "XNYS", expected one of NSDQ, ARCA');
    expect(errorOf(text().replace('{ venue: ARCA, share: 0.4', '{ venue: BATS, share: 0.4')).message).to.contain(
      'routing.rules.AAPL[1].venue is "BATS", expected one of NSDQ, ARCA');
    expect(errorOf(text().replace('    max_orders_per_second: 500\n', '')).message).to.contain(
      'routing.risk.max_orders_per_second is missing, expected an integer from 1 to 10000000');
    expect(errorOf(text().replace('share: 0.6', 'share: 0')).message).to.contain(
      'routing.rules.AAPL[0].share is 0, expected a number > 0');
    expect(errorOf(text().replace('price_collar_bps: 500', 'price_collar_bps: "5%"')).message).to.contain(
      'routing.risk.price_collar_bps is "5%", expected an integer from 0 to 10000');
    expect(errorOf(text().replace('share: 0.6, priority: 1, active: true', 'share: 0.6, priority: 1, active: yes')).message)
      .to.contain('routing.rules.AAPL[0].active is "yes", expected true or false');
  });

  it('refuses a symbol whose shares do not add up to 1, inactive rules included', () => {
    const e = errorOf(text().replace('{ venue: ARCA, share: 0.4', '{ venue: ARCA, share: 0.7'));
    expect(e.message).to.match(/^routing_config\.yml:\d+: routing\.rules\.AAPL is \[0\.6,0\.7\], expected shares that add up to 1 \(these add up to 1\.3\)/);
    const line = Number(/:(\d+):/.exec(e.message)![1]);
    expect(text().split('\n')[line - 1]).to.contain('AAPL:');
    expect(e.fix).to.equal("make the shares of AAPL's rules add up to 1");
    expect(() => parseRoutingConfig(text().replace('share: 0.4, priority: 2, active: true', 'share: 0.4, priority: 2, active: false'), 'r.yml')).to.not.throw();
  });

  it('collects every problem, not just the first', () => {
    let caught: ConfigError | undefined;
    try {
      parseRoutingConfig(text().replace('port: 15002', 'port: 99999').replace('fsync: group', 'fsync: sometimes').replace('{ venue: ARCA, share: 0.4', '{ venue: BATS, share: 0.4'), 'r.yml');
    } catch (e) {
      caught = e as ConfigError;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect(caught!.problems.map((p) => p.path)).to.deep.equal(['routing.journal.fsync', 'routing.venues[1].port', 'routing.rules.AAPL[1].venue']);
    expect(caught!.message).to.contain('(and 2 more problems: tickpath config check DIR lists them)');
  });

  it('refuses duplicate venue names and names too long for the journal', () => {
    expect(errorOf(text().replace('name: ARCA', 'name: NSDQ')).message).to.contain(
      'routing.venues[1].name is "NSDQ", expected a name not used by another venue');
    expect(errorOf(text().replace('name: ARCA', 'name: ARCA_EXCHANGE_X')).message).to.contain(
      'routing.venues[1].name is "ARCA_EXCHANGE_X", expected letters, digits, _ or - of 1 to 14 characters');
  });

  it('reports a missing routing section and YAML syntax errors with the file name', () => {
    expect(errorOf('feed: {}\n').message).to.equal(
      'routing_config.yml:1: routing is missing, expected a mapping with keys mode, default_venue, order_capacity, journal, venues, rules, risk, failover ' +
      '(fix: add routing: a mapping with keys mode, default_venue, order_capacity, journal, venues, rules, risk, failover)');
    expect(errorOf('routing: [\n', 'x.yml', 'ERR_CONFIG_PARSE').message).to.match(/^x\.yml:2: YAML syntax error at column 1: /);
    expect(errorOf(text().replace('  mode: rules', '  mode: rules\n  mode: liquidity'), undefined, 'ERR_CONFIG_PARSE').message)
      .to.match(/^routing_config\.yml:5: YAML syntax error at column 3: Map keys must be unique/);
  });

  it('reports a missing file', () => {
    expect(() => loadRoutingConfig('/nonexistent/routing.yml')).to.throw(TickpathError, '/nonexistent/routing.yml: cannot read config file (ENOENT)')
      .with.property('code', 'ERR_CONFIG_NOT_FOUND');
  });
});
