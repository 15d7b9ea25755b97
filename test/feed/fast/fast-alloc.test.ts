/**
 * Nothing allocated per entry on the FAST book path with MOEX-sized numbers (order ids above 2^33,
 * prices and sizes above 2^30): fast-alloc-child.js replays X-OLR incrementals through
 * FastFeedDecoder -> FastBookAdapter with a 1 MiB semi-space and counts scavenges over 240,000
 * entries after a warm-up: 1-2 seen (the timer and the order table's growth), where a heap number
 * per entry (16 bytes, about 4 MB) would be about four more and an object per entry dozens.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';

describe('FAST book path: nothing allocated per entry', function () {
  this.timeout(120000);

  it('240,000 adds, changes and deletes with MOEX-sized ids, prices and sizes cause at most 3 scavenges', () => {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', path.join(__dirname, 'fast-alloc-child.js'), '--entries', '240000', '--warmup', '60000'],
      { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`fast-alloc-child exited ${r.status ?? r.signal}: ${r.stderr}`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { entries: number; delivered: number; scavenges: number; record_messages: number; applied: number; errors: number };
    expect([result.delivered, result.record_messages, result.applied, result.errors], JSON.stringify(result)).to.deep.equal([240000, 300000, 300000, 0]);
    expect(result.scavenges, JSON.stringify(result)).to.be.at.most(3);
  });
});
