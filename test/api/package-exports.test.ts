/**
 * The public API as a user meets it: the package installed under node_modules (a symlink to this
 * checkout, as `npm install` of a local path makes), loaded by name from CommonJS and ESM, and
 * type-checked by the TypeScript compiler under both the old (node10) and the exports-aware
 * (node16) module resolution. Test encoders and deep dist/ paths must stay out of reach, and every
 * `import ... from 'tickpath...'` in README.md and docs/ must name exports that exist.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kTsc = path.join(kRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const kEntryPoints = ['tickpath', 'tickpath/binding', 'tickpath/common', 'tickpath/config', 'tickpath/feed',
  'tickpath/pipeline', 'tickpath/protocols', 'tickpath/router', 'tickpath/venue-sim'];

function run(dir: string, file: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 30000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('public API: the package by name, as a user imports it', function () {
  this.timeout(60000);
  let dir = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-user-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(kRoot, path.join(dir, 'node_modules', 'tickpath'), 'dir');
    // A TypeScript user has @types/node beside it (the published .d.ts files use Node's types).
    fs.mkdirSync(path.join(dir, 'node_modules', '@types'));
    fs.symlinkSync(path.join(kRoot, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('CommonJS: every entry point loads and holds what a user builds with', () => {
    fs.writeFileSync(path.join(dir, 'user.js'), `
      const out = {};
      for (const name of ${JSON.stringify(kEntryPoints)}) out[name] = Object.keys(require(name)).sort();
      console.log(JSON.stringify(out));`);
    const r = run(dir, 'user.js');
    expect(r.status, r.out).to.equal(0);
    const keys = JSON.parse(r.out) as Record<string, string[]>;
    expect(keys['tickpath']).to.include.members(['Port', 'RxConsumer', 'FeedHandler', 'Pipeline', 'OrderRouter', 'TickpathError', 'feed', 'router']);
    expect(keys['tickpath/binding']).to.include.members(['Port', 'RxConsumer', 'TxProducer', 'setBinding']);
    expect(keys['tickpath/feed']).to.include.members(['ItchDecoder', 'FeedDecoder', 'BookBuilder', 'OrderBook', 'Conflator',
      'MoldUdp64Packet', 'UdpFrameParser', 'PcapReader', 'Sequencer', 'RecoverySequencer', 'LineArbiter', 'RetransmitRequester']);
    expect(keys['tickpath/router']).to.include.members(['OrderRouter', 'RiskChecker', 'SmartRouter', 'OrderJournal',
      'createRouterStack', 'createVenueConnector', 'OuchConnector', 'FixConnector', 'loadRoutingConfig']);
    expect(keys['tickpath/pipeline']).to.include.members(['Pipeline', 'FeedHandler', 'SampleStrategy']);
    expect(keys['tickpath/protocols']).to.include.members(['FixSession', 'SoupBinClient', 'SoupBinServer',
      'NativeTcpTransport', 'LibuvTcpTransport', 'NativeTcpServer', 'LibuvTcpServer', 'NativeWaitSet', 'transportFactory', 'serverTransport']);
    expect(keys['tickpath/venue-sim']).to.include.members(['VenueSimulator', 'MatchingEngine']);
    // Test encoders and writers are not part of the feed API.
    for (const name of ['ItchEncoder', 'MoldUdp64Encoder', 'UdpFrameWriter', 'PcapWriter']) {
      expect(keys['tickpath/feed'], name).to.not.include(name);
    }
    // Neither is the venue simulator part of the router.
    expect(keys['tickpath/router']).to.not.include('VenueSimulator');
  });

  it('deep paths into dist/ are not exported', () => {
    fs.writeFileSync(path.join(dir, 'deep.js'), `
      try { require('tickpath/dist/lib/feed/itch/itch-encoder'); console.log('loaded'); }
      catch (e) { console.log(e.code); }`);
    const r = run(dir, 'deep.js');
    expect(r.out.trim()).to.equal('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('ESM: named imports from the entry points', () => {
    fs.writeFileSync(path.join(dir, 'user.mjs'), `
      import { Port, FeedHandler } from 'tickpath';
      import { ItchDecoder } from 'tickpath/feed';
      import { createRouterStack } from 'tickpath/router';
      console.log([Port, FeedHandler, ItchDecoder, createRouterStack].map((f) => typeof f).join(' '));`);
    const r = run(dir, 'user.mjs');
    expect(r.status, r.out).to.equal(0);
    expect(r.out.trim()).to.equal('function function function function');
  });

  for (const resolution of ['node10', 'node16'] as const) {
    it(`TypeScript (moduleResolution ${resolution}) type-checks a program against the published types`, () => {
      const sub = path.join(dir, `ts-${resolution}`);
      fs.mkdirSync(sub);
      fs.symlinkSync(path.join(dir, 'node_modules'), path.join(sub, 'node_modules'), 'dir');
      fs.writeFileSync(path.join(sub, 'user.ts'), `
        import { Port, type PortOptions } from 'tickpath/binding';
        import { ItchDecoder, BookBuilder } from 'tickpath/feed';
        import { createRouterStack, type RoutingConfig } from 'tickpath/router';
        import { FeedHandler } from 'tickpath/pipeline';
        import { TickpathError } from 'tickpath';
        const o: PortOptions = { backend: 'pcap', pcap: { file: 'feed.pcap' } };
        export const used = [Port, ItchDecoder, BookBuilder, createRouterStack, FeedHandler, TickpathError, o];
        export type R = RoutingConfig;
        // @ts-expect-error the test encoders are not exported
        import { ItchEncoder } from 'tickpath/feed';
        export const notThere = ItchEncoder;
      `);
      const module = resolution === 'node16' ? 'node16' : 'commonjs';
      const r = spawnSync(process.execPath, [kTsc, '--noEmit', '--strict', '--skipLibCheck', '--types', 'node',
        '--module', module, '--moduleResolution', resolution, 'user.ts'], { cwd: sub, encoding: 'utf8', timeout: 60000 });
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
    });
  }

  it('every import from tickpath in README.md and docs/ names an export that exists', () => {
    const docs = [path.join(kRoot, 'README.md'), ...fs.readdirSync(path.join(kRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join(kRoot, 'docs', f))];
    const wanted: { spec: string; names: string[]; file: string }[] = [];
    for (const file of docs) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(tickpath[^']*)'/g)) {
        const names = m[1].split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]).filter(Boolean);
        wanted.push({ spec: m[2], names, file: path.relative(kRoot, file) });
      }
    }
    expect(wanted.length, 'README shows library use').to.be.greaterThan(0);
    fs.writeFileSync(path.join(dir, 'docs.js'), `
      const wanted = ${JSON.stringify(wanted)};
      const missing = [];
      for (const w of wanted) {
        let mod;
        try { mod = require(w.spec); } catch (e) { missing.push(w.file + ': ' + w.spec + ' (' + e.code + ')'); continue; }
        for (const n of w.names) if (!(n in mod)) missing.push(w.file + ': ' + n + ' from ' + w.spec);
      }
      console.log(JSON.stringify(missing));`);
    const r = run(dir, 'docs.js');
    expect(r.status, r.out).to.equal(0);
    // Type-only names (interfaces) have no runtime value: the README imports classes and functions only.
    expect(JSON.parse(r.out)).to.deep.equal([]);
  });
});
