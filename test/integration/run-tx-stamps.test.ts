/**
 * "Order out" where the order leaves the host's stack, through `tickpath run`: with the shipped
 * config every order sent over a native venue session gets its kernel TX timestamp (order_wire,
 * md_to_wire; lib/pipeline/stages/tx-stamps.ts), the table prints them with what they measure;
 * with venues[].tx_timestamps false nothing is recorded and the counters and the final line say
 * why. Real `tickpath run --config --venue-sim` processes on the pcap backend, venue simulators
 * over real loopback sockets.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatNs } from '../../lib/ops/units';
import { SessionGenerator } from '../../lib/tools/session-generator';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');

interface RunJson {
  counters: Record<string, number>;
  latency: Record<string, { count: number; p50_ns: number; p99_ns: number; max_ns: number }>;
}

/** The shipped configs, the feed replaying a generated session (3 s, 20 symbols) at its recorded pace. */
function run(editRouting: (text: string) => string): { out: string; json: RunJson } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-run-txstamp-'));
  const capture = path.join(dir, 'session.pcap');
  new SessionGenerator({ symbols: 20, rate: 50000, durationSeconds: 3, seed: 11 }).writePcap(capture);
  for (const name of ['feed_config.yml', 'performance.yml', 'routing_config.yml']) {
    let text = fs.readFileSync(path.join(kRoot, 'configs', name), 'utf8').split('../test/').join(`${kRoot}/test/`);
    if (name === 'feed_config.yml') text = text.replace(/file: \S*Multiple\.Packets\.pcap/, `file: ${capture}`).replace(/pace: fast /, 'pace: recorded ');
    if (name === 'routing_config.yml') text = editRouting(text.replace('path: ../var/orders.journal', `path: ${path.join(dir, 'orders.journal')}`));
    fs.writeFileSync(path.join(dir, name), text);
  }
  const r = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--backend', 'pcap', '--venue-sim', '--duration', '4', '--metrics-port', 'off', '--json'],
    { encoding: 'utf8', timeout: 90000 });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.status, r.stderr + r.stdout.slice(-1500)).to.equal(0);
  return { out: r.stdout, json: JSON.parse(r.stdout.trim().split('\n').pop()!) as RunJson };
}

describe('tickpath run: order out at the kernel TX timestamp (order_wire, md_to_wire)', function () {
  this.timeout(120000);

  it('shipped config: every acked order has md_to_wire and order_wire, inside md_to_order and order_syscall, printed with what they measure', () => {
    const { out, json } = run((t) => t);
    const c = json.counters, L = json.latency;
    expect(c.orders_sent).to.be.greaterThan(10);
    expect(c.orders_acked).to.equal(c.orders_sent);
    expect(c.venue_sessions_tx_stamped, 'both venue sessions stamped').to.equal(2);
    // One stamp per order, none missing or off.
    expect(c.tx_stamps).to.equal(c.orders_acked);
    expect(c.tx_stamps_off).to.equal(0);
    expect(c.tx_stamps_missing).to.equal(0);
    expect(L.md_to_wire.count, 'md_to_wire per acked order').to.equal(c.orders_acked);
    expect(L.order_wire.count).to.equal(c.orders_acked);
    // The stamp is taken inside send(2) (the driver's xmit, before the loopback receiver runs): so
    // md_to_wire sits inside md_to_order and order_wire inside order_syscall. A stamp keyed to the
    // next order (tens of ms later) or left in CLOCK_REALTIME would be far above both.
    expect(L.md_to_wire.p50_ns).to.be.greaterThan(0).and.at.most(L.md_to_order.p50_ns);
    expect(L.order_wire.p50_ns).to.be.greaterThan(0).and.at.most(L.order_syscall.p50_ns);
    expect(L.md_to_wire.max_ns).to.be.below(1e9);
    // The table prints what the JSON holds, and says what each spans.
    for (const k of ['order_wire', 'md_to_wire']) {
      const row = new RegExp(`^  ${k} +${L[k].count} +(\\S+ \\S+) +\\S+ \\S+ +(\\S+ \\S+) `, 'm').exec(out);
      expect(row, `${k} row in:\n${out.slice(-3000)}`).to.not.equal(null);
      expect(row![1]).to.equal(formatNs(L[k].p50_ns));
      expect(row![2]).to.equal(formatNs(L[k].p99_ns));
    }
    expect(out).to.match(/^  md_to_wire  = wire \(RX poll\) -> the kernel's TX timestamp of the order's last byte \(the driver's xmit: where it leaves this host's stack\): tick-to-trade$/m);
    expect(out).to.match(/^  order_wire  = the order's send\(2\) called -> that TX timestamp/m);
    expect(out).to.match(new RegExp(`^order out \\(kernel TX timestamps\\): ${c.tx_stamps} stamped on 2 of 2 venue sessions; 0 sent without .*, 0 never came$`, 'm'));
  });

  it('tx_timestamps: false on both venues: nothing recorded, every order counted in tx_stamps_off', () => {
    const { out, json } = run((t) => t.split(/tx_timestamps: true\b/).join('tx_timestamps: false'));
    const c = json.counters, L = json.latency;
    expect(c.orders_sent).to.be.greaterThan(10);
    expect(c.venue_sessions_native).to.equal(2);
    expect(c.venue_sessions_tx_stamped).to.equal(0);
    expect(L.md_to_wire.count).to.equal(0);
    expect(L.order_wire.count).to.equal(0);
    expect(c.tx_stamps).to.equal(0);
    expect(c.tx_stamps_off, 'why: every order went where no stamp comes').to.equal(c.orders_sent);
    expect(L.md_to_order.count, 'md_to_order unchanged').to.equal(c.orders_sent);
    expect(out).to.match(/^  md_to_wire +0 +- /m);
    expect(out).to.match(new RegExp(`^order out \\(kernel TX timestamps\\): 0 stamped on 0 of 2 venue sessions; ${c.orders_sent} sent without \\(libuv transport, tx_timestamps: false or refused by the kernel\\), 0 never came$`, 'm'));
  });
});
