/**
 * The Redis store through every kind of URL the README promises, against real private servers:
 * ACL user:password, Redis Cluster (3 masters; calls batched per hash slot) and Sentinel (a master
 * watched by one sentinel).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/client.js';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { keySlot } from '../../src/coordination/redis/slot.js';
import { freePort, ping, sleep, uniquePrefix, waitClusterOk } from '../helpers/redis.js';

const dir = mkdtempSync(path.join(tmpdir(), 'iamwatch-topo-'));
const children: ChildProcess[] = [];

async function spawnRedis(args: string[], port: number): Promise<void> {
  const child = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  children.push(child);
  for (let i = 0; i < 100 && !(await ping(port)); i++) await sleep(50);
  assert.ok(await ping(port), `redis-server on ${port} did not start:\n${output.slice(-2000)}`);
}

const holder = { instance: 'topo', occurrence: 1, startedAt: 1 };

/** The store's whole cycle over one connection: claim once, renew, release, interval, time. */
async function exerciseStore(url: string): Promise<void> {
  const errors: Error[] = [];
  const connection = connectRedis(url, { onError: (e) => errors.push(e) });
  try {
    assert.ok(await connection.ready(10_000), `not ready: ${errors.map((e) => e.message).join('; ')}`);
    const store = new RedisStore(connection, uniquePrefix('topo'));
    for (const job of ['alpha', 'beta', 'gamma']) {
      const won = await store.claim({ job, occurrence: 1_000_000, holder, ttlMs: 5_000, skipIfRunning: false });
      assert.equal(won.kind, 'won');
      assert.deepEqual(await store.claim({ job, occurrence: 1_000_000, holder, ttlMs: 5_000, skipIfRunning: false }), { kind: 'taken' });
      if (won.kind !== 'won') return;
      assert.equal(await store.renew(job, won.token, 5_000), true);
      await store.release(job, won.token, false);
      assert.equal(await store.renew(job, won.token, 5_000), false);
      const iv = await store.claimInterval({ job: `${job}-iv`, holder, ttlMs: 5_000, intervalMs: 60_000 });
      assert.equal(iv.kind, 'won');
      if (iv.kind === 'won') await store.release(`${job}-iv`, iv.token, true);
      assert.equal((await store.claimInterval({ job: `${job}-iv`, holder, ttlMs: 5_000, intervalMs: 60_000 })).kind, 'wait');
    }
    assert.ok(Math.abs((await store.time()) - Date.now()) < 5_000);
  } finally {
    await connection.close();
  }
}

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await sleep(100);
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis URLs', { timeout: 60_000 }, () => {
  test('ACL user:password, and a wrong password never connects', async () => {
    const port = await freePort();
    await spawnRedis([], port);
    const acl = spawnSync('redis-cli', ['-p', String(port), 'ACL', 'SETUSER', 'watch', 'on', '>s3cret', '~*', '+@all'], { encoding: 'utf8' });
    assert.equal(acl.stdout.trim(), 'OK');
    await exerciseStore(`redis://watch:s3cret@127.0.0.1:${port}`);

    const errors: Error[] = [];
    const wrong = connectRedis(`redis://watch:nope@127.0.0.1:${port}`, { onError: (e) => errors.push(e) });
    assert.equal(await wrong.ready(1_500), false);
    await wrong.close();
    assert.ok(errors.some((e) => /WRONGPASS|invalid/i.test(e.message)), errors.map((e) => e.message).join('; '));
  });

  describe('redis+cluster://', () => {
    const ports: number[] = [];
    before(async () => {
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        ports.push(port);
        // The bus port would default to port + 10000, which may be taken: pick a free one too.
        const busPort = await freePort();
        await spawnRedis(['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'], port);
      }
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
      assert.equal(create.status, 0, create.stderr + create.stdout);
      await waitClusterOk(ports);
    });

    test('every job\'s keys share a slot, so the scripts run on any node', async () => {
      await exerciseStore(`redis+cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`);
    });

    test('claims for jobs in different slots in one tick: one script call per slot, sent together', async () => {
      const raw = connectRedis(`redis+cluster://127.0.0.1:${ports[0]}`, { onError: () => {} });
      assert.ok(await raw.ready(10_000));
      assert.equal(raw.cluster, true);
      const calls: string[][] = [];
      const counted: RedisConnection = { send: (args, key, ms) => (calls.push(args), raw.send(args, key, ms)), get isReady() { return raw.isReady; }, cluster: true, ready: (ms) => raw.ready(ms), close: () => raw.close() };
      try {
        const prefix = uniquePrefix('topo');
        // Two jobs whose tags share a slot, and 40 others.
        const bySlot = new Map<number, string>();
        let pair: [string, string] | undefined;
        for (let i = 0; !pair; i++) {
          const job = `job-${i}`;
          const other = bySlot.get(keySlot(`{${job}}`));
          if (other) pair = [other, job];
          else bySlot.set(keySlot(`{${job}}`), job);
        }
        const jobs = [...pair, ...Array.from({ length: 40 }, (_, i) => `other-${i}`)];
        const slots = new Set(jobs.map((job) => keySlot(jobKeys(prefix, job).claims)));
        assert.equal(slots.size, jobs.length - 1, 'the pair shares a slot');
        // iamwatch's slots are Redis's.
        for (const job of jobs.slice(0, 6)) assert.equal(await raw.send(['CLUSTER', 'KEYSLOT', jobKeys(prefix, job).claims], job), keySlot(jobKeys(prefix, job).claims));

        const store = new RedisStore(counted, prefix);
        const claimAll = () => Promise.all(jobs.map((job) => store.claim({ job, occurrence: 2_000_000, holder, ttlMs: 5_000, skipIfRunning: false })));
        const first = await claimAll();
        assert.ok(first.every((r) => r.kind === 'won'), JSON.stringify(first));
        const evalsha = calls.filter((c) => c[0] === 'EVALSHA');
        assert.equal(evalsha.length, slots.size, 'one call per slot');
        assert.ok(evalsha.some((c) => Number(c[2]) === 10), 'the pair went in one call (2 x 5 keys)');
        assert.ok(calls.filter((c) => c[0] === 'EVAL').length <= slots.size);
        calls.length = 0;
        assert.ok((await claimAll()).every((r) => r.kind === 'taken'));
        assert.equal(calls.length, slots.size, 'the scripts are cached on every node now');
        const tokens = first.map((r) => (r.kind === 'won' ? r.token : ''));
        assert.ok((await Promise.all(jobs.map((job, i) => store.renew(job, tokens[i]!, 5_000)))).every(Boolean));
        await Promise.all(jobs.map((job, i) => store.release(job, tokens[i]!, false)));
        assert.ok((await Promise.all(jobs.map((job, i) => store.renew(job, tokens[i]!, 5_000)))).every((x) => !x), 'released');
      } finally {
        await raw.close();
      }
    });
  });

  test('redis+sentinel://HOST:PORT/MASTER', async () => {
    const masterPort = await freePort();
    await spawnRedis([], masterPort);
    const sentinelPort = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    writeFileSync(conf, `sentinel monitor topomaster 127.0.0.1 ${masterPort} 1\nsentinel down-after-milliseconds topomaster 5000\n`);
    await spawnRedis([conf, '--sentinel'], sentinelPort);
    await exerciseStore(`redis+sentinel://127.0.0.1:${sentinelPort}/topomaster`);
  });
});
