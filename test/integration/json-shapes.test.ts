/**
 * The `--json` shape of every command that has one, through the built CLI, against real Redis (a
 * unique prefix) and an SQLite IAM database in a temporary folder. For each: stdout is exactly one
 * JSON document (nothing else: logs and warnings go to stderr), every object has exactly the keys
 * its command documents in the README (an absent value is null, never a missing key; an empty list
 * is []), every time is an ISO-8601 string (UTC, as toISOString() writes it; `next` times carry
 * the job's zone offset) or null, and every `...Ms` duration is a number or null. An error under
 * --json is a message on stderr, with nothing on stdout.
 *
 * The fleet state the read commands report is made by `once` runs (an ok one, a failed one), a
 * pause, and, written straight to the store, a running lock, a live heartbeat with a run in
 * progress and an overlap skip, so that each nested shape is met at least once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Heartbeat } from '../../src/coordination/records.js';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/client.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

/** An object's exact keys: `true` for a value not looked into, a nested shape for an object (or null), `[shape]` for a list of them. */
interface Shape {
  [key: string]: true | Shape | [Shape];
}

const keys = (...names: string[]): Shape => Object.fromEntries(names.map((n) => [n, true]));

const RECORD = keys('job', 'mode', 'occurrence', 'nominal', 'instance', 'fence', 'outcome', 'reason', 'holder', 'startedAt', 'endedAt', 'durationMs', 'latenessMs', 'attempts', 'manual', 'by', 'summary', 'error', 'time');
const PAUSED = keys('job', 'by', 'at', 'until', 'reason');
const PAUSE = keys('by', 'at', 'until', 'reason');
const OPTION = keys('name', 'type', 'required', 'default', 'min', 'max', 'values', 'protocols', 'pattern', 'description');
const TABLE = keys('table', 'present');
const PROBLEM = keys('kind', 'table', 'name', 'message', 'statement');

const SHAPES = {
  validate: { ...keys('file', 'valid', 'errors', 'warnings'), jobs: [keys('job', 'watcher', 'mode', 'schedule', 'tz', 'line')], diagnostics: [keys('file', 'line', 'col', 'severity', 'message')] },
  next: keys('job', 'watcher', 'mode', 'schedule', 'tz', 'next', 'note'),
  once: keys('job', 'watcher', 'occurrence', 'instance', 'fence', 'attempts', 'outcome', 'startedAt', 'endedAt', 'durationMs', 'result', 'error', 'locked', 'dryRun'),
  pause: { ...keys('store', 'all'), paused: [PAUSED] },
  resume: { ...keys('store', 'notPaused'), resumed: [PAUSED] },
  status: {
    ...keys('file', 'now'),
    coordination: keys('kind', 'location', 'label', 'prefix'),
    jobs: [{ ...keys('name', 'watcher', 'mode', 'schedule', 'tz', 'enabled', 'next', 'nextNote'), lastRun: RECORD, running: [keys('instance', 'occurrence', 'startedAt', 'expiresAt', 'manual')], paused: PAUSE }],
    instances: [{ ...keys('instance', 'host', 'pid', 'version', 'state', 'startedAt', 'lastBeat', 'ageMs', 'skewMs', 'jobs', 'configHash'), running: [keys('job', 'occurrence', 'fence', 'startedAt')] }],
    config: { drift: true, configurations: [keys('hash', 'instances')] },
  },
  history: RECORD,
  audit: { ...keys('file', 'now', 'since', 'ok'), jobs: [{ ...keys('job', 'mode', 'expected', 'ok', 'from', 'to', 'note'), missed: [keys('occurrence', 'status', 'reason', 'detail', 'instance')] }] },
  dbCheck: { ...keys('database', 'dialect', 'ok'), tables: [TABLE], problems: [PROBLEM] },
  dbInit: { ...keys('database', 'dialect', 'createdTables', 'existingTables', 'createdIndexes'), demo: keys('users', 'policyAudits', 'secrets'), check: { ...keys('dialect', 'ok'), tables: [TABLE], problems: [PROBLEM] } },
  watchers: { file: true, watchers: [{ ...keys('name', 'description', 'source', 'database'), options: [OPTION] }], commonOptions: [OPTION] },
} satisfies Record<string, Shape>;

/** Exactly the keys of `shape`, at every level. */
function checkShape(value: unknown, shape: Shape, where: string): void {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${where}: an object, not ${JSON.stringify(value)}`);
  const obj = value as Record<string, unknown>;
  assert.deepEqual(Object.keys(obj).sort(), Object.keys(shape).sort(), `${where}: keys`);
  for (const [key, sub] of Object.entries(shape)) {
    const v = obj[key];
    if (sub === true || v === null) continue;
    if (Array.isArray(sub)) {
      assert.ok(Array.isArray(v), `${where}.${key}: a list`);
      v.forEach((item, i) => checkShape(item, sub[0], `${where}.${key}[${i}]`));
    } else checkShape(v, sub, `${where}.${key}`);
  }
}

const UTC_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ZONED_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)$/;
/** Keys whose values are instants. */
const TIME_KEY = /^(at|until|since|now|time|nominal|lastBeat|from|to|cutoff)$|At$/;

/** Every time an ISO-8601 string or null, every `...Ms` a number or null, no epoch-ms number elsewhere. */
function checkValues(value: unknown, where: string, key = ''): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkValues(v, `${where}[${i}]`, key === 'next' ? 'next' : ''));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) checkValues(v, `${where}.${k}`, k);
    return;
  }
  if (TIME_KEY.test(key)) assert.ok(value === null || (typeof value === 'string' && UTC_ISO.test(value)), `${where}: ISO-8601 UTC or null, not ${JSON.stringify(value)}`);
  else if (key === 'next') assert.ok(value === null || (typeof value === 'string' && ZONED_ISO.test(value) && !Number.isNaN(Date.parse(value))), `${where}: ISO-8601 or null, not ${JSON.stringify(value)}`);
  else if (key === 'occurrence') assert.ok(typeof value === 'string' && (UTC_ISO.test(value) || /^gen:\d+$/.test(value)), `${where}: an ISO-8601 occurrence or gen:N, not ${JSON.stringify(value)}`);
  else if (key.endsWith('Ms')) assert.ok(value === null || typeof value === 'number', `${where}: a number of ms or null, not ${JSON.stringify(value)}`);
  // A number in the range of epoch milliseconds (1973..2286) under any other key is a time that should be a string.
  else if (typeof value === 'number') assert.ok(!(value > 1e11 && value < 1e13), `${where}: ${value} looks like epoch ms; times are ISO-8601 strings`);
}

/** stdout is exactly one JSON document, as json() writes it; it has `shape` (or is a list of it) and well-formed values. */
function parsed(r: CliResult, shape: Shape, what: string, code = 0): unknown {
  assert.equal(r.code, code, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const value: unknown = JSON.parse(r.stdout);
  assert.equal(r.stdout, `${JSON.stringify(value, null, 2)}\n`, `${what}: stdout is the JSON alone`);
  if (Array.isArray(value)) value.forEach((v, i) => checkShape(v, shape, `${what}[${i}]`));
  else checkShape(value, shape, what);
  checkValues(value, what);
  return value;
}

let dir: string;
let file: string;
let connection: RedisConnection;
const prefix = uniquePrefix('iwjson');

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-json-'));
  file = path.join(dir, 'jobs.conf');
  await writeFile(
    file,
    [
      `REDIS_URL=${SHARED_REDIS_URL}`,
      `IAMWATCH_PREFIX=${prefix}`,
      `DATABASE_URL=sqlite:${path.join(dir, 'iam.sqlite')}`,
      `0 3 * * *   cron      exec  name=good command='echo hi'`,
      // overlap has no effect on interval jobs: a warning, which goes to stderr.
      `@every 5m   interval  exec  name=bad overlap=skip command='exit 3'`,
      `@every 10s  rate      exec  name=jit jitter=2s command=true`,
      `0 4 * * *   cron      exec  name=held command=true`,
      `0 5 * * *   cron      exec  name=off enabled=false command=true`,
      '',
    ].join('\n'),
  );
  // What no CLI command makes quickly: a run in progress (its running lock, and an instance's
  // heartbeat announcing it) and an overlap skip, with its holder.
  connection = connectRedis(SHARED_REDIS_URL, { onError: () => {} });
  assert.ok(await connection.ready(5_000), 'shared Redis is up');
  const store = new RedisStore(connection, prefix);
  const now = Date.now();
  const lock = await store.acquire({ job: 'held', holder: { instance: 'seed-1', occurrence: now, startedAt: now, manual: true }, ttlMs: 60_000 });
  assert.equal(lock.kind, 'won');
  const fleet = store.fleet({ limit: 100, maxAgeMs: 86_400_000 });
  const beat: Heartbeat = {
    instance: 'seed-1', host: 'h', pid: 1, version: '0.0.0', startedAt: now - 60_000, lastBeat: now, skewMs: null, jobs: 5, configHash: null, state: 'running',
    running: [{ job: 'held', occurrence: new Date(now).toISOString(), fence: 7, startedAt: now }],
  };
  await fleet.beat(beat, 60_000);
  const nominal = new Date(now - 1_000).toISOString();
  await fleet.append({ job: 'held', mode: 'cron', occurrence: nominal, nominal, instance: 'seed-2', fence: null, outcome: 'skipped', reason: 'overlap', holder: 'seed-1', startedAt: null, endedAt: null, durationMs: null, latenessMs: null, attempts: 0, manual: false, at: now - 900 });
});

after(async () => {
  await connection?.close();
  const c = await openClient();
  await deletePrefix(c, prefix);
  await c.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '-c', file, '--json'], { timeoutMs: 20_000 });

test('every --json output has its documented keys, ISO-8601 times and nulls, on stdout alone', async () => {
  // Commands that read the file only (and the IAM database), side by side.
  const [validate, next, spec, watchers, watcher, dbCheck] = await Promise.all([
    cli('validate'),
    cli('next', '-n', '2'),
    runCli(['next', '--spec', '*/5 * * * *', '-n', '2', '--json']),
    cli('watchers'),
    cli('watchers', 'exec'),
    cli('db', 'check'),
  ]);
  const v = parsed(validate, SHAPES.validate, 'validate') as { diagnostics: unknown[]; jobs: unknown[] };
  assert.equal(v.jobs.length, 5);
  assert.equal(v.diagnostics.length, 1, 'the overlap warning');
  const n = parsed(next, SHAPES.next, 'next') as Array<{ job: string; note: string | null; next: string[] }>;
  assert.deepEqual(n.map((e) => [e.job, e.note === null]), [['good', true], ['bad', false], ['jit', false], ['held', true], ['off', true]]);
  assert.match(next.stderr, /warning: overlap has no effect/, 'warnings on stderr');
  const s = parsed(spec, SHAPES.next, 'next --spec') as Array<{ job: null; note: null; next: string[] }>;
  assert.deepEqual([s[0]!.job, s[0]!.note, s[0]!.next.length], [null, null, 2]);
  parsed(watchers, SHAPES.watchers, 'watchers');
  parsed(watcher, SHAPES.watchers, 'watchers exec');
  const check = parsed(dbCheck, SHAPES.dbCheck, 'db check', 1) as { problems: Array<{ statement: string | null }> };
  assert.ok(check.problems.length > 0 && check.problems.every((p) => p.statement === null), 'missing tables: no statement, null');
  const init = parsed(await cli('db', 'init', '--demo'), SHAPES.dbInit, 'db init') as { demo: unknown; check: { ok: boolean } };
  assert.ok(init.demo !== null && init.check.ok);

  // once: an ok run (no error), a failed one (no result), and one refused because the job is running.
  const [good, bad, held] = await Promise.all([cli('once', 'good', '--log-format', 'json'), cli('once', 'bad', '--log-format', 'json'), cli('once', 'held', '--log-format', 'json')]);
  const g = parsed(good, SHAPES.once, 'once good') as { error: null; result: { summary: string } };
  assert.equal(g.error, null);
  assert.match(g.result.summary, /^exit 0/);
  assert.match(good.stderr, /"event":"run-finished"/, 'logs on stderr');
  const b = parsed(bad, SHAPES.once, 'once bad', 1) as { error: string; result: null };
  assert.deepEqual([b.result, typeof b.error], [null, 'string']);
  assert.deepEqual([held.code, held.stdout], [3, ''], 'an error under --json: nothing on stdout');
  assert.match(held.stderr, /job held is running on seed-1/);

  const pause = parsed(await cli('pause', 'jit', '--until', '1h', '--reason', 'shape test'), SHAPES.pause, 'pause') as { paused: Array<{ until: string }> };
  assert.equal(pause.paused.length, 1);
  parsed(await cli('pause', 'off'), SHAPES.pause, 'pause (no --until, no --reason)');

  const [status, history, failed, audit] = await Promise.all([cli('status'), cli('history'), cli('history', 'bad', '--failed'), cli('audit', '--since', '1m')]);
  const st = parsed(status, SHAPES.status, 'status') as {
    jobs: Array<{ name: string; nextNote: string | null; lastRun: unknown; running: unknown[]; paused: { until: string | null; reason: string | null } | null }>;
    instances: Array<{ running: unknown[] }>;
  };
  const job = (name: string): (typeof st.jobs)[number] => st.jobs.find((j) => j.name === name)!;
  assert.deepEqual([job('good').nextNote, job('bad').nextNote !== null, job('off').nextNote], [null, true, 'never: enabled=false']);
  assert.ok(job('good').lastRun !== null && job('bad').lastRun !== null && job('jit').lastRun === null);
  assert.equal(job('held').running.length, 1);
  assert.deepEqual([job('off').paused?.until, job('off').paused?.reason, job('jit').paused?.reason, job('good').paused], [null, null, 'shape test', null]);
  assert.equal(st.instances.length, 1);
  assert.equal(st.instances[0]!.running.length, 1);
  const h = parsed(history, SHAPES.history, 'history') as Array<{ job: string; reason: string | null; holder: string | null; summary: string | null; error: string | null }>;
  assert.deepEqual(h.map((r) => r.job).sort(), ['bad', 'good', 'held']);
  const skip = h.find((r) => r.job === 'held')!;
  assert.deepEqual([skip.reason, skip.holder, skip.summary, skip.error], ['overlap', 'seed-1', null, null]);
  const f = parsed(failed, SHAPES.history, 'history --failed') as Array<{ outcome: string }>;
  assert.deepEqual(f.map((r) => r.outcome), ['failed']);
  const a = parsed(audit, SHAPES.audit, 'audit', 1) as { jobs: Array<{ job: string; missed: unknown[] }> };
  assert.ok(a.jobs.find((j) => j.job === 'jit')!.missed.length > 0, 'jit missed its occurrences');

  const resume = parsed(await cli('resume', 'jit', 'off', 'good'), SHAPES.resume, 'resume') as { resumed: unknown[]; notPaused: string[] };
  assert.deepEqual([resume.resumed.length, resume.notPaused], [2, ['good']]);

  // A usage error under --json: the message on stderr, nothing on stdout.
  const unknown = await cli('history', 'nope');
  assert.deepEqual([unknown.code, unknown.stdout], [2, '']);
  assert.match(unknown.stderr, /no job "nope"/);
});
