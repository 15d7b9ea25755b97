/**
 * What a FIX session still owes its peer in answer to ResendRequests: sorted, disjoint runs of
 * MsgSeqNums, each to be replayed (a stored message goes out again with PossDupFlag=Y) or
 * gap-filled (the part of one request beyond the resend cap).
 *
 * Why a queue rather than one cursor: a peer may send a second ResendRequest while the first is
 * still being answered in throttled batches (its own timer, a second gap). With one cursor the
 * second request overwrote the first and the rest of the first range was never sent; the peer
 * then waited forever for it. Requests are merged instead, so every sequence number asked for is
 * answered exactly once per pass, in ascending order, and a replay beats a gap fill when two
 * requests disagree about the same number.
 *
 * Single writer: the session's event loop. Runs are few (one per outstanding request), so the
 * merge is a linear rebuild; the hot part (`takeOne`) is an index bump.
 */
interface Run { from: number; to: number; replay: boolean }

export class ResendQueue {
  private runs: Run[] = [];

  get isEmpty(): boolean { return this.runs.length === 0; }

  /** How many sequence numbers are still owed. */
  get size(): number {
    let n = 0;
    for (const r of this.runs) n += r.to - r.from + 1;
    return n;
  }

  /** First owed sequence number (0 when empty). */
  get first(): number { return this.runs.length ? this.runs[0].from : 0; }

  /** Whether the first owed number is to be replayed (false: gap-filled). */
  get firstIsReplay(): boolean { return this.runs.length > 0 && this.runs[0].replay; }

  /**
   * Owes `begin..end`: `replayFrom..end` replayed, `begin..replayFrom-1` gap-filled
   * (`replayFrom` = `begin` when the request is within the cap).
   */
  add(begin: number, end: number, replayFrom: number): void {
    if (end < begin) return;
    const split = Math.min(Math.max(replayFrom, begin), end + 1);
    if (split > begin) this.addRun(begin, split - 1, false);
    if (split <= end) this.addRun(split, end, true);
  }

  /** Consumes the first owed number; returns it (0 when empty). */
  takeOne(): number {
    const r = this.runs[0];
    if (!r) return 0;
    const seq = r.from++;
    if (r.from > r.to) this.runs.shift();
    return seq;
  }

  /** Consumes the whole first run when it is a gap-fill run; returns its last number (0 otherwise). */
  takeFillRun(): number {
    const r = this.runs[0];
    if (!r || r.replay) return 0;
    this.runs.shift();
    return r.to;
  }

  clear(): void { this.runs = []; }

  /** Adds one run; replay wins over gap fill where they overlap. */
  private addRun(from: number, to: number, replay: boolean): void {
    const out: Run[] = [];
    let pieces: Array<[number, number]> = [[from, to]];
    for (const r of this.runs) {
      if (r.to < from || r.from > to) { out.push(r); continue; }
      if (r.replay || !replay) {
        // The existing run is at least as strong: keep it, add only what it does not cover.
        out.push(r);
        pieces = subtract(pieces, r.from, r.to);
      } else {
        for (const [a, b] of subtract([[r.from, r.to]], from, to)) out.push({ from: a, to: b, replay: r.replay });
      }
    }
    for (const [a, b] of pieces) out.push({ from: a, to: b, replay });
    out.sort((x, y) => x.from - y.from);
    const merged: Run[] = [];
    for (const r of out) {
      const last = merged[merged.length - 1];
      if (last && last.replay === r.replay && last.to + 1 >= r.from) last.to = Math.max(last.to, r.to);
      else merged.push({ ...r });
    }
    this.runs = merged;
  }
}

function subtract(pieces: Array<[number, number]>, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of pieces) {
    if (b < from || a > to) { out.push([a, b]); continue; }
    if (a < from) out.push([a, from - 1]);
    if (b > to) out.push([to + 1, b]);
  }
  return out;
}
