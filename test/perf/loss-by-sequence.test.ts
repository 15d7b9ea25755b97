/**
 * perf/lib/loss-by-sequence.ts: lost messages (decoder gaps by MoldUDP64 sequence) mapped back to
 * the frames that carried them and the phase each frame was sent in; a lost tail counted from the
 * end. Exact counts over a generated capture.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gapFromLog, lossBySequence } from '../../perf/lib/loss-by-sequence';
import { scheduleFrames } from '../../perf/lib/paced-sender-worker';
import { generateSession, loadCapture } from '../../perf/lib/session-capture';
import type { CaptureFile } from '../../lib/tools/capture-file';

function frameSeq(cap: CaptureFile, i: number): { seq: number; count: number } {
  const at = cap.payloadOffsets[i];
  let seq = 0;
  for (let k = 0; k < 8; k++) seq = seq * 256 + cap.data[at + 10 + k];
  return { seq, count: (cap.data[at + 18] << 8) | cap.data[at + 19] };
}

describe('perf loss by sequence', () => {
  let dir: string;
  let cap: CaptureFile;
  let phase: Uint8Array;
  let dataFrames: number;
  const schedule = [{ captureSeconds: 0.01, speed: 1 }, { captureSeconds: 0.01, speed: 10 }, { captureSeconds: Infinity, speed: 1 }];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-loss-seq-'));
    const s = generateSession(dir, { rate: 200e3, seconds: 0.05, symbols: 5 });
    cap = loadCapture(s.file);
    phase = scheduleFrames(cap.times, cap.count, schedule).phase;
    dataFrames = s.packets - 1; // the last frame is the end-of-session packet
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses the decoder\'s unrecovered_gap log line', () => {
    expect(gapFromLog('[worker 0] 2026-11-26T02:00:00.000000Z WARN  unrecovered_gap sequence gap: messages 41 to 60 never received (no recovery configured)'))
      .to.deep.equal({ from: 41, to: 60 });
    expect(gapFromLog('worker 0 pinned to CPU 0 (tid 12)')).to.equal(undefined);
  });

  it('charges a lost frame to the phase it was sent in, whole frames and partial overlaps exactly', () => {
    const burstFrame = phase.indexOf(1);
    expect(burstFrame).to.be.greaterThan(0);
    const f = frameSeq(cap, burstFrame);
    const g = frameSeq(cap, 1);
    const gaps = [{ from: f.seq, to: f.seq + f.count - 1 }, { from: g.seq + 1, to: g.seq + 1 }];
    const total = Array.from({ length: dataFrames }, (_, i) => frameSeq(cap, i).count).reduce((a, b) => a + b, 0);
    const r = lossBySequence(cap, phase, 3, cap.count, gaps, total - f.count - 1);
    expect(r.phases[1].lost_packets).to.equal(1);
    expect(r.phases[1].lost_messages).to.equal(f.count);
    expect(r.phases[0].lost_packets).to.equal(1);
    expect(r.phases[0].lost_messages).to.equal(1);
    expect(r.phases[2].lost_packets).to.equal(0);
    expect(r.unmatched_messages).to.equal(0);
    expect(r.tail_lost_packets).to.equal(0);
    expect(r.phases.reduce((a, p) => a + p.packets, 0)).to.equal(dataFrames);
  });

  it('counts frames after the last one received as a lost tail in the last phase', () => {
    const total = Array.from({ length: dataFrames }, (_, i) => frameSeq(cap, i).count).reduce((a, b) => a + b, 0);
    const last2 = frameSeq(cap, dataFrames - 1).count + frameSeq(cap, dataFrames - 2).count;
    const r = lossBySequence(cap, phase, 3, cap.count, [], total - last2);
    expect(r.tail_lost_packets).to.equal(2);
    expect(r.phases[2].lost_packets).to.equal(2);
    expect(r.phases[2].lost_messages).to.equal(last2);
  });
});
