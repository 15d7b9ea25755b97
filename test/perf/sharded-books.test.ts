/**
 * The sharded-books layout of perf:throughput builds the same books as one thread: a decoder
 * fanning out by stock locate to worker threads over the pipeline's ITCH record rings must deliver
 * every message of a book to the one shard that holds it, in feed order. Real workers, real rings.
 */
import { expect } from 'chai';
import { marketSession } from '../../perf/lib/book-sessions';
import { runFused, runSharded } from '../../perf/lib/sharded-books';

describe('perf:throughput sharded books (one decoder, book workers by locate)', function () {
  this.timeout(60_000);
  const session = marketSession(30_000, 37);

  it('gives every shard count the events one thread gives, with no unknown order', async () => {
    const fused = runFused(session);
    expect(fused.bad_references).to.equal(0);
    expect(fused.events).to.be.greaterThan(30_000);
    for (const shards of [1, 2, 3]) {
      const r = await runSharded(session, shards, true);
      // Events after conflation plus the quotes it merged: how many are merged depends on the batches.
      expect([r.shards, r.events + r.conflated, r.bad_references], `${shards} shards`).to.deep.equal([shards, fused.events + fused.conflated, 0]);
      expect(r.worker_cpu_ns_per_msg).to.have.length(shards);
      // Locates spread over the shards (37 symbols: none gets everything).
      for (const n of r.shard_messages) expect(n, `${shards} shards: ${r.shard_messages.join(' ')}`).to.be.greaterThan(session.messages / (shards * 3));
      // Every message to exactly one shard (System Events, locate 0, to shard 0).
      expect(r.messages).to.equal(session.messages);
    }
  });

  it('the fan-out ceiling reads every message without books', async () => {
    const r = await runSharded(session, 2, false);
    expect([r.events, r.messages]).to.deep.equal([0, session.messages]);
  });
});
