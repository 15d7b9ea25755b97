import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { OuchConnector } from '../../lib/router/connectors/ouch-connector';
import { RecordingListener } from '../router/connectors/recording-listener';
import * as venueSim from '../../apps/venue-sim';

const kApp = path.join(__dirname, '..', '..', 'apps', 'venue-sim.js');

describe('tickpath venue-sim (CLI)', function () {
  this.timeout(20000);

  it('exports the subcommand shape apps/cli.ts expects', () => {
    expect(venueSim.summary).to.be.a('string').and.not.equal('');
    expect(venueSim.main).to.be.a('function');
  });

  it('--help prints usage and exits 0; a bad option exits 2 naming the option', () => {
    const help = spawnSync(process.execPath, [kApp, '--help'], { encoding: 'utf8' });
    expect(help.status).to.equal(0);
    expect(help.stdout).to.include('--ouch-port');
    const bad = spawnSync(process.execPath, [kApp, '--reject-rate', '2'], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include("option --reject-rate is \"2\", expected a number from 0 to 1");
    const host = spawnSync(process.execPath, [kApp, '--host', '8.8.8.8'], { encoding: 'utf8' });
    expect(host.status).to.equal(2);
    expect(host.stderr).to.include('expected an address in 127.0.0.0/8');
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`prints its ports, serves an OUCH order, and exits 0 on ${signal}`, async () => {
      const child = spawn(process.execPath, [kApp, '--ouch-port', '0', '--fix-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        const t0 = Date.now();
        while (!/FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)/.test(out)) {
          if (Date.now() - t0 > 10000) throw new Error(`no port lines in: ${out}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const ouchPort = Number(/SoupBinTCP listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
        expect(ouchPort).to.be.greaterThan(0);
        const c = new OuchConnector({ name: 'CLI', host: '127.0.0.1', port: ouchPort, username: 'U', password: 'P' });
        const l = new RecordingListener();
        c.setListener(l);
        await c.connect();
        l.track('X1', 10);
        c.sendNew({ clOrdId: 'X1', symbol: 'IBM', side: 'B', qty: 10, price: 1000, ordType: 'LIMIT', tif: 'DAY' });
        await l.until(() => l.orders.get('X1')!.acked === 1, 'ack from the CLI venue');
        await c.close();
      } finally {
        child.kill(signal);
      }
      expect(await exited).to.equal(0);
      expect(out).to.include(`${signal}, stopping`);
    });
  }
});
