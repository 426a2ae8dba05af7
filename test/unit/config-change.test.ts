/** What a reload changes: jobs added, removed, changed (not moved), live and restart-only settings, the configuration hash. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, configHash, diffJobs, diffSettings } from '../../src/jobsfile/config-change.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';

const registry = new WatcherRegistry();
const parse = (lines: string[]) => {
  const jf = parseJobsFile({ text: lines.join('\n'), file: 'c.conf', env: {}, watchers: registry, now: 0 });
  assert.deepEqual(jf.diagnostics.filter((d) => d.severity === 'error'), []);
  return jf;
};

test('canonical JSON ignores key order and undefined values', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ y: 2, x: undefined, z: null }] }), canonicalJson({ a: [{ z: null, y: 2 }], b: 1 }));
  assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
});

test('diffJobs: added, removed, changed; a job only moved to another line is unchanged', () => {
  const before = parse(['0 * * * * * cron exec name=a command=true', '0 * * * * * cron exec name=b command=true', '0 * * * * * cron exec name=c command=true']);
  const after = parse(['', '# moved', '0 * * * * * cron exec name=c command=true', '0 * * * * * cron exec name=a command=false', '0 * * * * * cron exec name=d command=true']);
  const change = diffJobs(before.jobs, after.jobs);
  assert.deepEqual(change.added.map((j) => j.name), ['d']);
  assert.deepEqual(change.removed.map((j) => j.name), ['b']);
  assert.deepEqual(change.changed.map((c) => [c.before.options.command, c.after.options.command]), [['true', 'false']]);
  assert.equal(change.unchanged, 1);
});

test('diffSettings: NOTIFY_URL and SHUTDOWN_TIMEOUT apply live; the rest keep their running value and need a restart', () => {
  const before = parse(['REDIS_URL=redis://a:6379', 'SHUTDOWN_TIMEOUT=5s']).settings;
  const after = parse(['REDIS_URL=redis://b:6379', 'SHUTDOWN_TIMEOUT=9s', 'NOTIFY_URL=https://hooks.example/x', 'HISTORY_LIMIT=7']).settings;
  const d = diffSettings(before, after);
  assert.deepEqual(d.applied.sort(), ['NOTIFY_URL', 'SHUTDOWN_TIMEOUT']);
  assert.deepEqual(d.needRestart.sort(), ['HISTORY_LIMIT', 'REDIS_URL']);
  assert.equal(d.settings.redisUrl, 'redis://a:6379');
  assert.equal(d.settings.shutdownTimeoutMs, 9_000);
  assert.equal(d.settings.notifyUrl, 'https://hooks.example/x');
  assert.deepEqual(diffSettings(before, before), { settings: before, applied: [], needRestart: [] });
});

test('configHash: the same configuration gives the same hash whatever its layout; any change of definition another', () => {
  const a = parse(['0 * * * * * cron exec name=a command=true', '0 * * * * * cron exec name=b command=true']);
  const moved = parse(['# comment', '0 * * * * * cron exec name=b command=true', '', '0 * * * * * cron exec name=a command=true']);
  const changed = parse(['0 * * * * * cron exec name=a command=true', '0 * * * * * cron exec name=b command=true timeout=5s']);
  assert.match(configHash(a), /^[0-9a-f]{12}$/);
  assert.equal(configHash(a), configHash(moved));
  assert.notEqual(configHash(a), configHash(changed));
  assert.notEqual(configHash(a), configHash({ ...a, settings: { ...a.settings, prefix: 'other' } }));
});
