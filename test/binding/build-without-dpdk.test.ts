import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.join(__dirname, '..', '..', '..');

/**
 * The addon must build where pkg-config finds neither libdpdk nor libxdp: those backends are then
 * compiled out and reported as unavailable, with what to install. Hiding pkg-config's search path
 * gives such a machine without uninstalling anything.
 */
describe('binding/build without DPDK and libxdp', function () {
  this.timeout(240000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-build-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds, loads, and reports dpdk and af_xdp as not compiled in with the packages to install', () => {
    fs.cpSync(path.join(kRoot, 'binding.gyp'), path.join(dir, 'binding.gyp'));
    fs.cpSync(path.join(kRoot, 'dpdk-binding'), path.join(dir, 'dpdk-binding'), { recursive: true });
    fs.symlinkSync(path.join(kRoot, 'node_modules'), path.join(dir, 'node_modules'));
    const nodeGyp = path.join(kRoot, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    // Offline against the local Node headers (what npm passes to node-gyp as nodedir).
    const nodedir = path.dirname(path.dirname(process.execPath));
    const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '-j', '2', `--nodedir=${nodedir}`], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '' },
    });
    expect(r.status, r.stderr.slice(-2000)).to.equal(0);
    expect(r.stdout).to.not.match(/backend_dpdk|backend_af_xdp/);
    const probe = spawnSync(process.execPath, ['-e', `
      const b = require(${JSON.stringify(path.join(dir, 'build', 'Release', 'tickpath.node'))});
      console.log(JSON.stringify(b.backends()));
      try { b.openPort('dpdk', {}); } catch (e) { console.log(JSON.stringify({ errno: e.errno, message: e.message })); }`], { encoding: 'utf8' });
    const [backendsLine, errLine] = probe.stdout.trim().split('\n');
    const backends = JSON.parse(backendsLine) as { name: string; compiledIn: boolean; missing: string }[];
    const byName = Object.fromEntries(backends.map((b) => [b.name, b]));
    expect(byName.dpdk).to.include({ compiledIn: false });
    expect(byName.dpdk.missing).to.match(/apt-get install dpdk dpdk-dev libdpdk-dev/);
    expect(byName.af_xdp).to.include({ compiledIn: false });
    expect(byName.af_xdp.missing).to.match(/libxdp-dev/);
    expect(byName.pcap.compiledIn && byName.udp.compiledIn && byName.af_packet.compiledIn).to.equal(true);
    const err = JSON.parse(errLine);
    expect(err.errno).to.equal(95); // ENOTSUP -> ERR_BACKEND_UNAVAILABLE in lib/binding
    expect(err.message).to.match(/not compiled in \(fix: install DPDK/);
    // pkg-config finds no libpcap either: capture filters say what to install, the rest works.
    const bpf = spawnSync(process.execPath, ['-e', `
      const b = require(${JSON.stringify(path.join(dir, 'build', 'Release', 'tickpath.node'))});
      try { b.bpfCompile('udp', 1, 65535); console.log('compiled'); } catch (e) { console.log(e.message); }`], { encoding: 'utf8' });
    expect(bpf.stdout).to.match(/need libpcap.*apt-get install libpcap-dev/);
  });
});
