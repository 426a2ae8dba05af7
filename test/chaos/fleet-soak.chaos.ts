/**
 * Soak: a fleet of `iamwatch run` processes against a private Redis for CHAOS_SECONDS (default
 * 180), while instances are SIGKILLed and restarted at random and Redis is paused (CLIENT PAUSE) now and
 * then. Every run appends `job occurrence instance` to a file; no occurrence may appear twice, and
 * every job must keep running. `npm run chaos`; not part of `npm test`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { sleep, startRedisServer } from '../helpers/redis.js';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 180);
const INSTANCES = 4;
const dir = mkdtempSync(path.join(tmpdir(), 'iamwatch-chaos-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A deterministic PRNG, so a failing run can be replayed with the same CHAOS_SEED.
let seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

test(`fleet soak: ${INSTANCES} instances, random kills and Redis pauses for ${SECONDS} s (seed ${seed})`, { timeout: (SECONDS + 60) * 1000 }, async () => {
  const redis = await startRedisServer();
  const runs = path.join(dir, 'runs.log');
  writeFileSync(runs, '');
  const conf = path.join(dir, 'jobs.conf');
  const append = `echo "$IAMWATCH_JOB $IAMWATCH_OCCURRENCE $IAMWATCH_INSTANCE" >> ${runs}`;
  writeFileSync(conf, [
    `REDIS_URL=${redis.url}`,
    `* * * * * * cron exec name=tick command='${append}'`,
    `@every 2s rate exec name=rated command='${append}; sleep 0.5' lock-ttl=3s`,
    `@every 1s interval exec name=iv command='${append}; sleep 0.3' lock-ttl=3s`,
    `*/3 * * * * * cron exec name=skipper command='${append}; sleep 4' overlap=skip lock-ttl=3s`,
  ].join('\n'));

  const fleet = new Map<string, ReturnType<typeof startCli>>();
  let generation = 0;
  const spawnInstance = (): void => {
    const id = `i${generation++}`;
    fleet.set(id, startCli(['run', '-c', conf, '--instance-id', id, '--log-format', 'json'], { timeoutMs: (SECONDS + 30) * 1000 }));
  };
  for (let i = 0; i < INSTANCES; i++) spawnInstance();

  const deadline = Date.now() + SECONDS * 1000;
  let kills = 0;
  let pauses = 0;
  while (Date.now() < deadline) {
    await sleep(1000 + random() * 4000);
    if (random() < 0.75) {
      const ids = [...fleet.keys()];
      const victim = ids[Math.floor(random() * ids.length)]!;
      fleet.get(victim)!.child.kill('SIGKILL');
      await fleet.get(victim)!.done.catch(() => undefined);
      fleet.delete(victim);
      kills++;
      spawnInstance();
    } else {
      // A hung Redis: commands time out, claims fail closed.
      const ms = Math.round(1000 + random() * 3000);
      spawnSync('redis-cli', ['-p', String(redis.port), 'CLIENT', 'PAUSE', String(ms), 'ALL']);
      await sleep(ms);
      pauses++;
    }
  }
  await sleep(2000); // the last restarted instance has its signal handlers installed
  for (const { child } of fleet.values()) child.kill('SIGTERM');
  const exits = await Promise.all([...fleet.values()].map((f) => f.done));
  await redis.stop();

  for (const e of exits) assert.equal(e.code, 0, e.stderr.slice(-2000));
  const lines = readFileSync(runs, 'utf8').trim().split('\n').filter(Boolean);
  const seen = new Map<string, string>();
  const perJob = new Map<string, number>();
  for (const line of lines) {
    const [job, occurrence, instance] = line.split(' ');
    // Interval occurrences are generations, not times: IAMWATCH_OCCURRENCE is the start, unique per run anyway.
    const key = `${job} ${occurrence}`;
    assert.ok(!seen.has(key), `${key} ran twice: on ${seen.get(key)} and ${instance}`);
    seen.set(key, instance!);
    perJob.set(job!, (perJob.get(job!) ?? 0) + 1);
  }
  for (const job of ['tick', 'rated', 'iv', 'skipper']) assert.ok((perJob.get(job) ?? 0) > 0, `${job} never ran`);
  // Kills and pauses cost some occurrences (fail closed), but the fleet keeps up most of the time.
  assert.ok(perJob.get('tick')! > SECONDS * 0.5, `tick ran only ${perJob.get('tick')} times in ${SECONDS} s`);
  console.log(`chaos: ${lines.length} runs, ${kills} kills, ${pauses} Redis pauses, per job ${JSON.stringify(Object.fromEntries(perJob))}`);
});
