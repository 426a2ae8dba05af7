/**
 * A seeded fuzz of the jobs-file parser: thousands of mutations of a valid file (characters
 * inserted, deleted and replaced, tokens swapped and repeated, lines cut), each parsed in-process,
 * and a sample through the real `validate` command. It asserts that parsing never throws, that
 * every diagnostic has a FILE:LINE:COL inside the file, and that the CLI exits 0 or 1 (2 never
 * applies to file contents) without a stack trace. FUZZ_SEED replays a run; FUZZ_CASES scales it.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { runCli } from '../helpers/cli.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const CLI_SAMPLE = 12;

const BASE = [
  '# IAM housekeeping',
  'CRON_TZ=Europe/Berlin',
  'LIMIT=${MAX:-90}',
  'SHUTDOWN_TIMEOUT=30s',
  '0 3 * * *          cron      clean        max-reserve-days=180',
  '30 2 * * MON-FRI   cron      task         max-inactive-days=${LIMIT} tz=America/New_York',
  '@every 1h          interval  cleansecret  grace-days=7 lock-ttl=1m',
  '*/30 * * * * *     cron      exec         name=heartbeat command="echo \\"alive\\" $$HOME" timeout=10s',
  '0 0 L * ?          cron      exec         name=monthly command=\'echo ${NOT_EXPANDED}\' overlap=skip',
  '@every 90s         rate      exec         name=r command=true retries=2 retry-delay=500ms misfire=once',
  '15W,L-2 */2 1-10/3 JAN-MAR 5L cron exec name=q command=true',
].join('\n');

const ALPHABET = [' ', '\t', '=', '"', "'", '\\', '$', '{', '}', ':-', '@', '#', '*', '/', ',', '-', 'L', 'W', '?', '0', '9', '99999999999999999999', 'a', 'Z', '\r', '\n', '\u0000', 'é', '😀', '\u202e', 'cron', 'rate', 'interval', 'exec', 'name=x', 'tz=', 'command=', '${', '$$'];

let state = SEED;
const random = (): number => ((state = (state * 16807) % 2147483647) - 1) / 2147483646;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const at = (s: string): number => Math.floor(random() * (s.length + 1));

function mutate(text: string): string {
  let s = text;
  const steps = 1 + Math.floor(random() * 4);
  for (let i = 0; i < steps; i++) {
    switch (Math.floor(random() * 7)) {
      case 0: { const p = at(s); s = s.slice(0, p) + pick(ALPHABET) + s.slice(p); break; }
      case 1: { const p = at(s); s = s.slice(0, p) + s.slice(p + 1 + Math.floor(random() * 6)); break; }
      case 2: { const p = at(s); s = s.slice(0, p) + pick(ALPHABET) + s.slice(p + 1); break; }
      case 3: { const t = s.split(/( +)/); const a = Math.floor(random() * t.length); const b = Math.floor(random() * t.length); [t[a], t[b]] = [t[b]!, t[a]!]; s = t.join(''); break; }
      case 4: { const lines = s.split('\n'); const l = Math.floor(random() * lines.length); lines.splice(l, 0, lines[l]!); s = lines.join('\n'); break; }
      case 5: s = s.slice(0, at(s)); break;
      default: { const p = at(s); s = s.slice(0, p) + pick(ALPHABET).repeat(1 + Math.floor(random() * 300)) + s.slice(p); }
    }
  }
  return s;
}

function check(text: string, file: string): void {
  const jf = parseJobsFile({ text, file, env: {}, watchers: new WatcherRegistry(), now: Date.UTC(2026, 11, 1) });
  const lines = text.split(/\r\n|\r|\n/);
  for (const d of jf.diagnostics) {
    assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines.length, `line ${d.line} of ${lines.length}: ${formatDiagnostic(d)}`);
    assert.ok(Number.isInteger(d.col) && d.col >= 1 && d.col <= lines[d.line - 1]!.length + 1, `col ${d.col} of ${lines[d.line - 1]!.length}: ${formatDiagnostic(d)}`);
    assert.match(formatDiagnostic(d), /^[^:]+:\d+:\d+: (error|warning): \S/);
  }
}

test(`jobs-file fuzz: ${CASES} seeded mutations parse without throwing, diagnostics at FILE:LINE:COL (seed ${SEED})`, { timeout: 60_000 }, () => {
  check(BASE, 'base.conf');
  const deadline = Date.now() + 40_000;
  for (let i = 0; i < CASES && Date.now() < deadline; i++) {
    const text = mutate(BASE);
    try {
      check(text, 'fuzz.conf');
    } catch (err) {
      assert.fail(`case ${i} (seed ${SEED}) failed: ${(err as Error).message}\n--- input ---\n${JSON.stringify(text)}`);
    }
  }
});

test(`jobs-file fuzz through the CLI: ${CLI_SAMPLE} mutated files, exit 0 or 1, never a stack trace`, { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'iw-fuzz-'));
  try {
    const files = Array.from({ length: CLI_SAMPLE }, (_, i) => path.join(dir, `f${i}.conf`));
    for (const file of files) {
      await writeFile(file, mutate(BASE));
      await chmod(file, 0o644);
    }
    // Two processes at a time: the machine may have only two cores.
    for (let i = 0; i < files.length; i += 2) {
      const results = await Promise.all(files.slice(i, i + 2).map(async (file) => ({ file, r: await runCli(['validate', '-c', file], { timeoutMs: 20_000 }) })));
      for (const { file, r } of results) {
        assert.ok(r.code === 0 || r.code === 1, `exit ${r.code} for ${file}:\n${r.stderr}`);
        assert.ok(!/\n\s+at .+:\d+:\d+|internal error/.test(r.stderr), r.stderr);
        for (const line of r.stderr.trimEnd().split('\n').slice(0, -1)) assert.match(line, /^.+:\d+:\d+: (error|warning): /, line);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
