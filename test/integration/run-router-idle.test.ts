/**
 * The router stage of `tickpath run` idles by performance.idle, not by a venue's idle/spin_us:
 * the run says so (stats JSON `routerIdle`, the final line) and warns, naming the venue and the
 * fix, when a venue asks for spinning that a parking stage does not give it. Real `tickpath run
 * --config --venue-sim` processes on the pcap backend.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');

function configDir(edit: (name: string, text: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-run-idle-'));
  for (const name of ['feed_config.yml', 'performance.yml', 'routing_config.yml']) {
    let text = fs.readFileSync(path.join(kRoot, 'configs', name), 'utf8').split('../test/').join(`${kRoot}/test/`);
    if (name === 'routing_config.yml') text = text.replace('path: ../var/orders.journal', 'path: ./var/orders.journal');
    fs.writeFileSync(path.join(dir, name), edit(name, text));
  }
  return dir;
}

function run(dir: string) {
  const r = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--backend', 'pcap', '--venue-sim', '--duration', '2', '--metrics-port', 'off', '--json'],
    { encoding: 'utf8', timeout: 90000 });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.status, r.stderr + r.stdout.slice(-1500)).to.equal(0);
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!) as { routerIdle?: { strategy: string; venuePolicyApplied: boolean; venues: Record<string, { idle: string; spinUs: number }> } };
  return { out: r.stdout + r.stderr, json };
}

describe('tickpath run: which idle policy the router stage runs', function () {
  this.timeout(120000);

  it('a parking stage (backoff) with a venue asking spin: reported as the stage\'s backoff, the venue\'s policy listed as not applied, and a warning naming the fix', () => {
    const dir = configDir((name, text) => {
      if (name === 'performance.yml') return text.replace(/^(\s+strategy:) spin\b/m, '$1 backoff');
      if (name === 'routing_config.yml') {
        // ARCA (the second venue) spins; NSDQ keeps block with a spin_us.
        const i = text.indexOf('- name: ARCA');
        return text.slice(0, i).replace('spin_us: 0 ', 'spin_us: 25 ') + text.slice(i).replace('idle: block', 'idle: spin');
      }
      return text;
    });
    const { out, json } = run(dir);
    expect(json.routerIdle).to.deep.equal({ strategy: 'backoff', venuePolicyApplied: false,
      venues: { NSDQ: { idle: 'block', spinUs: 25 }, ARCA: { idle: 'spin', spinUs: 0 } } });
    expect(out).to.match(/router stage: venue ARCA asks idle spin \(routing_config\.yml\), which tickpath run does not apply: the router stage idles by performance\.idle\.strategy \(backoff\); fix: set performance\.idle\.strategy: spin/);
    expect(out).to.match(/router stage: venue NSDQ asks idle block, spin_us 25/);
    expect(out).to.match(/router stage idle: backoff \(performance\.idle\); venues' idle\/spin_us not applied here \(configured: NSDQ block 25 us, ARCA spin\)/);
  });

  it('the shipped configuration: the stage spins, nothing to warn about', () => {
    const { out, json } = run(configDir((_n, t) => t));
    expect(json.routerIdle!.strategy).to.equal('spin');
    expect(json.routerIdle!.venues).to.deep.equal({ NSDQ: { idle: 'block', spinUs: 0 }, ARCA: { idle: 'block', spinUs: 0 } });
    expect(out).to.not.match(/router stage: venue/);
  });
});
