/** The "did you mean" helper: which names count as a plausible typo of another, best first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, editDistance, suggest } from '../../src/base/suggest.js';

test('edit distance counts insertions, deletions, substitutions and swaps of neighbours as one', () => {
  const cases: Array<[string, string, number]> = [
    ['', '', 0],
    ['', 'abc', 3],
    ['exec', 'exec', 0],
    ['exce', 'exec', 1], // swap
    ['exe', 'exec', 1], // insertion
    ['execc', 'exec', 1], // deletion
    ['exac', 'exec', 1], // substitution
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // optimal string alignment: a swap is not edited again
  ];
  for (const [a, b, d] of cases) assert.equal(editDistance(a, b), d, `${a} -> ${b}`);
});

test('suggest offers close names, best first, and nothing for a far-off one', () => {
  const jobs = ['nightly-clean', 'heartbeat', 'report', 'orders', 'clean', 'cleansecret'];
  assert.deepEqual(suggest('hartbeat', jobs), ['heartbeat']);
  assert.deepEqual(suggest('claen', jobs), ['clean']);
  assert.deepEqual(suggest('CLEAN', jobs), ['clean', 'cleansecret'], 'case is ignored');
  assert.deepEqual(suggest('cleans', jobs), ['clean', 'cleansecret'], 'one edit, then a name it starts');
  assert.deepEqual(suggest('zzzzzz', jobs), []);
  assert.deepEqual(suggest('', jobs), []);
  assert.deepEqual(suggest('clean', jobs), ['cleansecret'], 'an exact name is not suggested to itself');
  assert.deepEqual(suggest('ab', ['ax', 'bb', 'zz']), ['ax', 'bb'], 'short names: one edit');
  assert.equal(suggest('x', ['y', 'z', 'w', 'v']).length, 3, 'at most three');
});

test('didYouMean words one, two or three names, or says nothing', () => {
  assert.equal(didYouMean('exce', ['clean', 'exec', 'task']), 'did you mean "exec"?');
  assert.equal(didYouMean('tsk', ['task', 'tsks']), 'did you mean "task" or "tsks"?');
  assert.equal(didYouMean('ab', ['ax', 'bb', 'ac']), 'did you mean "ax", "bb" or "ac"?');
  assert.equal(didYouMean('zzzzzz', ['clean', 'exec']), null);
});
