/**
 * DATABASE_URL's TLS parameters (ssl-mode, ssl-ca, ssl-cert, ssl-key) against a private MariaDB
 * started with TLS and require_secure_transport=ON (the shared server has no TLS), certificates
 * made by openssl at test time: VERIFY_CA and VERIFY_IDENTITY connect only to the right server,
 * a connection without TLS or with the wrong CA exits 4 with a hint, a client certificate is
 * presented for a REQUIRE X509 user, and bad parameters exit 1 without echoing the password.
 * Through the real CLI (`db init`, `db check`, `once`) and openDatabase.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db/connect.js';
import { isIamwatchError } from '../../src/base/errors.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_URL } from '../helpers/db.js';
import { canStartMariadb, startMariadb, type PrivateMariadb } from '../helpers/mariadb.js';
import { createTestPki, type TestPki } from '../helpers/tls.js';

const skip = !canStartMariadb() && 'mariadbd and mariadb-install-db are not installed';

let pki: TestPki;
let server: PrivateMariadb;
let dir: string;
/** mysql://root@127.0.0.1:PORT/iam with the given query. */
let url: (query: string, opts?: { host?: string; user?: string }) => string;

async function sslVersion(db: Knex): Promise<string> {
  const rows = (await db.raw("SHOW SESSION STATUS LIKE 'Ssl_version'")) as [Array<{ Value: string }>];
  return rows[0][0]?.Value ?? '';
}

function dbCli(args: string[], databaseUrl: string): Promise<CliResult> {
  return runCli(['db', ...args], { cwd: dir, env: { DATABASE_URL: databaseUrl, IAMWATCH_CONFIG: undefined } });
}

describe('DATABASE_URL with TLS', { skip, timeout: 90_000 }, () => {
  before(async () => {
    pki = createTestPki();
    // Issued for "localhost" only, so VERIFY_IDENTITY by 127.0.0.1 must fail.
    const cert = pki.issue('mariadb', ['DNS:localhost']);
    server = await startMariadb({ ca: pki.ca, ...cert, requireSecureTransport: true });
    dir = await mkdtemp(path.join(tmpdir(), 'iwtest-db-tls-'));
    url = (query, opts = {}) => `mysql://${opts.user ?? 'root'}@${opts.host ?? '127.0.0.1'}:${server.port}/iam${query}`;
    const admin = await openDatabase(`mysql://root@127.0.0.1:${server.port}?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(pki.ca)}`);
    try {
      await admin.raw('CREATE DATABASE iam');
      // No anonymous users (they would shadow 'watch'@'%'); 'watch' must present a client certificate.
      await admin.raw("DELETE FROM mysql.global_priv WHERE User = ''");
      await admin.raw('FLUSH PRIVILEGES');
      await admin.raw("CREATE USER 'watch'@'%' REQUIRE X509");
      await admin.raw("GRANT ALL ON iam.* TO 'watch'@'%'");
    } finally {
      await admin.destroy();
    }
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the shared MariaDB: have_ssl is reported, and PREFERRED connects whether it has TLS or not', async () => {
    const shared = await openDatabase(`${MYSQL_URL}?ssl-mode=PREFERRED`);
    try {
      const rows = (await shared.raw("SHOW VARIABLES LIKE 'have_ssl'")) as [Array<{ Value: string }>];
      const haveSsl = rows[0][0]?.Value;
      assert.ok(haveSsl === 'YES' || haveSsl === 'DISABLED' || haveSsl === 'NO', String(haveSsl));
      assert.equal((await sslVersion(shared)) !== '', haveSsl === 'YES', 'TLS exactly when the server offers it');
    } finally {
      await shared.destroy();
    }
  });

  test('ssl-mode=VERIFY_CA with the CA: db init and db check succeed over TLS', async () => {
    const u = url(`?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(pki.ca)}`);
    const init = await dbCli(['init', '--json'], u);
    assert.equal(init.code, 0, init.stderr + init.stdout);
    const check = await dbCli(['check', '--json'], u);
    assert.equal(check.code, 0, check.stderr + check.stdout);
    assert.equal((JSON.parse(check.stdout) as { ok: boolean }).ok, true);
    const db = await openDatabase(u);
    try {
      assert.match(await sslVersion(db), /^TLSv1\.[23]$/);
    } finally {
      await db.destroy();
    }
  });

  test('a built-in watcher runs over TLS: once cleansecret', async () => {
    const file = path.join(dir, 'secrets.conf');
    // ssl-ca alone means VERIFY_CA.
    await writeFile(file, `DATABASE_URL=${url(`?ssl-ca=${encodeURIComponent(pki.ca)}`)}\n@daily cron cleansecret name=secrets\n`);
    await dbCli(['init'], url(`?ssl-ca=${encodeURIComponent(pki.ca)}`));
    const r = await runCli(['once', 'secrets', '-c', file, '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((JSON.parse(r.stdout) as { outcome: string }).outcome, 'ok');
  });

  test('without TLS against require_secure_transport: exit 4, with a hint to add ssl-mode', async () => {
    for (const query of ['', '?ssl-mode=DISABLED']) {
      const r = await dbCli(['check'], url(query));
      assert.equal(r.code, 4, r.stderr + r.stdout);
      assert.match(r.stderr, /cannot open database mysql:\/\/root@127\.0\.0\.1:\d+\/iam.*ssl-mode=VERIFY_CA/);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
  });

  test('the wrong CA: exit 4, saying the certificate is not signed by it', async () => {
    const r = await dbCli(['check'], url(`?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(pki.otherCa)}`));
    assert.equal(r.code, 4, r.stderr + r.stdout);
    assert.match(r.stderr, /not signed by the CA in ssl-ca/);
  });

  test('REQUIRED encrypts without verifying; PREFERRED uses TLS when offered', async () => {
    for (const mode of ['REQUIRED', 'preferred']) {
      const db = await openDatabase(url(`?ssl-mode=${mode}`));
      try {
        assert.match(await sslVersion(db), /^TLSv1/, mode);
      } finally {
        await db.destroy();
      }
    }
  });

  test('VERIFY_IDENTITY checks the host name: localhost is in the certificate, 127.0.0.1 is not', async () => {
    const query = `?ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(pki.ca)}`;
    const ok = await dbCli(['check'], url(query, { host: 'localhost' }));
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const wrong = await dbCli(['check'], url(query));
    assert.equal(wrong.code, 4, wrong.stderr + wrong.stdout);
    assert.match(wrong.stderr, /not issued for the host in DATABASE_URL/);
    // VERIFY_CA does not look at the name.
    assert.equal((await dbCli(['check'], url(`?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(pki.ca)}`))).code, 0);
  });

  test('a client certificate for a REQUIRE X509 user: ssl-cert and ssl-key', async () => {
    const base = `?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(pki.ca)}`;
    const withCert = `${base}&ssl-cert=${encodeURIComponent(pki.client.cert)}&ssl-key=${encodeURIComponent(pki.client.key)}`;
    assert.equal((await dbCli(['check'], url(withCert, { user: 'watch' }))).code, 0);
    const denied = await dbCli(['check'], url(base, { user: 'watch' }));
    assert.equal(denied.code, 4, denied.stderr + denied.stdout);
    assert.match(denied.stderr, /Access denied/);
  });

  test('bad parameters: exit 1 naming DATABASE_URL, never the password', async () => {
    const secret = 'hunter2-secret';
    const cases: Array<[string, RegExp]> = [
      [`?sslmode=require`, /DATABASE_URL: unknown URL parameter "sslmode" \(known: ssl-mode, ssl-ca, ssl-cert, ssl-key\)/],
      [`?ssl-mode=ON`, /ssl-mode "ON" is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY/],
      [`?ssl-mode=REQUIRED&ssl-ca=${encodeURIComponent(pki.ca)}`, /ssl-ca with ssl-mode=REQUIRED, which does not verify the server/],
      [`?ssl-cert=${encodeURIComponent(pki.client.cert)}`, /ssl-cert without ssl-key/],
      [`?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(path.join(dir, 'missing-ca.pem'))}`, /DATABASE_URL parameter ssl-ca: cannot read the CA certificate .*missing-ca\.pem: no such file \(ENOENT\)/],
    ];
    for (const [query, message] of cases) {
      const r = await dbCli(['check'], `mysql://root:${secret}@127.0.0.1:${server.port}/iam${query}`);
      assert.equal(r.code, 1, `${query}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      assert.match(r.stderr, message, query);
      assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), `${query}: the password was printed:\n${r.stderr}`);
    }
  });

  test('openDatabase: a bad parameter is INVALID_INPUT, a refused TLS connection UNAVAILABLE', async () => {
    await assert.rejects(openDatabase(url('?ssl-mode=VERIFY_CA&tls=1')), (e: unknown) => isIamwatchError(e) && e.code === 'INVALID_INPUT' && /unknown URL parameter "tls"/.test(e.message));
    await assert.rejects(openDatabase(url(''), { connectTimeoutMs: 5_000 }), (e: unknown) => isIamwatchError(e) && e.code === 'UNAVAILABLE');
  });
});
