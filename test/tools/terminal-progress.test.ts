import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { terminalProgress } from '../../lib/tools/progress';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');

describe('tools: progress only for a person at a terminal', function () {
  this.timeout(60000);

  it('a TTY stream gets a redrawn line; anything else gets no reporter at all', () => {
    const written: string[] = [];
    let t = 0;
    const tty = terminalProgress({ unit: 'messages', total: 100, now: () => t }, { isTTY: true, columns: 120, write: (s: string) => written.push(s) });
    expect(tty).to.not.equal(undefined);
    t = 500; tty!.update(50);
    tty!.finish(100);
    expect(written[0]).to.match(/^\r\[.*\] +50\.0% 50\/100 messages/);
    expect(written.at(-1)).to.equal('\n');
    expect(terminalProgress({ unit: 'x', total: 1 }, { write: () => { throw new Error('must not write'); } })).to.equal(undefined);
  });

  it('gen and decode write nothing but their result when stderr is a pipe', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-progress-'));
    try {
      const out = path.join(dir, 's.pcap');
      const gen = spawnSync(process.execPath, [kCli, 'gen', '--out', out, '--rate', '200000', '--duration', '2', '--symbols', '5'], { encoding: 'utf8' });
      expect(gen.status, gen.stderr).to.equal(0);
      expect(gen.stderr).to.equal('');
      const decode = spawnSync(process.execPath, [kCli, 'decode', '--pcap', out, '--type', 'S'], { encoding: 'utf8' });
      expect(decode.status).to.equal(0);
      expect(decode.stderr.trim().split('\n').every((l) => l.startsWith('tickpath decode: '))).to.equal(true);
      expect(decode.stderr).to.not.match(/\r|ETA/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
