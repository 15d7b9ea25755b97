/**
 * Smoke test for perf/fix-session: it runs end to end on both stores and prints one JSON object
 * last with a figure per path and store. Timings are never asserted; perf/results/fix-session.json
 * is put back as it was.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

describe('perf/fix-session (smoke)', function () {
  this.timeout(120000);
  const results = path.join(__dirname, '..', '..', '..', 'perf', 'results', 'fix-session.json');
  let before: string | null = null;
  beforeEach(() => { before = fs.existsSync(results) ? fs.readFileSync(results, 'utf8') : null; });
  afterEach(() => { if (before === null) fs.rmSync(results, { force: true }); else fs.writeFileSync(results, before); });

  it('measures send, receive and store with the mapped store beside the files store, JSON last', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'perf', 'fix-session.js'), '--messages', '2000', '--rounds', '1', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    for (const w of ['send', 'receive', 'store']) for (const k of ['mapped', 'files']) expect(j[`${w}_${k}_ns`], `${w}_${k}_ns`).to.be.a('number').above(0);
    expect(j.check).to.equal(true);
    expect(r.stdout).to.match(/fix send per message\s+\S+ µs \(mapped store\)\s+\S+ µs \(files store\)/);
  });
});
