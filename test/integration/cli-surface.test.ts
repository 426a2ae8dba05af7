/**
 * The everyday command-line surface, through the built CLI as real processes: `watchers` (text,
 * JSON, one watcher, plugins, an unknown name), `--version`, every command's `--help` (synopsis,
 * examples that use only the command's own options, the settings it reads as SETTINGS declares
 * them), and "did you mean" for unknown commands, options, job and watcher names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMMON_OPTIONS } from '../../src/jobsfile/job-options.js';
import { SETTINGS } from '../../src/jobsfile/settings.js';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';
import type { OptionInfo, WatcherInfo } from '../../src/cli/commands/watchers.js';

let dir: string;
/** A directory without a watchers.conf. */
let empty: string;
let jobs: string;
let plugin: string;

const PLUGIN = `export default [{
  name: 'finish-orders',
  description: 'Mark paid orders as shipped.',
  database: true,
  options: {
    limit: { type: 'int', min: 1, max: 10000, default: 500, description: 'Orders per run.' },
    mode: { type: 'enum', values: ['fast', 'safe'], default: 'safe', description: 'How.' },
    every: { type: 'duration', min: 1000, default: 90000, description: 'Pause.' },
    target: { type: 'string', required: true, description: 'Where to.' },
  },
  async run() { return { summary: 'done' }; },
}, { name: 'bare', async run() {} }];
`;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-surface-'));
  await chmod(dir, 0o755);
  empty = await mkdtemp(path.join(dir, 'empty-'));
  plugin = path.join(dir, 'orders.js');
  await writeFile(plugin, PLUGIN, { mode: 0o644 });
  jobs = path.join(dir, 'watchers.conf');
  await writeFile(
    jobs,
    ['PLUGINS=./orders.js', '0 3 * * * cron clean name=nightly-clean', '*/30 * * * * * cron exec name=heartbeat command="echo alive"', '@every 1h rate finish-orders name=orders target=shipping', ''].join('\n'),
    { mode: 0o644 },
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ok = (r: CliResult): CliResult => {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
};

interface WatchersJson {
  file: string | null;
  watchers: WatcherInfo[];
  commonOptions: OptionInfo[];
}

describe('iamwatch watchers', () => {
  test('without a jobs file: the built-ins, each with its options, and the common options once', async () => {
    const r = ok(await runCli(['watchers'], { cwd: empty }));
    for (const name of ['clean', 'cleansecret', 'exec', 'task']) assert.match(r.stdout, new RegExp(`^${name} \\(built-in`, 'm'));
    assert.match(r.stdout, /^ {2}OPTION +TYPE +DEFAULT +REQUIRED +RANGE\/VALUES +DESCRIPTION$/m);
    assert.match(r.stdout, /^ {2}command +string +yes +The command line/m);
    assert.match(r.stdout, /^ {2}kill-grace +duration +10s +0s\.\.10m +Time between SIGTERM/m);
    assert.match(r.stdout, /^ {2}max-reserve-days +int +180 +1\.\.36500 /m);
    assert.match(r.stdout, /^ {2}overlap +enum +allow +allow\|skip /m);
    assert.equal(r.stdout.match(/^Options every job takes$/gm)?.length, 1);
    assert.doesNotMatch(r.stdout, /finish-orders/);
  });

  test('--json: every watcher and option, in jobs-file units, and the common options from their declarations', async () => {
    const report = JSON.parse(ok(await runCli(['watchers', '--json'], { cwd: empty })).stdout) as WatchersJson;
    assert.equal(report.file, null);
    assert.deepEqual(report.watchers.map((w) => w.name), ['clean', 'cleansecret', 'exec', 'task']);
    const exec = report.watchers.find((w) => w.name === 'exec')!;
    assert.equal(exec.source, 'built-in');
    assert.equal(exec.database, false);
    assert.deepEqual(exec.options.find((o) => o.name === 'kill-grace'), {
      name: 'kill-grace', type: 'duration', required: false, default: '10s', min: '0s', max: '10m', values: null, protocols: null, pattern: null,
      description: 'Time between SIGTERM and SIGKILL when a run is aborted.',
    });
    assert.equal(report.watchers.find((w) => w.name === 'clean')!.database, true);
    assert.deepEqual(report.commonOptions.map((o) => o.name), Object.keys(COMMON_OPTIONS));
    const notify = report.commonOptions.find((o) => o.name === 'notify')!;
    assert.deepEqual(notify.protocols, ['http:', 'https:']);
    assert.equal(report.commonOptions.find((o) => o.name === 'lock-ttl')!.max, '1d');
    assert.equal(report.commonOptions.find((o) => o.name === 'name')!.pattern, COMMON_OPTIONS.name.pattern.source);
  });

  test('the jobs file\'s plugins (PLUGINS=) are listed beside the built-ins', async () => {
    const report = JSON.parse(ok(await runCli(['watchers', '-c', jobs, '--json'])).stdout) as WatchersJson;
    assert.equal(report.file, jobs);
    assert.deepEqual(report.watchers.map((w) => w.name), ['bare', 'clean', 'cleansecret', 'exec', 'finish-orders', 'task']);
    const orders = report.watchers.find((w) => w.name === 'finish-orders')!;
    assert.equal(orders.source, 'plugin');
    assert.equal(orders.database, true);
    assert.deepEqual(
      orders.options.map((o) => [o.name, o.type, o.default, o.required, o.min, o.max, o.values]),
      [
        ['limit', 'int', '500', false, '1', '10000', null],
        ['mode', 'enum', 'safe', false, null, null, ['fast', 'safe']],
        ['every', 'duration', '1m30s', false, '1s', null, null],
        ['target', 'string', null, true, null, null, null],
      ],
    );
    const text = ok(await runCli(['watchers', 'bare', '-c', jobs])).stdout;
    assert.match(text, /^bare \(plugin\)$/m);
    assert.match(text, /no options of its own/);
  });

  test('--plugin without a jobs file; WATCHER shows only that one', async () => {
    const r = ok(await runCli(['watchers', 'finish-orders', '--plugin', plugin], { cwd: empty }));
    assert.match(r.stdout, /^finish-orders \(plugin, uses DATABASE_URL\)\n {2}Mark paid orders as shipped\.$/m);
    assert.match(r.stdout, /^ {2}every +duration +1m30s +>= 1s +Pause\.$/m);
    assert.match(r.stdout, /^ {2}mode +enum +safe +fast\|safe +How\.$/m);
    assert.doesNotMatch(r.stdout, /^exec /m);
  });

  test('an unknown watcher is a usage error that suggests the closest name', async () => {
    const r = await runCli(['watchers', 'exce'], { cwd: empty });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown watcher "exce": did you mean "exec"\?/);
    assert.equal(r.stdout, '');
    const far = await runCli(['watchers', 'zzzzzz', '-c', jobs]);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /did you mean/);
    assert.match(far.stderr, /watchers: bare, clean, cleansecret, exec, finish-orders, task/);
  });
});

describe('--version', () => {
  test('-V and --version print package.json\'s version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['-V', '--version']) {
      const r = ok(await runCli([flag]));
      assert.equal(r.stdout, `${version}\n`);
    }
  });
});

/** Every command path, with the names of the settings its help must list. */
const ALL = Object.keys(SETTINGS);
const COMMANDS: Array<{ path: string[]; settings: string[] }> = [
  { path: ['validate'], settings: ['CRON_TZ', 'PLUGINS', 'PLUGIN_TIMEOUT'] },
  { path: ['next'], settings: ['CRON_TZ', 'PLUGINS', 'PLUGIN_TIMEOUT'] },
  { path: ['run'], settings: ALL },
  { path: ['status'], settings: ['REDIS_URL', 'REDIS_TLS_CA', 'IAMWATCH_PREFIX', 'HISTORY_LIMIT', 'CRON_TZ', 'PLUGINS'] },
  { path: ['history'], settings: ['REDIS_URL', 'IAMWATCH_PREFIX', 'HISTORY_LIMIT', 'HISTORY_MAX_AGE'] },
  { path: ['once'], settings: ['REDIS_URL', 'DATABASE_URL', 'NOTIFY_URL', 'IAMWATCH_LOG_LEVEL', 'HISTORY_LIMIT'] },
  { path: ['db', 'init'], settings: ['DATABASE_URL'] },
  { path: ['db', 'check'], settings: ['DATABASE_URL'] },
  { path: ['watchers'], settings: ['PLUGINS', 'PLUGIN_TIMEOUT'] },
  { path: ['completion'], settings: [] },
];

/** The `--long` flags and `-s` short flags the help's Options section lists. */
function optionFlags(help: string): Set<string> {
  const section = help.split(/^Options:$/m)[1]!.split(/^\S/m)[0]!;
  return new Set([...section.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)/gm)].flatMap((m) => [m[1], m[2]].filter((f): f is string => f !== undefined)));
}

describe('--help', { concurrency: true }, () => {
  for (const c of COMMANDS) {
    test(`iamwatch ${c.path.join(' ')} --help: synopsis, real examples, the settings it reads`, async () => {
      const help = ok(await runCli([...c.path, '--help'])).stdout;
      const flags = optionFlags(help);
      // The usage line names every option but the jobs-file ones, each as the help lists it.
      const usage = /^Usage: iamwatch (.*)$/m.exec(help)![1]!;
      assert.ok(usage.startsWith(`${c.path.join(' ')} `) || usage === c.path.join(' '), usage);
      for (const f of flags) {
        if (['--config', '-c', '--plugin', '--allow-writable-config', '--help', '-h'].includes(f) || !f.startsWith('--')) continue;
        assert.ok(usage.includes(`[${f}`), `${f} in the usage line: ${usage}`);
      }
      // Examples: commented command lines that run this command with options it has.
      const examples = help.split(/^Examples:$/m)[1]?.split(/^\S/m)[0];
      assert.ok(examples, `an Examples section:\n${help}`);
      const lines = [...examples.matchAll(/^ {2}# .+\n {2}(.+)$/gm)].map((m) => m[1]!);
      assert.ok(lines.length >= 2, examples);
      for (const line of lines) {
        assert.match(line, new RegExp(`(^|\\s|\\()iamwatch ${c.path.join(' ')}( |$)`), line);
        const after = line.slice(line.indexOf(`iamwatch ${c.path.join(' ')}`));
        for (const [flag] of after.matchAll(/(?<=\s)--?[a-zA-Z][\w-]*/g)) assert.ok(flags.has(flag), `${flag} in "${line}" is an option of ${c.path.join(' ')}`);
      }
      // Settings: each listed with its default and the first sentence of its declaration.
      const settings = help.split(/^Settings/m)[1];
      assert.ok(settings !== undefined, help);
      if (c.settings.length === 0) assert.match(settings, /^: none/);
      for (const name of c.settings) {
        const decl = SETTINGS[name as keyof typeof SETTINGS] as { description: string; option?: { default?: unknown } };
        const first = decl.description.replace(/ \(default [^)]+\)/, '').split(/(?<=[.!?])\s/)[0]!.split(' ').slice(0, 3).join(' ');
        assert.match(settings, new RegExp(`^ {2}${name} +\\S+ +${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `${name} in:\n${settings}`);
      }
      if (c.path[0] === 'run') assert.equal([...settings.matchAll(/^ {2}[A-Z][A-Z_]+ {2,}/gm)].length, ALL.length);
    });
  }

  test('every command, however new, has examples and the settings it reads', async () => {
    const commandsOf = async (path: string[]): Promise<string[]> => {
      const help = ok(await runCli([...path, '--help'])).stdout.split(/^Commands:$/m)[1];
      return help === undefined ? [] : [...help.split(/^\S/m)[0]!.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
    };
    const paths = (await commandsOf([])).map((n) => [n]);
    for (const p of [...paths]) for (const sub of await commandsOf(p)) paths.push([...p, sub]);
    assert.ok(paths.length >= COMMANDS.length, JSON.stringify(paths));
    for (const p of paths) {
      const help = ok(await runCli([...p, '--help'])).stdout;
      if ((await commandsOf(p)).length > 0) continue; // a group: its commands are checked
      assert.match(help, /^Examples:\n {2}# /m, `iamwatch ${p.join(' ')} --help has examples`);
      assert.match(help, /^Settings/m, `iamwatch ${p.join(' ')} --help lists the settings it reads`);
    }
  });

  test('settings show their declared defaults in jobs-file units', async () => {
    const help = ok(await runCli(['run', '--help'])).stdout;
    assert.match(help, /^ {2}SHUTDOWN_TIMEOUT +3m +/m);
    assert.match(help, /^ {2}HISTORY_MAX_AGE +30d +/m);
    assert.match(help, /^ {2}IAMWATCH_LOG_LEVEL +info +/m);
    assert.match(help, /^ {2}IAMWATCH_PREFIX +iamwatch +Prefix of every Redis key\.$/m);
  });

  test('the program\'s help lists every command, examples and the environment it reads', async () => {
    const help = ok(await runCli(['--help'])).stdout;
    for (const name of ['validate', 'next', 'run', 'status', 'history', 'once', 'db', 'watchers', 'completion']) assert.match(help, new RegExp(`^ {2}${name}\\b`, 'm'));
    assert.doesNotMatch(help, /__complete/);
    assert.match(help, /^Examples:$/m);
    assert.match(help, /^ {2}NO_COLOR +/m);
  });
});

describe('did you mean', () => {
  test('an unknown command or option: commander\'s suggestion, exit 2', async () => {
    const cmd = await runCli(['nxt']);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'nxt'\n\(Did you mean next\?\)/);
    const sub = await runCli(['db', 'chek']);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /Did you mean check\?/);
    const opt = await runCli(['next', '--spec', '@hourly', '--jsn']);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /unknown option '--jsn'\n\(Did you mean --json\?\)/);
  });

  test('once: an unknown job or watcher name suggests the closest job', async () => {
    const r = await runCli(['once', 'hartbeat', '-c', jobs]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no job or watcher "hartbeat".*; did you mean "heartbeat"\?$/m);
    const watcher = await runCli(['once', 'exce', '-c', jobs]);
    assert.equal(watcher.code, 2);
    assert.match(watcher.stderr, /did you mean "exec"\?/);
  });

  test('next JOB...: each unknown name with its suggestion; a far-off name gets none', async () => {
    const r = await runCli(['next', 'hartbeat', 'ordrs', 'nightly-clean', '-c', jobs]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /"hartbeat": did you mean "heartbeat"\?; "ordrs": did you mean "orders"\?/);
    const far = await runCli(['next', 'zzzzzzzz', '-c', jobs]);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /did you mean/);
    assert.match(far.stderr, /unknown job zzzzzzzz/);
  });

  test('history JOB: an unknown job suggests the closest one', async () => {
    const r = await runCli(['history', 'nightly-claen', '-c', jobs], { env: { IAMWATCH_STATE_DIR: path.join(dir, 'state') } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no job "nightly-claen".*; did you mean "nightly-clean"\?$/m);
  });
});
