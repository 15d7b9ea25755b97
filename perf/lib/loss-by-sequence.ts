/**
 * Which packets were lost, by MoldUDP64 sequence number, and in which phase of a paced schedule
 * they were sent. The pipeline's decoder reports every sequence gap it saw (an 'unrecovered_gap'
 * log line with the first and last missing message); this maps those message ranges back to the
 * capture's frames, so a packet dropped during a burst is charged to the burst even when the drop
 * counter moved after the sender had switched phase. Messages after the last one received (a lost
 * tail) cannot show as a gap; they are counted from what the sender sent.
 */
import { CaptureFile } from '../../lib/tools/capture-file';

export interface SequenceRange { from: number; to: number }

export interface PhaseLoss { packets: number; messages: number; lost_packets: number; lost_messages: number; loss: number }

export interface LossBySequence {
  phases: PhaseLoss[];
  /** Messages in the gaps the decoder reported. */
  gap_messages: number;
  /** Gap messages that fell in no frame of the capture (should be 0). */
  unmatched_messages: number;
  /** Frames lost after the last message received (no later packet revealed them as a gap). */
  tail_lost_packets: number;
}

/** The missing range of an 'unrecovered_gap' log line, or undefined. */
export function gapFromLog(line: string): SequenceRange | undefined {
  const m = /messages (\d+) to (\d+) never received/.exec(line);
  return m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
}

/**
 * `phase[i]`: schedule segment of frame i; `sentFrames`: how many frames the sender published (a
 * prefix of the capture); `received`: messages the decoder decoded. Sent messages neither received
 * nor in a gap are the lost tail: the last frames sent.
 */
export function lossBySequence(cap: CaptureFile, phase: Uint8Array, nPhases: number, sentFrames: number, gaps: SequenceRange[], received: number): LossBySequence {
  const phases: PhaseLoss[] = Array.from({ length: nPhases }, () => ({ packets: 0, messages: 0, lost_packets: 0, lost_messages: 0, loss: 0 }));
  const sorted = [...gaps].sort((a, b) => a.from - b.from);
  const gapMessages = sorted.reduce((a, g) => a + g.to - g.from + 1, 0);
  let matched = 0, g = 0, sent = 0;
  const lostIn = new Uint32Array(sentFrames), counts = new Uint16Array(sentFrames);
  for (let i = 0; i < sentFrames; i++) {
    if (cap.payloadLengths[i] < 20) continue;
    const at = cap.payloadOffsets[i];
    const seq = readU64(cap.data, at + 10), count = (cap.data[at + 18] << 8) | cap.data[at + 19];
    if (count === 0 || count === 0xffff) continue; // heartbeat, end of session
    counts[i] = count;
    sent += count;
    const last = seq + count - 1;
    while (g < sorted.length && sorted[g].to < seq) g++;
    for (let k = g; k < sorted.length && sorted[k].from <= last; k++) {
      lostIn[i] += Math.min(last, sorted[k].to) - Math.max(seq, sorted[k].from) + 1;
    }
    matched += lostIn[i];
  }
  // The lost tail, from the last frame sent backwards.
  let tailMessages = sent - received - matched, tail = 0;
  for (let i = sentFrames - 1; i >= 0 && tailMessages > 0; i--) {
    if (counts[i] === 0 || lostIn[i] === counts[i]) continue;
    lostIn[i] = counts[i]; tailMessages -= counts[i]; tail++;
  }
  for (let i = 0; i < sentFrames; i++) {
    if (counts[i] === 0) continue;
    const p = phases[phase[i]];
    p.packets++; p.messages += counts[i];
    if (lostIn[i] > 0) { p.lost_packets++; p.lost_messages += lostIn[i]; }
  }
  for (const p of phases) p.loss = p.packets ? p.lost_packets / p.packets : 0;
  return { phases, gap_messages: gapMessages, unmatched_messages: gapMessages - matched, tail_lost_packets: tail };
}

function readU64(b: Uint8Array, at: number): number {
  let v = 0;
  for (let k = 0; k < 8; k++) v = v * 256 + b[at + k];
  return v;
}
