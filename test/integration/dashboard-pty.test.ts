/**
 * The dashboard in a real terminal: the built CLI's `run` (and `status --watch`) under a
 * pseudo-terminal of 80x24 and 150x40 (python3's pty, else script(1)), with 30 jobs, some with
 * very long names, on the embedded store in a state directory of its own. It draws for a moment,
 * `q` quits, and the bytes it wrote are replayed through a terminal screen (test/helpers/screen):
 * the exit code is 0, no character was ever written past the last column (nothing wrapped), the
 * header never scrolled off and heads the final frame, the frame is no taller than the terminal,
 * rows that don't fit become a "+N more jobs" line, and NO_COLOR=1 means not one style escape.
 * Resizing the window while it runs (SIGWINCH) lays it out again for the new size.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { hasPythonPty, startPty } from '../helpers/pty.js';
import { replay, type Screen } from '../helpers/screen.js';

const LONG = 'nightly-export-of-the-customer-accounts-table-to-the-data-warehouse-eu-west';
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;:]*m/;
// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38)(?:;[0-9;]*)?m/;

function jobsFile(): string {
  const lines: string[] = [];
  for (let i = 0; i < 3; i++) lines.push(`*/1 * * * * *  cron  exec  name=tick-${i} command=true`);
  lines.push('*/2 * * * * *  cron  exec  name=always-fails command=false');
  for (let i = 0; i < 6; i++) lines.push(`0 3 * * *  cron  exec  name=${LONG}-${i} command=true`);
  for (let i = 0; i < 20; i++) lines.push(i % 3 ? `@every 1h  rate  exec  name=hourly-report-${i} command=true` : `0 */6 * * *  cron  exec  name=six-hourly-${i} command=true tz=America/New_York`);
  return `${lines.join('\n')}\n`;
}

const dirs: string[] = [];

before(async () => {
  assert.ok(hasPythonPty() || process.platform === 'linux', 'python3 or script(1) is needed');
});

after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function jobsDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'iw-pty-'));
  dirs.push(dir);
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, 'watchers.conf'), jobsFile(), { mode: 0o644 });
  return dir;
}

function env(colour: boolean): NodeJS.ProcessEnv {
  const e = cleanEnv({ TERM: 'xterm-256color', NO_COLOR: colour ? undefined : '1', CI: undefined, CONTINUOUS_INTEGRATION: undefined });
  for (const key of Object.keys(e)) if (key.startsWith('CI_')) delete e[key];
  return e;
}

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Session {
  code: number | null;
  output: string;
  screen: Screen;
  /** Lines that wrapped (after a resize: only once the view had time to lay itself out again). */
  wrapped: string[];
  /** The final screen's lines up to the last non-empty one. */
  frame: string[];
  ms: number;
}

/** Starts `iamwatch ARGS` at COLS x ROWS, waits for `ready`, lets it draw, types q, replays the output. */
async function session(args: string[], o: { cols: number; rows: number; colour: boolean; ready: RegExp; resizeTo?: [number, number] }): Promise<Session> {
  const t0 = Date.now();
  const dir = await jobsDir();
  const p = startPty([process.execPath, BIN, ...args], { cols: o.cols, rows: o.rows, env: env(o.colour), cwd: dir, timeoutMs: 25_000 });
  let settled = 0;
  try {
    await p.waitFor((out) => o.ready.test(plain(out)), `${o.ready}`);
    if (o.resizeTo) {
      // What was drawn for the old size before SIGWINCH arrived wraps on any terminal; from then on nothing may.
      p.resize(...o.resizeTo);
      await sleep(700);
      settled = p.output().length;
    }
    // A few redraws (the countdowns tick twice a second) and runs of the tick jobs.
    await sleep(1_200);
    p.type('q');
  } catch (err) {
    // Closing the terminal hangs up on iamwatch, which stops.
    p.child.kill('SIGKILL');
    throw err;
  }
  const r = await p.done;
  const before = replay(r.output.slice(0, settled), o.cols, o.rows, r.resizes).wrapped.length;
  const screen = replay(r.output, o.cols, o.rows, r.resizes);
  const lines = screen.lines();
  let end = lines.length;
  while (end > 0 && lines[end - 1] === '') end--;
  return { code: r.code, output: r.output, screen, wrapped: screen.wrapped.slice(before), frame: lines.slice(0, end), ms: Date.now() - t0 };
}

function assertFits(s: Session, cols: number, rows: number, header: RegExp): void {
  const dump = `\n${s.frame.map((l) => `|${l}`).join('\n')}`;
  assert.equal(s.code, 0, `exit code; screen:${dump}`);
  assert.deepEqual(s.wrapped, [], `no line wrapped:${dump}`);
  assert.ok(s.frame.length <= rows, `${s.frame.length} lines in ${rows} rows`);
  for (const l of s.frame) assert.ok(l.length <= cols, `wider than ${cols}: ${l}`);
  assert.match(s.frame[0] ?? '', header, `the header heads the final frame:${dump}`);
  assert.equal(s.frame.filter((l) => header.test(l)).length, 1, `one header on the screen:${dump}`);
}

describe('the dashboard of run in a terminal', { concurrency: true }, () => {
  const HEADER = /^iamwatch instance pty-\d {2}this instance: 30 jobs/;

  test('80x24, NO_COLOR=1: fits, the header stays on top, "+N more jobs", no style escape at all', async () => {
    const s = await session(['run', '-c', 'watchers.conf', '--instance-id', 'pty-1'], { cols: 80, rows: 24, colour: false, ready: /^tick-0 .* ok [\d.]+m?s/m });
    assertFits(s, 80, 24, HEADER);
    assert.ok(!s.screen.scrollback.some((l) => HEADER.test(l)), `the header never scrolled off: ${s.screen.scrollback.join('\n')}`);
    assert.match(s.frame[1]!, /^store up embedded/);
    assert.match(s.frame[2]!, /^fleet: 1 live instance, \d running, 0 paused {2}(runs since \d\d:\d\d: )?\d+ ok, \d+ failed/);
    assert.match(s.frame[3]!, /^JOB +NEXT +STATE +OK\/FAIL +LAST/);
    assert.ok(s.frame.some((l) => /^\+\d+ more jobs/.test(l)), 'the rows that do not fit are counted');
    assert.ok(s.frame.some((l) => /^nightly-ex\S*…\S*eu-west-\d /.test(l)), 'a long name keeps both ends');
    assert.ok(s.frame.some((l) => /^tick-0 .* ok [\d.]+m?s/.test(l)), 'a run shown');
    assert.equal(s.frame.at(-1), 'stopped.');
    assert.equal(s.frame.length, 23, 'the log tail takes the rows left, one stays free');
    assert.doesNotMatch(s.output, SGR, 'no SGR escape under NO_COLOR');
  });

  test('150x40, colour: every job on one line, no wrap, coloured', async () => {
    const s = await session(['run', '-c', 'watchers.conf', '--instance-id', 'pty-2'], { cols: 150, rows: 40, colour: true, ready: /^always-fails .* failed [\d.]+m?s: comm/m });
    assertFits(s, 150, 40, HEADER);
    assert.ok(!s.screen.scrollback.some((l) => HEADER.test(l)), 'the header never scrolled off');
    assert.match(s.frame[3]!, /^JOB +MODE +SCHEDULE +ZONE +NEXT +STATE +OK\/FAIL +LATE +LAST RUN/);
    const rows = s.frame.filter((l) => /^(tick-|always-fails|nightly-|six-hourly-|hourly-report-)/.test(l));
    assert.equal(rows.length, 30, 'all 30 jobs fit in 40 rows');
    assert.ok(!s.frame.some((l) => /more jobs/.test(l)));
    assert.match(s.frame.find((l) => l.startsWith('always-fails'))!, / 0\/[1-9]\d* .* failed [\d.]+m?s: comm/);
    assert.match(s.output, COLOUR, 'colours on a terminal without NO_COLOR');
  });

  test('resized from 150x40 to 80x24 while it runs: laid out again for 80x24', { skip: hasPythonPty() ? false : 'resizing needs python3' }, async () => {
    const s = await session(['run', '-c', 'watchers.conf', '--instance-id', 'pty-3'], { cols: 150, rows: 40, colour: false, ready: /JOB .*STATE/, resizeTo: [80, 24] });
    assertFits(s, 80, 24, HEADER);
    assert.match(s.frame[3]!, /^JOB +NEXT +STATE +OK\/FAIL +LAST/);
    assert.ok(s.frame.some((l) => /^\+\d+ more jobs/.test(l)));
    assert.equal(s.frame.at(-1), 'stopped.');
  });

  test('status --watch at 80x24, NO_COLOR=1: fits, header on top, no style escape', async () => {
    const s = await session(['status', '--watch', '-c', 'watchers.conf'], { cols: 80, rows: 24, colour: false, ready: /JOB .*NOW/ });
    assertFits(s, 80, 24, /^iamwatch status {2}watchers\.conf/);
    assert.match(s.frame[1]!, /^fleet: 0 live instances, 0 running, 0 paused/);
    assert.ok(s.frame.some((l) => /^\+\d+ more jobs/.test(l)));
    assert.doesNotMatch(s.output, SGR);
  });
});
