/**
 * `iamwatch trigger` from a third process against two real `iamwatch run` instances on Redis:
 * exactly one instance runs each trigger, through the same pipeline (running lock, history with
 * who asked); `--wait` reports the outcome and exits like `once` (0 ok, 1 failed, 3 held or
 * paused); with no live instance it exits 4 at once; an unknown job is a usage error with a hint.
 * The same against the embedded store, with `run` processes of one machine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { readRuns, recordCommand, startInstance, type Instance } from '../helpers/instance.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

let dir: string;
const started: Instance[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-trigger-'));
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

interface TriggerJson {
  trigger: string;
  job: string;
  by: string;
  instance: string;
  state: string;
  outcome: string;
  reason: string | null;
  holder: string | null;
  fence: number | null;
  error: string | null;
}

const YEARLY = '0 0 0 1 1 *';
const me = `${userInfo().username}@${hostname()}`;

async function fleetFile(name: string, head: string[]): Promise<{ file: string; out: string }> {
  const folder = await mkdtemp(path.join(dir, `${name}-`));
  const out = path.join(folder, 'runs.log');
  const file = path.join(folder, `${name}.conf`);
  await writeFile(
    file,
    [
      ...head,
      `OUT=${out}`,
      'SHUTDOWN_TIMEOUT=5s',
      `${YEARLY}  cron  exec  name=quick ${recordCommand(0)}`,
      `${YEARLY}  cron  exec  name=slow ${recordCommand(2)}`,
      `${YEARLY}  cron  exec  name=broken command='exit 3'`,
      '',
    ].join('\n'),
  );
  return { file, out };
}

async function startFleet(file: string, ids: string[]): Promise<Instance[]> {
  const fleet = ids.map((id) => startInstance(id, file));
  started.push(...fleet);
  await Promise.all(fleet.map((i) => i.waitFor((l) => l.event === 'started', 15_000, 'started line')));
  return fleet;
}

async function stopFleet(fleet: Instance[]): Promise<void> {
  for (const i of fleet) i.child.kill('SIGTERM');
  for (const r of await Promise.all(fleet.map((i) => i.done))) assert.equal(r.code, 0, r.stderr);
}

const trigger = async (file: string, job: string, ...flags: string[]): Promise<{ code: number | null; report: TriggerJson | null; stderr: string; stdout: string }> => {
  const r = await runCli(['trigger', job, '-c', file, ...flags]);
  return { code: r.code, report: flags.includes('--json') && r.stdout ? (JSON.parse(r.stdout) as TriggerJson) : null, stderr: r.stderr, stdout: r.stdout };
};

describe('trigger on a Redis fleet', { concurrency: 1 }, () => {
  let file: string;
  let out: string;
  let fleet: Instance[];
  before(async () => {
    ({ file, out } = await fleetFile('redis', [`REDIS_URL=${SHARED_REDIS_URL}`, `IAMWATCH_PREFIX=${uniquePrefix('trigger')}`]));
    fleet = await startFleet(file, ['ta', 'tb']);
  });
  after(() => stopFleet(fleet));

  test('--wait: one instance runs it, recorded with who asked; exit 0', async () => {
    const r = await trigger(file, 'quick', '--wait', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = r.report!;
    assert.deepEqual([report.state, report.outcome, report.by, report.error], ['done', 'ok', me, null]);
    assert.ok(['ta', 'tb'].includes(report.instance));
    const runs = (await readRuns(out)).filter((x) => x.job === 'quick');
    assert.deepEqual(runs.map((x) => [x.instance, x.fence]), [[report.instance, report.fence]], 'exactly one run, by the instance that took it');
    const history = JSON.parse((await runCli(['history', 'quick', '-c', file, '--json'])).stdout) as Array<{ manual: boolean; by: string | null; instance: string }>;
    assert.deepEqual(history.map((h) => [h.manual, h.by, h.instance]), [[true, me, report.instance]]);
  });

  test('two triggers at once: one runs, the other finds it running (exit 3); never two runs', async () => {
    const [x, y] = await Promise.all([trigger(file, 'slow', '--wait', '--json'), trigger(file, 'slow', '--wait', '--json')]);
    const outcomes = [x, y].map((r) => [r.code, r.report?.outcome]).sort();
    assert.deepEqual(outcomes, [[0, 'ok'], [3, 'held']], `${x.stderr}\n${y.stderr}`);
    assert.equal((await readRuns(out)).filter((r) => r.job === 'slow').length, 1);
  });

  test('without --wait: returns once an instance took it; a failed run exits 1 with --wait', async () => {
    const taken = await trigger(file, 'broken');
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stdout, /^triggered broken: t[ab] took it/);
    const failed = await trigger(file, 'broken', '--wait', '--json');
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.report!.outcome, 'failed');
  });

  test('a paused job: recorded as skipped (paused) with who asked; exit 3', async () => {
    assert.equal((await runCli(['pause', 'quick', '-c', file, '--reason', 'maintenance'])).code, 0);
    const r = await trigger(file, 'quick', '--wait', '--json');
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual([r.report!.outcome, r.report!.reason], ['skipped', 'paused']);
    assert.match(r.report!.error ?? '', /maintenance/);
    assert.equal((await runCli(['resume', 'quick', '-c', file])).code, 0);
  });

  test('an unknown job: exit 2 with a hint', async () => {
    const r = await trigger(file, 'quik');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no job "quik".*did you mean "quick"/s);
  });
});

test('no live instance: exit 4 at once, saying so', async () => {
  const { file } = await fleetFile('empty', [`REDIS_URL=${SHARED_REDIS_URL}`, `IAMWATCH_PREFIX=${uniquePrefix('trigger-empty')}`]);
  const t0 = Date.now();
  const r = await trigger(file, 'quick', '--wait');
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /no live instance .* to run quick: start `iamwatch run`, or run it here with `iamwatch once quick`/);
  assert.ok(Date.now() - t0 < 5_000);
});

test('the embedded store: a run process of this machine takes the trigger', async () => {
  const { file, out } = await fleetFile('embedded', []);
  const fleet = await startFleet(file, ['local']);
  const r = await trigger(file, 'quick', '--wait', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([r.report!.instance, r.report!.outcome], ['local', 'ok']);
  assert.equal((await readRuns(out)).length, 1);
  await stopFleet(fleet);
});
