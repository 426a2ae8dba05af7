/**
 * NO_COLOR and FORCE_COLOR, through the built CLI under a pseudo-terminal (script(1)), where
 * colour would be on by default: with NO_COLOR=1 no command writes an escape sequence (tables,
 * diagnostics, pretty log lines, errors) and the dashboard draws without colour or style codes;
 * with FORCE_COLOR=1 they all colour. FORCE_COLOR also colours into a pipe; NO_COLOR wins over it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, cleanEnv, runCli } from '../helpers/cli.js';

// eslint-disable-next-line no-control-regex
const ESC = /\u001b\[/;
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/;

let dir: string;
let good: string;
let bad: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-color-'));
  await chmod(dir, 0o755);
  good = path.join(dir, 'watchers.conf');
  await writeFile(good, '* * * * * * cron exec name=tick command="echo tick"\n@every 1h rate exec name=hourly command=true\n', { mode: 0o644 });
  bad = path.join(dir, 'bad.conf');
  await writeFile(bad, '0 61 * * * cron clean\n', { mode: 0o644 });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Colour = { NO_COLOR?: string; FORCE_COLOR?: string };

function ptyEnv(colour: Colour): NodeJS.ProcessEnv {
  const env = cleanEnv({ TERM: 'xterm-256color', NO_COLOR: colour.NO_COLOR, FORCE_COLOR: colour.FORCE_COLOR, CI: undefined, CONTINUOUS_INTEGRATION: undefined });
  for (const key of Object.keys(env)) if (key.startsWith('CI_')) delete env[key];
  return env;
}

/**
 * Runs `iamwatch ARGS` with a terminal on stdin, stdout and stderr; returns everything it drew.
 * `until`: when the screen matches, type `q` (the dashboard's quit key).
 */
function underPty(args: string[], colour: Colour, until?: RegExp, timeoutMs = 30_000): Promise<{ code: number | null; screen: string }> {
  const cmd = `stty cols 160 rows 30; exec ${[process.execPath, BIN, ...args].map((a) => JSON.stringify(a)).join(' ')}`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: ptyEnv(colour), stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  // Strip colours and cursor movement only to look for the quit moment, never for the assertions.
  // eslint-disable-next-line no-control-regex
  const plain = (): string => screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  const onData = (d: Buffer): void => {
    screen += d.toString();
    if (until && !typed && until.test(plain())) {
      typed = true;
      child.stdin.write('q');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`iamwatch ${args.join(' ')} under a pty timed out; screen:\n${plain().slice(-2000)}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

/** Commands that colour on a terminal, with their exit code and a text each must show. */
const COMMANDS: Array<{ args: string[]; code: number; shows: RegExp }> = [
  { args: ['next', '-c', 'watchers.conf', '-n', '2'], code: 0, shows: /JOB +WATCHER/ },
  { args: ['validate', '-c', 'bad.conf'], code: 1, shows: /error:/ },
  { args: ['validate', '-c', 'watchers.conf'], code: 0, shows: /2 jobs/ },
  { args: ['watchers', 'exec'], code: 0, shows: /kill-grace/ },
  { args: ['once', 'hourly', '-c', 'watchers.conf'], code: 0, shows: /run started[\s\S]*hourly: ok in/ },
  { args: ['nxt'], code: 2, shows: /unknown command 'nxt'/ },
];

describe('under a terminal', () => {
  for (const c of COMMANDS) {
    test(`iamwatch ${c.args.join(' ')}: NO_COLOR=1 writes no escape sequence, FORCE_COLOR=1 colours`, async () => {
      const plain = await underPty(c.args, { NO_COLOR: '1' });
      assert.equal(plain.code, c.code, plain.screen);
      assert.match(plain.screen, c.shows);
      assert.doesNotMatch(plain.screen, ESC, JSON.stringify(plain.screen.slice(0, 500)));
      const coloured = await underPty(c.args, { FORCE_COLOR: '1' });
      assert.equal(coloured.code, c.code, coloured.screen);
      assert.match(coloured.screen, SGR);
    });
  }

  test('the dashboard: NO_COLOR=1 draws without colour or style codes, FORCE_COLOR=1 with them', async () => {
    const frame = /tick[^\n]*(running here|ok \d+ms)[\s\S]*q or Ctrl-C/;
    const plain = await underPty(['run', '-c', 'watchers.conf', '--instance-id', 'tty-1'], { NO_COLOR: '1' }, frame);
    assert.equal(plain.code, 0, plain.screen.slice(-2000));
    assert.match(plain.screen, /OK\/FAIL/);
    assert.doesNotMatch(plain.screen, SGR);
    const coloured = await underPty(['run', '-c', 'watchers.conf', '--instance-id', 'tty-2'], { FORCE_COLOR: '1' }, frame);
    assert.equal(coloured.code, 0, coloured.screen.slice(-2000));
    assert.match(coloured.screen, SGR);
  });
});

describe('into a pipe', () => {
  test('FORCE_COLOR=1 colours tables and pretty log lines; NO_COLOR wins over it; neither: plain', async () => {
    const forced = await runCli(['next', '-c', good, '-n', '1'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, SGR);
    const logs = await runCli(['once', 'hourly', '-c', good, '--log-format', 'pretty'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stderr.split('\n').find((l) => l.includes('run started')) ?? '', SGR, logs.stderr);
    const both = await runCli(['next', '-c', good, '-n', '1'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    assert.doesNotMatch(both.stdout + both.stderr, ESC);
    const neither = await runCli(['once', 'hourly', '-c', good, '--log-format', 'pretty'], { env: { NO_COLOR: undefined } });
    assert.equal(neither.code, 0, neither.stderr);
    assert.doesNotMatch(neither.stdout + neither.stderr, ESC);
    const off = await runCli(['next', '-c', good, '-n', '1'], { env: { NO_COLOR: undefined, FORCE_COLOR: '0' } });
    assert.doesNotMatch(off.stdout, ESC);
  });
});
