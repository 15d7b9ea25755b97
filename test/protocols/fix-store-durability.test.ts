/**
 * The FIX store keeps the order journal's fsync promise, checked the way the journal's is
 * (test/router/journal.test.ts): the child runs under the fsync shim (test/router/fsync-shim.c,
 * LD_PRELOAD), which publishes a copy of each store file at every fsync/fdatasync the kernel
 * receives, i.e. what the disk holds if power fails right after. The child is SIGKILLed and the
 * copies are compared with what it acknowledged. Nothing comes from the store's own bookkeeping.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** MsgSeqNums of the records in a FixMappedStore file (fix-mapped-store.ts layout), read independently. */
function mappedRecords(b: Buffer): { seqs: Set<number>; body: string } {
  const seqs = new Set<number>();
  let body = '';
  if (b.length < 64 || b.readUInt32LE(0) !== 0x53465054) return { seqs, body };
  const generation = b.readUInt32LE(32);
  for (let off = 64; off + 16 <= b.length;) {
    if (b.readUInt32LE(off) !== 0x4d465054 || b.readUInt32LE(off + 12) !== generation) break;
    const len = b.readUInt32LE(off + 8);
    if (off + 16 + len > b.length) break;
    const msg = b.toString('latin1', off + 16, off + 16 + len);
    if (msg.startsWith('8=FIX.4.4\x01') && msg.endsWith('\x01')) { seqs.add(b.readUInt32LE(off + 4)); body += msg; }
    off += Math.ceil((16 + len) / 64) * 64;
  }
  return { seqs, body };
}

for (const kind of ['files', 'mapped'] as const)
describe(`${kind === 'files' ? 'FixFileStore' : 'FixMappedStore'} durability under power loss (fsync shim)`, function () {
  this.timeout(60000);
  let shim = '';
  before(() => {
    const src = path.resolve(__dirname, '../../../test/router/fsync-shim.c');
    shim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-shim-')), 'fsync-shim.so');
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, src, '-ldl'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cannot build the fsync shim: ${cc.stderr}`);
  });

  async function run(policy: string) {
    const dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fixpl-'))), 'store');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fixpl-out-'));
    const child = spawn(process.execPath, [path.join(__dirname, 'fix-store-crash-child.js'), dir, policy, '2000', kind],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LD_PRELOAD: shim, TP_SHIM_WATCH: dir, TP_SHIM_OUT: out } });
    const acked: [number, bigint][] = [];
    let partial = '';
    let killedAt = 0n;
    // Killed 2.5 s after its first acknowledgement (a loaded machine can take most of that to start node).
    let killTimer: NodeJS.Timeout | null = null;
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        killTimer ??= setTimeout(() => { killedAt = process.hrtime.bigint(); child.kill('SIGKILL'); }, 2500);
        const lines = (partial + chunk.toString('latin1')).split('\n');
        partial = lines.pop()!;
        for (const l of lines) { const [s, t] = l.split(' '); acked.push([Number(s), BigInt(t)]); }
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode).to.equal('SIGKILL');
    expect(acked.length).to.be.greaterThan(50);
    const read = (f: string): string => (fs.existsSync(path.join(out, f)) ? fs.readFileSync(path.join(out, f), 'latin1') : '');
    const mapped = mappedRecords(fs.existsSync(path.join(out, 'S.fixlog')) ? fs.readFileSync(path.join(out, 'S.fixlog')) : Buffer.alloc(0));
    const indexed = kind === 'mapped' ? mapped.seqs
      : new Set(read('S.header').split('\n').filter((l) => l.split(',').length === 3).map((l) => Number(l.split(',')[0])));
    const body = kind === 'mapped' ? mapped.body : read('S.body');
    const log = read('log');
    return { acked, killedAt, indexed, body, log, dir };
  }

  it("'always': every acknowledged message is indexed, stored and counted on disk; the directory was fsynced", async () => {
    const r = await run('always');
    expect(r.log).to.match(new RegExp(`^dirsync ${r.dir} `, 'm'));
    for (const [seq] of r.acked) expect(r.indexed.has(seq), `message ${seq} acknowledged but not durable`).to.equal(true);
    expect(r.body.length).to.be.at.least(r.acked.length * 26);    // 26-byte messages
  });

  it("'group' (2000 us): everything acknowledged more than 2 ms + 60 ms before the power loss is on disk", async () => {
    const r = await run('group');
    expect(r.log).to.match(new RegExp(`^dirsync ${r.dir} `, 'm'));
    const bound = r.killedAt - 62_000_000n;
    const must = r.acked.filter(([, t]) => t < bound);
    expect(must.length).to.be.greaterThan(r.acked.length / 2);
    for (const [seq] of must) expect(r.indexed.has(seq), `message ${seq} acknowledged long before but not durable`).to.equal(true);
  });

  it("'never': no message is promised, and the shim sees none synced", async () => {
    const r = await run('never');
    expect(r.indexed.size).to.equal(0);
  });
});
