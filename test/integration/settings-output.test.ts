/**
 * Settings are checked wherever they come from and never fall back; output reaches a pipe in
 * full; bad flag values are usage errors; odd files read right; webhooks with credentials; jobs
 * files and plugins other users can write are refused. Real CLI processes throughout.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, cleanEnv, runCli, type CliResult } from '../helpers/cli.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-settings-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noStack = (r: CliResult): void => {
  assert.ok(!/\n\s+at .+:\d+:\d+/.test(r.stderr), `no stack trace expected:\n${r.stderr}`);
};

async function conf(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  await chmod(file, 0o644);
  return file;
}

describe('settings from the environment are checked like those in the file', () => {
  const SECRET = 'S3cr3tPw9';
  const cases: Array<[name: string, value: string, message: RegExp]> = [
    ['REDIS_URL', '127.0.0.1:6379', /REDIS_URL \(environment\): not a URL: write redis:\/\/127\.0\.0\.1:6379/],
    ['REDIS_URL', 'http://127.0.0.1:6379', /REDIS_URL \(environment\): unsupported scheme/],
    ['DATABASE_URL', `postgres://app:${SECRET}@db/iam`, /DATABASE_URL \(environment\): unsupported scheme "postgres:"/],
    ['DATABASE_URL', `mysql:/app:${SECRET}@db/iam`, /DATABASE_URL \(environment\): not a valid URL/],
    ['MAX_CLOCK_SKEW', 'banana', /MAX_CLOCK_SKEW \(environment\): invalid duration "banana"/],
    ['METRICS_ADDR', 'nope', /METRICS_ADDR \(environment\): expected host:port/],
    ['METRICS_ADDR', '127.0.0.1:70000', /METRICS_ADDR \(environment\): expected host:port with a port up to 65535/],
    ['IAMWATCH_LOG_LEVEL', 'verbose', /IAMWATCH_LOG_LEVEL \(environment\): must be one of trace, debug, info/],
    ['HISTORY_LIMIT', '0', /HISTORY_LIMIT \(environment\): must be at least 1/],
    ['SHUTDOWN_TIMEOUT', '-1s', /SHUTDOWN_TIMEOUT \(environment\)/],
    ['NOTIFY_URL', 'ftp://hooks/x', /NOTIFY_URL \(environment\): unsupported scheme "ftp:"/],
    ['IAMWATCH_PREFIX', 'a b', /IAMWATCH_PREFIX \(environment\): use letters/],
  ];
  for (const [name, value, message] of cases) {
    test(`${name}=${value}: validate and run refuse it (exit 1), no secret echoed`, async () => {
      const file = await conf(`env-${name}.conf`, '@every 1h rate exec name=j command=true\n');
      for (const args of [['validate', '-c', file], ['run', '-c', file, '--log-format', 'json', '--no-tui']]) {
        const r = await runCli(args, { env: { [name]: value }, timeoutMs: 20_000 });
        assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.ok(r.stderr.includes(`${file}: error: ${name} (environment)`), r.stderr);
        assert.ok(!(r.stdout + r.stderr).includes(SECRET), 'the password never appears');
        assert.ok(!/in-process locks|single-instance|"event":"started"/.test(r.stdout + r.stderr), 'nothing started');
        noStack(r);
      }
    });
  }

  test('the same problem in the file is reported at its line and column, in the same form', async () => {
    const file = await conf('file-setting.conf', `# settings\nREDIS_URL=127.0.0.1:6379\nDATABASE_URL=mysql:/app:${SECRET}@db/iam\n@every 1h rate exec name=j command=true\n`);
    const r = await runCli(['validate', '-c', file, '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { diagnostics: Array<{ line: number; col: number; message: string }> };
    assert.deepEqual(report.diagnostics.map((d) => [d.line, d.col, d.message.split(':')[0]]), [
      [2, 11, 'REDIS_URL (jobs file)'],
      [3, 14, 'DATABASE_URL (jobs file)'],
    ]);
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
  });

  test('a value in the file wins over a bad one in the environment; an empty one means unset', async () => {
    const file = await conf('file-wins.conf', 'MAX_CLOCK_SKEW=2s\n@every 1h rate exec name=j command=true\n');
    const r = await runCli(['validate', '-c', file], { env: { MAX_CLOCK_SKEW: 'banana', REDIS_URL: '' } });
    assert.equal(r.code, 0, r.stderr);
  });

  test('db check with DATABASE_URL from the environment alone is checked too', async () => {
    const sub = await mkdtemp(path.join(dir, 'nofile-'));
    const r = await runCli(['db', 'check'], { cwd: sub, env: { DATABASE_URL: `mysql:/app:${SECRET}@db/iam` } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /DATABASE_URL \(environment\): not a valid URL/);
    assert.ok(!r.stderr.includes(SECRET));
  });
});

/** Runs the CLI with a reader that waits before reading, as a slow pipe consumer does. */
function runSlowReader(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout.pause();
    child.stderr.pause();
    const timer = setTimeout(() => {
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => errs.push(d));
      child.stdout.resume();
      child.stderr.resume();
    }, 500);
    const kill = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('timed out'));
    }, 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      clearTimeout(kill);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() });
    });
  });
}

describe('complete output through pipes', () => {
  test('next --json with 10,000 occurrences (350 KB) arrives whole', async () => {
    const r = await runSlowReader(['next', '--spec', '* * * * * *', '-n', '10000', '--json', '--from', '2026-01-01T00:00Z']);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.length > 64 * 1024 * 4, `${r.stdout.length} bytes`);
    const entries = JSON.parse(r.stdout) as Array<{ next: string[] }>;
    assert.equal(entries[0]!.next.length, 10_000);
  });

  test('validate with 5,000 errors prints every one and the summary', async () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `0 ${i % 2 ? 99 : 77} * * * cron exec command=true name=j${i}`);
    const file = await conf('many-errors.conf', `${lines.join('\n')}\n`);
    const r = await runSlowReader(['validate', '-c', file]);
    assert.equal(r.code, 1);
    const printed = r.stderr.trimEnd().split('\n');
    assert.equal(printed.length, 5_001, printed.slice(-2).join('\n'));
    assert.equal(printed.at(-1), `${file}: 5000 errors`);
  });

  test('a reader that goes away early is not an error (EPIPE)', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} next --spec '* * * * * *' -n 50000 --json | head -c 10 >/dev/null; echo "exit=\${PIPESTATUS:-}"`], { env: cleanEnv() });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 0);
    assert.ok(!/EPIPE|at .+:\d+:\d+/.test(r.stderr), r.stderr);
  });
});

describe('flags, odd files', () => {
  const usage: Array<[string[], RegExp]> = [
    [['next', '--spec', '@daily', '--tz', 'Nowhere'], /--tz: unknown time zone "Nowhere"/],
    [['next', '--spec', '0 0 30 2 *'], /never fires/],
    [['next', '--spec', '@daily', '--from', 'yesterday'], /--from: "yesterday" is not an ISO-8601 time/],
    [['run', '-c', 'x.conf', '--metrics', 'nope'], /expected host:port/],
    [['run', '-c', 'x.conf', '--instance-id', 'has space'], /use 1 to 200 letters/],
    [['history', '-c', 'x.conf', '--limit', '0'], /--limit must be a whole number/],
  ];
  for (const [args, message] of usage) {
    test(`${args.join(' ')}: usage error, exit 2`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      noStack(r);
    });
  }

  test('CR-only, CRLF and mixed line endings all read as lines', async () => {
    for (const [name, eol] of [['cr', '\r'], ['crlf', '\r\n'], ['mixed', '\n\r']] as const) {
      const file = await conf(`eol-${name}.conf`, ['# jobs', '@every 1h rate exec name=a command=true', '0 3 * * * cron exec name=b command=true', ''].join(eol));
      const r = await runCli(['validate', '-c', file, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { jobs: Array<{ job: string; line: number }> };
      assert.deepEqual(report.jobs.map((j) => j.job), ['a', 'b'], name);
    }
  });

  test('an empty file, or one with only comments, validates with a warning', async () => {
    for (const text of ['', '# nothing yet\n\n']) {
      const file = await conf('empty.conf', text);
      const r = await runCli(['validate', '-c', file]);
      assert.equal(r.code, 0);
      assert.match(r.stderr, /empty\.conf:1:1: warning: no jobs/);
    }
  });
});

describe('webhooks', () => {
  test('credentials in the URL become basic auth; once notifies like run; a bad notify URL is an error', async () => {
    const received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const file = await conf('notify.conf', `NOTIFY_URL=http://hook%20user:p%40ss:word@127.0.0.1:${port}/hook?x=1\n@every 1h rate exec name=fails command="exit 3"\n`);
      const r = await runCli(['once', 'fails', '-c', file, '--json', '--log-format', 'json']);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(received.length, 1);
      assert.equal(received[0]!.url, '/hook?x=1');
      assert.equal(received[0]!.headers.authorization, `Basic ${Buffer.from('hook user:p@ss:word').toString('base64')}`);
      const payload = JSON.parse(received[0]!.body) as { type: string; run: { job: string; manual?: boolean } };
      assert.equal(payload.type, 'run-failed');
      assert.equal(payload.run.job, 'fails');
      assert.ok(!r.stderr.includes('p@ss') && !r.stderr.includes('p%40ss:word'), 'the password is not logged');

      const bad = await conf('bad-notify.conf', '@every 1h rate exec name=j command=true notify=ftp://x/y\n@every 1h rate exec name=k command=true notify=not-a-url\n');
      const v = await runCli(['validate', '-c', bad]);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /bad-notify\.conf:1:\d+: error: notify: unsupported scheme "ftp:"/);
      assert.match(v.stderr, /bad-notify\.conf:2:\d+: error: notify: not a valid URL/);
    } finally {
      server.close();
    }
  });
});

describe('config trust', () => {
  test('a jobs file or plugin other users can write is refused with the chmod that fixes it', async () => {
    const sub = await mkdtemp(path.join(dir, 'trust-'));
    const file = path.join(sub, 'w.conf');
    await writeFile(file, '@every 1h rate exec name=j command=true\n');
    for (const mode of [0o666, 0o664, 0o646]) {
      await chmod(file, mode);
      const r = await runCli(['validate', '-c', file]);
      assert.equal(r.code, 1, `mode ${mode.toString(8)}`);
      assert.match(r.stderr, /is writable by other users .*chmod go-w /);
      noStack(r);
      const allowed = await runCli(['validate', '-c', file, '--allow-writable-config']);
      assert.equal(allowed.code, 0, allowed.stderr);
    }
    await chmod(file, 0o644);
    assert.equal((await runCli(['validate', '-c', file])).code, 0);

    const plugin = path.join(sub, 'p.js');
    await writeFile(plugin, "export default { name: 'p', options: {}, run: async () => {} };\n");
    await chmod(plugin, 0o666);
    const p = await runCli(['validate', '-c', file, '--plugin', plugin]);
    assert.equal(p.code, 1);
    assert.match(p.stderr, /plugin .*p\.js is writable by other users/);
    await chmod(plugin, 0o644);
    assert.equal((await runCli(['validate', '-c', file, '--plugin', plugin])).code, 0);

    // A directory others can write lets them replace the file; the sticky bit (as on /tmp) stops that.
    const open = path.join(sub, 'open');
    await mkdir(open);
    const inOpen = path.join(open, 'o.conf');
    await writeFile(inOpen, '@every 1h rate exec name=j command=true\n');
    await chmod(inOpen, 0o644);
    await chmod(open, 0o777);
    const d = await runCli(['validate', '-c', inOpen]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /in a directory other users can write .*chmod go-w /);
    await chmod(open, 0o1777);
    assert.equal((await runCli(['validate', '-c', inOpen])).code, 0);
  });

  // A read-only view of a file says nothing about who can write it where it is mounted from.
  test('a file others can write is refused on a read-only mount too', async (t) => {
    const src = await mkdtemp(path.join(dir, 'ro-src-'));
    const mnt = await mkdtemp(path.join(dir, 'ro-mnt-'));
    await writeFile(path.join(src, 'w.conf'), '@every 1h rate exec name=j command=true\n');
    await chmod(path.join(src, 'w.conf'), 0o666);
    await chmod(src, 0o777);
    try {
      execFileSync('mount', ['--bind', src, mnt], { stdio: 'ignore' });
    } catch {
      return t.skip('bind mounts are not permitted here');
    }
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', mnt], { stdio: 'ignore' });
      for (const file of [path.join(mnt, 'w.conf'), path.join(src, 'w.conf')]) {
        const r = await runCli(['validate', '-c', file]);
        assert.equal(r.code, 1, `${file}: ${r.stderr}`);
        assert.match(r.stderr, /writable by other users/);
      }
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });
});
