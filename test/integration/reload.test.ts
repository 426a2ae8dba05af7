/**
 * Reload without restart, against two real `iamwatch run` processes on Redis: an editor's atomic
 * rename adds one job and removes another on both instances; an invalid edit is rejected (every
 * error logged at FILE:LINE:COL, the running configuration kept, both instances up); SIGHUP
 * reloads, and with nothing changed says so; a setting that cannot change live is reported as
 * needing a restart. Across all of it each occurrence runs once.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { readRuns, recordCommand, startInstance, type Instance, type LogLine } from '../helpers/instance.js';
import { SHARED_REDIS_URL, sleep, uniquePrefix } from '../helpers/redis.js';

let dir: string;
const started: Instance[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-reload-'));
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const since = (i: Instance, seq: number, pred: (l: LogLine) => boolean) => (l: LogLine) => (l.seq ?? 0) > seq && pred(l);
const lastSeq = (i: Instance): number => i.lines.at(-1)?.seq ?? 0;

test('two instances reload an edited jobs file: added runs, removed stops, a bad edit keeps the running config, SIGHUP reloads', async () => {
  const out = path.join(dir, 'runs.log');
  const file = path.join(dir, 'jobs.conf');
  const head = [`REDIS_URL=${SHARED_REDIS_URL}`, `IAMWATCH_PREFIX=${uniquePrefix('reload')}`, `OUT=${out}`, 'SHUTDOWN_TIMEOUT=5s'];
  const job = (name: string): string => `* * * * * *  cron  exec  name=${name} ${recordCommand(0)}`;
  const write = (lines: string[]): Promise<void> => writeFile(file, [...head, ...lines, ''].join('\n'));
  await write([job('tick'), job('old')]);

  const pair = ['a', 'b'].map((id) => startInstance(id, file));
  started.push(...pair);
  await Promise.all(pair.map((i) => i.waitFor((l) => l.event === 'started', 15_000, 'started line')));
  await sleep(1_500);

  // An editor's save: a new file renamed over the old one.
  let marks = pair.map(lastSeq);
  await writeFile(`${file}.tmp`, [...head, job('tick'), job('fresh'), ''].join('\n'));
  await rename(`${file}.tmp`, file);
  const reloaded = await Promise.all(pair.map((i, n) => i.waitFor(since(i, marks[n]!, (l) => l.event === 'reloaded'), 10_000, 'reloaded after the rename')));
  const removedAt = Date.now();
  for (const l of reloaded) {
    assert.deepEqual([l.added, l.removed, l.changed, l.cause], [['fresh'], ['old'], [], 'file changed']);
  }
  assert.equal(reloaded[0]!.configHash, reloaded[1]!.configHash, 'both run the same configuration');
  await sleep(2_000);

  // An invalid edit in place: rejected with FILE:LINE:COL, the running configuration stays.
  marks = pair.map(lastSeq);
  await write([job('tick'), job('fresh'), '* * * * * *  cron  exec  name=broken command=true bogus', '*/0 * * * * *  cron  nope']);
  const rejected = await Promise.all(pair.map((i, n) => i.waitFor(since(i, marks[n]!, (l) => l.event === 'reload-rejected'), 10_000, 'reload-rejected')));
  for (const [n, i] of pair.entries()) {
    assert.equal(rejected[n]!.configHash, reloaded[n]!.configHash);
    const errors = i.lines.filter(since(i, marks[n]!, (l) => l.event === 'reload-error'));
    assert.ok(errors.length >= 2, `every error is logged: ${JSON.stringify(errors)}`);
    for (const e of errors) {
      assert.equal(e.level, 'error');
      assert.match(e.msg, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: error: `));
    }
    assert.equal(i.child.exitCode, null, `${i.id} is still running`);
  }
  await sleep(1_500);

  // Fixed, with a setting that cannot change live, and SIGHUP at once: applied (by whichever came first).
  marks = pair.map(lastSeq);
  head[1] = `IAMWATCH_PREFIX=${uniquePrefix('reload-other')}`;
  await write([job('tick'), job('fresh'), job('late')]);
  for (const i of pair) i.child.kill('SIGHUP');
  for (const [n, i] of pair.entries()) {
    const applied = await i.waitFor(since(i, marks[n]!, (l) => l.event === 'reloaded'), 10_000, 'reloaded after SIGHUP');
    assert.deepEqual(applied.added, ['late']);
    await i.waitFor(since(i, marks[n]!, (l) => l.event === 'reload-needs-restart' && JSON.stringify(l.settings) === '["IAMWATCH_PREFIX"]'), 5_000, 'IAMWATCH_PREFIX needs a restart');
  }
  await sleep(2_500);
  // SIGHUP with nothing changed: a reload that says so, and the instance goes on.
  marks = pair.map(lastSeq);
  pair[0]!.child.kill('SIGHUP');
  await pair[0]!.waitFor(since(pair[0]!, marks[0]!, (l) => l.event === 'reload-unchanged' && l.cause === 'SIGHUP'), 10_000, 'reload-unchanged');

  for (const i of pair) i.child.kill('SIGTERM');
  for (const r of await Promise.all(pair.map((i) => i.done))) assert.equal(r.code, 0, r.stderr);

  const runs = await readRuns(out);
  const dump = runs.map((r) => `${r.job} ${r.occurrence} ${r.instance} ${r.start}`).join('\n');
  const seen = new Map<string, number>();
  for (const r of runs) seen.set(`${r.job} ${r.occurrence}`, (seen.get(`${r.job} ${r.occurrence}`) ?? 0) + 1);
  assert.deepEqual([...seen].filter(([, n]) => n > 1), [], `occurrences run twice\n${dump}`);
  // An occurrence claimed just before the reload still runs; nothing of `old` starts later than that.
  assert.deepEqual(runs.filter((r) => r.job === 'old' && r.start > removedAt + 1_000), [], `old ran after its removal\n${dump}`);
  assert.ok(runs.filter((r) => r.job === 'fresh').length >= 4, `fresh runs\n${dump}`);
  assert.ok(runs.filter((r) => r.job === 'late').length >= 1, `late runs\n${dump}`);
  assert.ok(runs.filter((r) => r.job === 'tick').length >= 8, `tick kept running\n${dump}`);
});

test('a Kubernetes ConfigMap update (the ..data symlink swapped to a new directory) is reloaded', async () => {
  const volume = await mkdtemp(path.join(dir, 'configmap-'));
  const out = path.join(volume, '..runs.log');
  const version = async (name: string, jobs: string[]): Promise<void> => {
    await mkdir(path.join(volume, name));
    await writeFile(path.join(volume, name, 'jobs.conf'), [`OUT=${out}`, 'SHUTDOWN_TIMEOUT=5s', ...jobs, ''].join('\n'));
  };
  await version('..2026_01', [`* * * * * *  cron  exec  name=first ${recordCommand(0)}`]);
  await symlink('..2026_01', path.join(volume, '..data'));
  await symlink('..data/jobs.conf', path.join(volume, 'jobs.conf'));
  const i = startInstance('cm', path.join(volume, 'jobs.conf'));
  started.push(i);
  await i.waitFor((l) => l.event === 'started', 15_000, 'started line');
  // What the kubelet does: a new timestamped directory, a new link to it, renamed over ..data.
  await version('..2026_02', [`* * * * * *  cron  exec  name=second ${recordCommand(0)}`]);
  await symlink('..2026_02', path.join(volume, '..data_tmp'));
  await rename(path.join(volume, '..data_tmp'), path.join(volume, '..data'));
  await rm(path.join(volume, '..2026_01'), { recursive: true });
  const l = await i.waitFor((x) => x.event === 'reloaded', 10_000, 'reloaded after the symlink swap');
  assert.deepEqual([l.added, l.removed], [['second'], ['first']]);
  await i.waitFor((x) => x.event === 'run-finished' && x.job === 'second', 5_000, 'the new job to run');
  i.child.kill('SIGTERM');
  assert.equal((await i.done).code, 0);
});

test('status shows a fleet whose instances run different configurations', async () => {
  const prefix = uniquePrefix('drift');
  const files = await Promise.all(
    [['one'], ['one', 'two']].map(async (jobs, n) => {
      const file = path.join(dir, `drift-${n}.conf`);
      await writeFile(file, [`REDIS_URL=${SHARED_REDIS_URL}`, `IAMWATCH_PREFIX=${prefix}`, ...jobs.map((j) => `@every 1h  interval  exec  name=${j} command=true`), ''].join('\n'));
      return file;
    }),
  );
  const pair = files.map((f, n) => startInstance(`drift-${n}`, f));
  started.push(...pair);
  const hashes = (await Promise.all(pair.map((i) => i.waitFor((l) => l.event === 'started', 15_000, 'started line')))).map((l) => l.configHash);
  const r = await runCli(['status', '-c', files[0]!, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(r.stdout) as { instances: Array<{ instance: string; configHash: string }>; config: { drift: boolean; configurations: Array<{ hash: string; instances: string[] }> } };
  assert.deepEqual(status.instances.map((i) => [i.instance, i.configHash]), [['drift-0', hashes[0]], ['drift-1', hashes[1]]]);
  assert.equal(status.config.drift, true);
  assert.deepEqual(status.config.configurations.map((c) => c.instances).sort(), [['drift-0'], ['drift-1']]);
  const text = await runCli(['status', '-c', files[0]!]);
  assert.match(text.stdout, /the instances run 2 different configurations/);
  for (const i of pair) i.child.kill('SIGTERM');
  await Promise.all(pair.map((i) => i.done));
});

test('reload edges: other files written in the directory do not hold a reload back; fixing the mode of a rejected file reloads it; a job that needs the database is refused live', async () => {
  const folder = await mkdtemp(path.join(dir, 'edges-'));
  const file = path.join(folder, 'jobs.conf');
  const out = path.join(folder, 'runs.log');
  const lines = [`OUT=${out}`, 'SHUTDOWN_TIMEOUT=5s', `@every 1h  interval  exec  name=first ${recordCommand(0)}`];
  await writeFile(file, [...lines, ''].join('\n'));
  const i = startInstance('edges', file);
  started.push(i);
  await i.waitFor((l) => l.event === 'started', 15_000, 'started line');
  // A busy neighbour: a file in the same directory written every 50 ms.
  let noisy = true;
  const noise = (async () => {
    for (let n = 0; noisy; n++) {
      await writeFile(path.join(folder, 'noise.log'), `${n}\n`, { flag: 'a' });
      await sleep(50);
    }
  })();
  let mark = lastSeq(i);
  const t0 = Date.now();
  await writeFile(file, [...lines, `@every 1h  interval  exec  name=second ${recordCommand(0)}`, ''].join('\n'));
  await i.waitFor(since(i, mark, (l) => l.event === 'reloaded'), 5_000, 'reloaded despite the noise');
  assert.ok(Date.now() - t0 < 3_000, `the reload took ${Date.now() - t0} ms`);
  noisy = false;
  await noise;

  // Writable by others: rejected; the chmod the message advises reloads it.
  mark = lastSeq(i);
  await writeFile(file, [...lines, `@every 1h  interval  exec  name=third ${recordCommand(0)}`, ''].join('\n'));
  await chmod(file, 0o666);
  await i.waitFor(since(i, mark, (l) => l.event === 'reload-failed' && /writable by other users/.test(String(l.err))), 5_000, 'the trust refusal');
  mark = lastSeq(i);
  await chmod(file, 0o644);
  const fixed = await i.waitFor(since(i, mark, (l) => l.event === 'reloaded'), 5_000, 'reloaded after chmod');
  assert.deepEqual(fixed.added, ['third']);

  // This instance opened no database at start: a database job needs a restart.
  mark = lastSeq(i);
  await writeFile(file, [...lines, '@every 1h  interval  clean  name=purge', ''].join('\n'));
  const refused = await i.waitFor(since(i, mark, (l) => l.event === 'reload-rejected'), 5_000, 'the database job refused');
  assert.match(refused.msg, /purge needs the database .* restart to add it/);
  i.child.kill('SIGTERM');
  assert.equal((await i.done).code, 0);
});
