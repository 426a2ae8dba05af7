/**
 * The store's coalescer (src/coordination/batcher.ts) with a fake flush: calls of one tick go out
 * as one batch, in order; each caller gets its own value or its own error; a failed flush fails
 * every request with the same error; the size cap starts a new batch; a batch's deadline is its
 * requests' smallest; a flush that answers the wrong number of requests is an internal error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Batcher, type Settled } from '../../src/coordination/batcher.js';
import { internalErrorOf } from '../../src/coordination/internal-error.js';
import { storeFailure, storeFailureOf } from '../../src/coordination/store-failure.js';

interface Sent {
  requests: number[];
  timeoutMs: number | undefined;
}

/** A batcher whose flush doubles each number, or fails each negative one alone. */
function doubling(options: { maxSize?: number; now?: () => number } = {}): { batcher: Batcher<number, number>; sent: Sent[] } {
  const sent: Sent[] = [];
  const batcher = new Batcher<number, number>(
    async (requests, timeoutMs) => {
      sent.push({ requests: [...requests], timeoutMs });
      return requests.map((n): Settled<number> => (n < 0 ? { error: new Error(`negative ${n}`) } : { value: n * 2 }));
    },
    { name: 'double', ...options },
  );
  return { batcher, sent };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  test('calls made in one tick are sent as one batch, in order, each caller getting its own value', async () => {
    const { batcher, sent } = doubling();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    assert.deepEqual(results, [2, 4, 6, 8, 10]);
    assert.deepEqual(sent.map((s) => s.requests), [[1, 2, 3, 4, 5]]);
  });

  test('calls of the next tick go in the next batch', async () => {
    const { batcher, sent } = doubling();
    const first = batcher.submit(1);
    await tick();
    const second = batcher.submit(2);
    assert.deepEqual(await Promise.all([first, second]), [2, 4]);
    assert.deepEqual(sent.map((s) => s.requests), [[1], [2]]);
  });

  test('a request\'s own error goes to its caller only', async () => {
    const { batcher, sent } = doubling();
    const answers = await Promise.allSettled([1, -2, 3].map((n) => batcher.submit(n)));
    assert.equal(sent.length, 1);
    assert.deepEqual(answers.map((a) => a.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((answers[1] as PromiseRejectedResult).reason), /negative -2/);
  });

  test('a flush that fails fails every request with the same typed store failure', async () => {
    const failure = storeFailure('Redis is not reachable', { store: 'down', command: 'EVALSHA', maybeExecuted: true });
    const batcher = new Batcher<number, number>(async () => {
      throw failure;
    }, { name: 'down' });
    const answers = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    for (const a of answers) {
      assert.equal(a.status, 'rejected');
      assert.equal((a as PromiseRejectedResult).reason, failure);
      assert.equal(storeFailureOf((a as PromiseRejectedResult).reason)?.store, 'down');
    }
  });

  test('a flush that throws at once fails every request too', async () => {
    const batcher = new Batcher<number, number>(() => {
      throw new Error('sync');
    }, { name: 'sync' });
    const answers = await Promise.allSettled([1, 2].map((n) => batcher.submit(n)));
    assert.deepEqual(answers.map((a) => a.status === 'rejected' && String((a.reason as Error).message)), ['sync', 'sync']);
  });

  test('the size cap sends a full batch at once; the rest of the tick starts another', async () => {
    const { batcher, sent } = doubling({ maxSize: 3 });
    const all = [1, 2, 3, 4, 5, 6, 7].map((n) => batcher.submit(n));
    assert.deepEqual(sent.map((s) => s.requests), [[1, 2, 3], [4, 5, 6]], 'two full batches were sent before the tick ended');
    assert.equal(batcher.pending, 1);
    assert.deepEqual(await Promise.all(all), [2, 4, 6, 8, 10, 12, 14]);
    assert.deepEqual(sent.map((s) => s.requests), [[1, 2, 3], [4, 5, 6], [7]]);
  });

  test('a batch\'s deadline is the smallest of its requests\', counted from each submit; none without any', async () => {
    let now = 1_000;
    const { batcher, sent } = doubling({ now: () => now });
    const a = batcher.submit(1, 800);
    now += 100;
    const b = batcher.submit(2, 300); // until 1400: the first to pass
    const c = batcher.submit(3);
    now += 50; // flushed at 1150
    await Promise.all([a, b, c]);
    assert.equal(sent[0]!.timeoutMs, 250);
    await batcher.submit(4);
    assert.equal(sent[1]!.timeoutMs, undefined);
    // A deadline that passed before the flush still leaves the batch 1 ms, never 0 or less.
    const late = batcher.submit(5, 10);
    now += 500;
    await late;
    assert.equal(sent[2]!.timeoutMs, 1);
  });

  test('a flush answering the wrong number of requests fails them all as an internal error', async () => {
    const batcher = new Batcher<number, number>(async (requests) => requests.slice(1).map((n) => ({ value: n })), { name: 'short' });
    const answers = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    for (const a of answers) {
      assert.equal(a.status, 'rejected');
      const details = internalErrorOf((a as PromiseRejectedResult).reason);
      assert.ok(details, String((a as PromiseRejectedResult).reason));
      assert.match(String((a as PromiseRejectedResult).reason.message), /a short batch .*3 requests, 2 answers/);
    }
  });
});
