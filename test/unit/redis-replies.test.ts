/**
 * The Redis store's pure parts: script replies parsed strictly (a wrong tag or a missing field is
 * an internal error naming the script and quoting the reply, never a default such as
 * 'running'), the scripts composed from lua/lib/*.lua at load time (each snippet once, with a
 * header listing KEYS and ARGV in every file), and Redis Cluster hash slots.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { internalErrorOf } from '../../src/coordination/internal-error.js';
import { groupBySlot } from '../../src/coordination/redis/batch-call.js';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { batchReplies, parseAcquireReply, parseClaimReply, parseFlag, parseIntervalReply, parseLength } from '../../src/coordination/redis/replies.js';
import { compose, loadScript, SCRIPTS } from '../../src/coordination/redis/scripts.js';
import { crc16, keySlot } from '../../src/coordination/redis/slot.js';

const holderJson = JSON.stringify({ instance: 'a', occurrence: 1, startedAt: 2 });

/** Asserts `fn` throws an internal error naming `script`; returns its message. */
function rejects(fn: () => unknown, script: string): string {
  try {
    fn();
  } catch (err) {
    const details = internalErrorOf(err);
    assert.ok(details, `an internal error, got ${String(err)}`);
    assert.equal(details.source, `the ${script} script`);
    return (err as Error).message;
  }
  assert.fail('no error');
}

describe('script replies', () => {
  const claim = SCRIPTS.claimOccurrences;

  test('well-formed replies become typed results', () => {
    assert.deepEqual(parseClaimReply(claim, ['won', 1_700_000_000_000_001]), { kind: 'won', fence: 1_700_000_000_000_001 });
    assert.deepEqual(parseClaimReply(claim, ['taken']), { kind: 'taken' });
    assert.deepEqual(parseClaimReply(claim, ['late']), { kind: 'late' });
    assert.deepEqual(parseClaimReply(claim, ['running', holderJson, 900]), { kind: 'running', holder: { instance: 'a', occurrence: 1, startedAt: 2 } });
    assert.deepEqual(parseClaimReply(claim, ['running', '', 900]), { kind: 'running', holder: null }, 'no holder found');
    assert.deepEqual(parseClaimReply(claim, ['running', '{torn', 900]), { kind: 'running', holder: null }, 'a holder that does not parse');
    assert.deepEqual(parseIntervalReply(SCRIPTS.claimIntervals, ['won', 5, 6, 7]), { kind: 'won', fence: 5, generation: 6, due: 7 });
    assert.deepEqual(parseIntervalReply(SCRIPTS.claimIntervals, ['wait', 120]), { kind: 'wait', ms: 120 });
    assert.deepEqual(parseIntervalReply(SCRIPTS.claimIntervals, ['running', holderJson, 30]), { kind: 'running', holder: { instance: 'a', occurrence: 1, startedAt: 2 }, ms: 30 });
    assert.deepEqual(parseAcquireReply(SCRIPTS.acquire, ['won', 9]), { kind: 'won', fence: 9 });
    assert.equal(parseFlag(SCRIPTS.renew, 1), true);
    assert.equal(parseFlag(SCRIPTS.release, 0), false);
    assert.equal(parseLength(SCRIPTS.historyAppend, 3), 3);
  });

  test('an unknown tag is an error naming the script and quoting the reply, never a default', () => {
    const message = rejects(() => parseClaimReply(claim, ['maybe', 1]), 'claim-occurrences-5n');
    assert.match(message, /unknown tag 'maybe'.*\["maybe",1\]/);
    assert.match(message, /please report it/);
    rejects(() => parseClaimReply(claim, ['wait', 10]), 'claim-occurrences-5n');
    rejects(() => parseAcquireReply(SCRIPTS.acquire, ['taken']), 'acquire-4');
    rejects(() => parseIntervalReply(SCRIPTS.claimIntervals, ['late']), 'claim-intervals-4n');
  });

  const malformed: Array<[string, unknown]> = [
    ['a missing fence', ['won']],
    ['a fence that is a string', ['won', '17']],
    ['a fence that is not an integer', ['won', 1.5]],
    ['an extra field', ['taken', 1]],
    ['a running reply without its time left', ['running', holderJson]],
    ['a holder that is not a string', ['running', 7, 10]],
    ['not a list', 'won'],
    ['an empty list', []],
    ['nil', null],
    ['a number', 1],
  ];
  for (const [what, reply] of malformed) {
    test(`claim: ${what} is an error`, () => {
      rejects(() => parseClaimReply(claim, reply), 'claim-occurrences-5n');
    });
  }

  test('interval, renew, release and history replies are checked as strictly', () => {
    rejects(() => parseIntervalReply(SCRIPTS.claimIntervals, ['won', 5, 6]), 'claim-intervals-4n');
    rejects(() => parseIntervalReply(SCRIPTS.claimIntervals, ['wait']), 'claim-intervals-4n');
    rejects(() => parseFlag(SCRIPTS.renew, 2), 'renew-1n');
    rejects(() => parseFlag(SCRIPTS.renew, '1'), 'renew-1n');
    rejects(() => parseFlag(SCRIPTS.release, null), 'release-3n');
    rejects(() => parseLength(SCRIPTS.historyAppend, -1), 'history-append-1n');
    rejects(() => parseLength(SCRIPTS.historyAppend, 'OK'), 'history-append-1n');
  });

  test('a batch reply must hold one reply per request', () => {
    assert.deepEqual(batchReplies(claim, [['taken'], ['late']], 2), [['taken'], ['late']]);
    assert.match(rejects(() => batchReplies(claim, [['taken']], 2), 'claim-occurrences-5n'), /1 replies for 2 requests/);
    rejects(() => batchReplies(claim, 'OK', 1), 'claim-occurrences-5n');
  });
});

describe('scripts', () => {
  const dir = new URL('../../src/coordination/redis/lua/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.lua'));
  const libs = readdirSync(new URL('lib/', dir)).filter((f) => f.endsWith('.lua'));

  test('every script and snippet starts with a header; scripts list their KEYS and ARGV', () => {
    assert.ok(files.length >= 6, files.join(', '));
    for (const f of files) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      assert.ok(text.startsWith(`--[[\n${f}: `), `${f} starts with its header`);
      const header = text.slice(0, text.indexOf(']]'));
      assert.match(header, /KEYS\[/, `${f} lists its KEYS`);
      assert.match(header, /ARGV\[/, `${f} lists its ARGV`);
    }
    for (const f of libs) assert.ok(readFileSync(new URL(`lib/${f}`, dir), 'utf8').startsWith(`--[[\nlib/${f}: `), `lib/${f} starts with its header`);
  });

  test('every file in lua/ is loaded, and every name says its keys: name-<k>.lua or name-<k>n.lua', () => {
    const loaded = Object.values(SCRIPTS).map((s) => `${s.name}.lua`).sort();
    assert.deepEqual(loaded, [...files].sort());
    for (const s of Object.values(SCRIPTS)) assert.equal(s.batch, s.name.endsWith('n'), s.name);
    assert.deepEqual({ k: SCRIPTS.claimOccurrences.keysPerRequest, batch: SCRIPTS.claimOccurrences.batch }, { k: 5, batch: true });
    assert.deepEqual({ k: SCRIPTS.acquire.keysPerRequest, batch: SCRIPTS.acquire.batch }, { k: 4, batch: false });
  });

  test('snippets are composed in once each; the shared rules are written once, in lib/', () => {
    for (const s of Object.values(SCRIPTS)) {
      assert.doesNotMatch(s.source, /--@include/, `${s.name}: every include resolved`);
      for (const fn of ['local function redis_now_ms', 'local function next_fence', 'local function sweep_dead', 'local function take_lock']) {
        assert.ok(s.source.split(fn).length <= 2, `${s.name}: ${fn} defined at most once`);
      }
    }
    assert.match(SCRIPTS.claimOccurrences.source, /local function sweep_dead[\s\S]*local function take_lock/);
    assert.match(SCRIPTS.renew.source, /local function redis_now_ms/);
    for (const f of files) {
      const own = readFileSync(new URL(f, dir), 'utf8');
      assert.doesNotMatch(own, /redis\.call\('TIME'\)|\* 1000 \+ math\.floor|string\.format\('%\.0f'/, `${f} uses lib/ for the clock and the counters`);
    }
  });

  test('compose: nested includes, each file once, the SHA over the composed text', () => {
    const lib: Record<string, string> = {
      'main-1.lua': '-- main\n--@include lib/a.lua\n--@include lib/b.lua\nreturn 1\n',
      'lib/a.lua': '-- a\nlocal function a() end\n',
      'lib/b.lua': '-- b\n--@include lib/a.lua\nlocal function b() end\n',
    };
    const read = (f: string): string => lib[f] ?? assert.fail(`read ${f}`);
    assert.equal(compose(lib['main-1.lua']!, read), '-- main\n-- a\nlocal function a() end\n-- b\n-- (lib/a.lua: included above)\nlocal function b() end\nreturn 1\n');
    const s = loadScript('main-1.lua', read);
    assert.deepEqual({ name: s.name, keys: s.keysPerRequest, batch: s.batch }, { name: 'main-1', keys: 1, batch: false });
    assert.notEqual(s.sha, loadScript('main-1.lua', (f) => (f === 'lib/a.lua' ? '-- a2\n' : read(f))).sha, 'a change in a snippet changes the SHA');
    assert.throws(() => loadScript('main.lua', read), /not name-<keys>\.lua/);
  });
});

describe('hash slots', () => {
  test('CRC16/XMODEM and Redis Cluster\'s hash tag rule', () => {
    assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
    // Values from CLUSTER KEYSLOT (and the Redis Cluster specification's examples).
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
    assert.equal(keySlot('foo{bar}{zap}'), keySlot('bar'));
    assert.equal(keySlot('foo{}{bar}'), crc16(Buffer.from('foo{}{bar}')) & 16383, 'an empty tag hashes the whole key');
    assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'));
    assert.equal(keySlot('{héllo}x'), keySlot('héllo'), 'UTF-8 bytes');
  });

  test('a job\'s keys share a slot; a batch is grouped by slot only on a cluster', () => {
    const k = jobKeys('iamwatch', 'purge');
    const slots = new Set([k.claims, k.state, k.running, k.holders, k.history].map(keySlot));
    assert.equal(slots.size, 1);
    const requests = ['a', 'b', 'c', 'a'].map((job) => ({ keys: [jobKeys('p', job).claims], args: [] }));
    assert.deepEqual(groupBySlot(requests, false), [[0, 1, 2, 3]]);
    const grouped = groupBySlot(requests, true);
    assert.deepEqual(grouped.flat().sort(), [0, 1, 2, 3]);
    assert.ok(grouped.some((g) => g.includes(0) && g.includes(3)), 'one job\'s requests are in one call, in order');
    for (const g of grouped) assert.equal(new Set(g.map((i) => keySlot(requests[i]!.keys[0]!))).size, 1);
    assert.deepEqual(groupBySlot([], true), []);
  });
});
