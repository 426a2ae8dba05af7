/**
 * rediss:// against real TLS-only redis-server processes, with certificates made by openssl at
 * test time: the CA from REDIS_TLS_CA or the ca= URL parameter, mutual TLS (client certificate
 * and key), the server name (servername=), and the failures: an untrusted server, a name the
 * certificate is not for and a missing client certificate exit 4 (UNAVAILABLE) with the reason
 * in the log; an unreadable CA file exits 1 naming the setting and the path. Through the real CLI,
 * plus the store over TLS to a Sentinel (tls-replication) and a Redis Cluster (tls-cluster).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRedis } from '../../src/coordination/redis/client.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freePort, startRedisServer, uniquePrefix, waitClusterOk, type PrivateRedis } from '../helpers/redis.js';
import { createTestPki, type TestPki } from '../helpers/tls.js';

const NO_TLS_ENV = { REDIS_TLS_CA: undefined, REDIS_TLS_CERT: undefined, REDIS_TLS_KEY: undefined, REDIS_TLS_SERVERNAME: undefined, NODE_EXTRA_CA_CERTS: undefined };

let pki: TestPki;
/** TLS only, certificate for 127.0.0.1/localhost, no client certificate required. */
let plain: PrivateRedis;
/** TLS only, certificate for redis.internal alone, client certificate required (mutual TLS). */
let mutual: PrivateRedis;
let dir: string;

before(async () => {
  pki = createTestPki();
  const internal = pki.issue('redis-internal', ['DNS:redis.internal']);
  [plain, mutual] = await Promise.all([
    startRedisServer({ tls: { ...pki.server, ca: pki.ca } }),
    startRedisServer({ tls: { ...internal, ca: pki.ca, authClients: 'yes' } }),
  ]);
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-redis-tls-'));
});

after(async () => {
  await Promise.all([plain?.stop(), mutual?.stop()]);
  pki?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let seq = 0;

/** `iamwatch once hello` of an exec job, with these lines before the job and this environment. */
async function once(lines: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const file = path.join(dir, `jobs-${++seq}.conf`);
  await writeFile(file, [...lines, `IAMWATCH_PREFIX=${uniquePrefix('iwtls')}`, '@every 1m rate exec name=hello command="echo hello-over-tls"', ''].join('\n'));
  return runCli(['once', 'hello', '-c', file, '--json', '--log-format', 'json'], { cwd: dir, env: { ...NO_TLS_ENV, ...env }, timeoutMs: 20_000 });
}

/** The redis-down log line's reason (err), from JSON logs on stderr. */
function redisDownReason(r: CliResult): string {
  for (const line of r.stderr.split('\n')) {
    try {
      const entry = JSON.parse(line) as { event?: string; err?: string };
      if (entry.event === 'redis-down' && entry.err) return entry.err;
    } catch {
      // not JSON
    }
  }
  return '';
}

function assertRan(r: CliResult): void {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { outcome: string; locked: boolean };
  assert.equal(out.outcome, 'ok');
  assert.equal(out.locked, true, 'the run took its running lock in Redis');
}

function assertUnavailable(r: CliResult, reason: RegExp): void {
  assert.equal(r.code, 4, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(redisDownReason(r), reason, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

// Independent cases (own jobs file, own key prefix), run together: each failure waits out the CLI's connect wait.
describe('rediss://', { timeout: 60_000, concurrency: true }, () => {
  test('the CA from REDIS_TLS_CA (environment) verifies the server', async () => {
    assertRan(await once([`REDIS_URL=${plain.url}`], { REDIS_TLS_CA: pki.ca }));
  });

  test('the CA from the ca= URL parameter, overriding a wrong REDIS_TLS_CA', async () => {
    assertRan(await once([`REDIS_URL=${plain.url}/0?ca=${encodeURIComponent(pki.ca)}`, `REDIS_TLS_CA=${pki.otherCa}`]));
  });

  test('a server signed by an unknown CA: exit 4, the log says to set REDIS_TLS_CA', async () => {
    assertUnavailable(await once([`REDIS_URL=${plain.url}`, `REDIS_TLS_CA=${pki.otherCa}`]), /not signed by a trusted CA.*REDIS_TLS_CA/);
  });

  test('a server name the certificate is not for: exit 4, the log says so', async () => {
    assertUnavailable(await once([`REDIS_URL=${plain.url}?servername=wrong.example`, `REDIS_TLS_CA=${pki.ca}`]), /not issued for the server name wrong\.example.*REDIS_TLS_SERVERNAME/);
  });

  test('mutual TLS without a client certificate: exit 4, the log asks for REDIS_TLS_CERT and REDIS_TLS_KEY', async () => {
    assertUnavailable(await once([`REDIS_URL=${mutual.url}`, `REDIS_TLS_CA=${pki.ca}`, 'REDIS_TLS_SERVERNAME=redis.internal']), /client certificate.*REDIS_TLS_CERT and REDIS_TLS_KEY/);
  });

  test('mutual TLS with a client certificate and key, and servername= for a certificate issued for another name', async () => {
    const tls = [`REDIS_TLS_CA=${pki.ca}`, `REDIS_TLS_CERT=${pki.client.cert}`, `REDIS_TLS_KEY=${pki.client.key}`];
    // The certificate names redis.internal only: connecting by IP fails until servername= says which name to verify.
    assertUnavailable(await once([`REDIS_URL=${mutual.url}`, ...tls]), /not issued for the host in REDIS_URL/);
    assertRan(await once([`REDIS_URL=${mutual.url}?servername=redis.internal`, ...tls]));
  });

  test('URL parameters alone: ca, cert, key and servername', async () => {
    const q = new URLSearchParams({ ca: pki.ca, cert: pki.client.cert, key: pki.client.key, servername: 'redis.internal' });
    assertRan(await once([`REDIS_URL=${mutual.url}/0?${q.toString()}`]));
  });

  test('a missing CA file: exit 1 naming the setting and the path, at once', async () => {
    const missing = path.join(dir, 'no-such-ca.pem');
    const started = Date.now();
    const r = await once([`REDIS_URL=${plain.url}`, `REDIS_TLS_CA=${missing}`]);
    assert.equal(r.code, 1, `exit ${r.code}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`REDIS_TLS_CA: cannot read the CA certificate ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file \\(ENOENT\\)`));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.ok(Date.now() - started < 5_000, 'no wait for Redis');
    const viaParam = await once([`REDIS_URL=${plain.url}?ca=${encodeURIComponent(missing)}`]);
    assert.equal(viaParam.code, 1);
    assert.match(viaParam.stderr, /REDIS_URL parameter ca: cannot read the CA certificate .*no-such-ca\.pem: no such file/);
  });

  test('a client certificate without its key, and TLS settings with a plain redis:// URL: exit 1', async () => {
    const half = await once([`REDIS_URL=${plain.url}`, `REDIS_TLS_CA=${pki.ca}`, `REDIS_TLS_CERT=${pki.client.cert}`]);
    assert.equal(half.code, 1, half.stderr);
    assert.match(half.stderr, /REDIS_TLS_CERT is set without a key/);
    const plainUrl = await once([`REDIS_URL=redis://127.0.0.1:${plain.port}`, `REDIS_TLS_CA=${pki.ca}`]);
    assert.equal(plainUrl.code, 1, plainUrl.stderr);
    assert.match(plainUrl.stderr, /REDIS_TLS_CA is set but REDIS_URL is redis:\/\/.*use rediss:\/\//);
  });

  test('an unknown URL parameter fails validation, listing the known ones', async () => {
    const file = path.join(dir, 'unknown.conf');
    await writeFile(file, `REDIS_URL=${plain.url}?sslmode=require\n@every 1m rate exec name=hello command="true"\n`);
    const r = await runCli(['validate', '-c', file], { cwd: dir, env: NO_TLS_ENV });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /unknown URL parameter "sslmode" \(known: ca, cert, key, servername, tls\)/);
  });

  test('`status` over mutual TLS, and exit 4 without the client certificate', async () => {
    const file = path.join(dir, 'status.conf');
    const q = new URLSearchParams({ ca: pki.ca, servername: 'redis.internal' });
    await writeFile(file, `REDIS_URL=${mutual.url}?${q.toString()}\n@every 1m rate exec name=hello command="true"\n`);
    const denied = await runCli(['status', '-c', file, '--json'], { cwd: dir, env: NO_TLS_ENV });
    assert.equal(denied.code, 4, denied.stderr + denied.stdout);
    const ok = await runCli(['status', '-c', file, '--json'], { cwd: dir, env: { ...NO_TLS_ENV, REDIS_TLS_CERT: pki.client.cert, REDIS_TLS_KEY: pki.client.key } });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.equal((JSON.parse(ok.stdout) as { coordination: { kind: string } }).coordination.kind, 'redis');
  });

  test('the store over TLS (connectRedis with settings): claims work', async () => {
    const errors: Error[] = [];
    const connection = connectRedis(`${mutual.url}?servername=redis.internal`, { onError: (e) => errors.push(e), tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } });
    try {
      assert.ok(await connection.ready(5_000), errors.map((e) => e.message).join('; '));
      const store = new RedisStore(connection, uniquePrefix('iwtls'));
      const holder = { instance: 'tls', occurrence: 1, startedAt: 1 };
      assert.equal((await store.claim({ job: 'j', occurrence: 1_000, holder, ttlMs: 5_000, skipIfRunning: false })).kind, 'won');
      assert.deepEqual(await store.claim({ job: 'j', occurrence: 1_000, holder, ttlMs: 5_000, skipIfRunning: false }), { kind: 'taken' });
    } finally {
      await connection.close();
    }
  });
});

/** The store's claim over `url`: won once, then taken. */
async function claimTwice(url: string, tls: { ca?: string; cert?: string; key?: string } = {}): Promise<void> {
  const errors: Error[] = [];
  const connection = connectRedis(url, { onError: (e) => errors.push(e), tls });
  try {
    assert.ok(await connection.ready(10_000), `not ready: ${errors.map((e) => e.message).join('; ')}`);
    const store = new RedisStore(connection, uniquePrefix('iwtls'));
    const holder = { instance: 'tls', occurrence: 1, startedAt: 1 };
    for (const job of ['alpha', 'beta', 'gamma']) {
      assert.equal((await store.claim({ job, occurrence: 1_000, holder, ttlMs: 5_000, skipIfRunning: false })).kind, 'won');
      assert.deepEqual(await store.claim({ job, occurrence: 1_000, holder, ttlMs: 5_000, skipIfRunning: false }), { kind: 'taken' });
    }
  } finally {
    await connection.close();
  }
}

describe('Sentinel and Cluster over TLS (tls=yes)', { timeout: 60_000 }, () => {
  const servers: PrivateRedis[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('redis+sentinel://...?tls=yes: the sentinel and the master it names, both TLS', async () => {
    const master = await startRedisServer({ tls: { ...pki.server, ca: pki.ca } });
    servers.push(master);
    const conf = path.join(dir, 'sentinel.conf');
    await writeFile(conf, `sentinel monitor tlsmaster 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds tlsmaster 5000\ntls-replication yes\n`);
    const sentinel = await startRedisServer({ tls: { ...pki.server, ca: pki.ca }, configFile: conf, args: ['--sentinel'] });
    servers.push(sentinel);
    const url = `redis+sentinel://127.0.0.1:${sentinel.port}/tlsmaster?tls=yes`;
    await claimTwice(url, { ca: pki.ca });
    await claimTwice(`${url}&ca=${encodeURIComponent(pki.ca)}`);
    // Without tls=yes the TLS settings are refused rather than ignored.
    assert.throws(() => connectRedis(`redis+sentinel://127.0.0.1:${sentinel.port}/tlsmaster`, { onError: () => {}, tls: { ca: pki.ca } }), /REDIS_TLS_CA is set but REDIS_URL has no tls=yes/);
  });

  test('redis+cluster://...?tls=yes: every node over TLS', async () => {
    const tls = { ...pki.server, ca: pki.ca };
    const nodes = await Promise.all(
      [0, 1, 2].map(async () => startRedisServer({ tls, args: ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--tls-cluster', 'yes'] })),
    );
    servers.push(...nodes);
    const cli = ['--tls', '--cacert', pki.ca, '--cert', pki.server.cert, '--key', pki.server.key];
    const create = spawnSync('redis-cli', [...cli, '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(create.status, 0, create.stderr + create.stdout);
    await waitClusterOk(nodes.map((n) => n.port), cli);
    await claimTwice(`redis+cluster://127.0.0.1:${nodes[0]!.port},127.0.0.1:${nodes[1]!.port}?tls=yes&ca=${encodeURIComponent(pki.ca)}`);
  });
});
