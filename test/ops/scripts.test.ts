import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.join(__dirname, '..', '..', '..');
const kHuge = path.join(kRoot, 'scripts', 'setup_hugepages.sh');
const kSetup = path.join(kRoot, 'scripts', 'setup.sh');
const isRoot = process.getuid?.() === 0;

function nrHugepages(): number {
  return Number(fs.readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', 'utf8'));
}

describe('ops/scripts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-scripts-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('setup_hugepages --dry-run changes nothing and prints what it would do', () => {
    const before = nrHugepages();
    const r = spawnSync('bash', [kHuge, '--dry-run', String(before + 64)], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`raising .* from ${before} to ${before + 64}`)).and.match(/HugePages_Total/);
    expect(nrHugepages()).to.equal(before);
  });

  it('setup_hugepages --persist is idempotent: one sysctl line, one fstab line, however often it runs', function () {
    if (!isRoot) this.skip();
    const sysctl = path.join(dir, 'sysctl.conf'), fstab = path.join(dir, 'fstab');
    fs.writeFileSync(fstab, '# existing\n/dev/vda / ext4 defaults 0 1\n');
    const env = { ...process.env, TICKPATH_SYSCTL_FILE: sysctl, TICKPATH_FSTAB: fstab };
    const pages = String(Math.max(nrHugepages(), 64));
    for (let i = 0; i < 3; i++) {
      const r = spawnSync('bash', [kHuge, '--persist', pages], { encoding: 'utf8', env });
      expect(r.status, r.stderr).to.equal(0);
    }
    expect(fs.readFileSync(sysctl, 'utf8').match(/vm\.nr_hugepages/g)).to.have.length(1);
    const tab = fs.readFileSync(fstab, 'utf8');
    expect(tab.match(/hugetlbfs/g)).to.have.length(1);
    expect(tab).to.contain('/dev/vda / ext4');
  });

  it('setup_hugepages rejects a bad size and unknown options', () => {
    expect(spawnSync('bash', [kHuge, '--dry-run', 'lots'], { encoding: 'utf8' }).stderr).to.match(/size 'lots' is not a page count/);
    expect(spawnSync('bash', [kHuge, '--frobnicate'], { encoding: 'utf8' }).status).to.equal(2);
    expect(spawnSync('bash', [kHuge, '--dry-run', '1G'], { encoding: 'utf8' }).stdout).to.match(/(to 512|512 reserved already|already)/);
  });

  it('setup.sh and setup_hugepages.sh refuse to run without root, naming the fix', function () {
    if (!isRoot) this.skip();
    // run them as 'nobody' to see what a non-root user sees
    const asNobody = (script: string, ...args: string[]) =>
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', script, ...args], { encoding: 'utf8' });
    const s = asNobody(kSetup);
    expect(s.status).to.equal(1);
    expect(s.stderr).to.match(/must run as root/).and.match(/fix: sudo/);
    const h = asNobody(kHuge, '64');
    expect(h.status).to.equal(1);
    expect(h.stderr).to.match(/must run as root.*fix: sudo/);
  });
});
