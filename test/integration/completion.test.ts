/**
 * `iamwatch completion bash|zsh|fish`: each script parses in its shell (`bash -n`, `zsh -n`,
 * `fish -n`; a shell that is not installed is skipped, and says so), and completes: commands,
 * options, option and argument choices, files for -c, and job and watcher names read from the
 * jobs file on the command line through the real `iamwatch __complete`. bash is driven through
 * COMP_WORDS/COMP_CWORD, fish through `complete -C`, zsh through a pseudo-terminal (zpty).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, cleanEnv, runCli } from '../helpers/cli.js';

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;
const SHELLS = { bash: has('bash'), zsh: has('zsh'), fish: has('fish') };

let dir: string;
let bin: string;
let jobs: string;
const scripts: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-completion-'));
  await chmod(dir, 0o755);
  // `iamwatch` on PATH, as a user has it: the scripts call the command they complete.
  bin = path.join(dir, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'iamwatch'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
  await writeFile(path.join(dir, 'orders.js'), "export default { name: 'finish-orders', description: '', options: {}, async run() {} };\n", { mode: 0o644 });
  jobs = path.join(dir, 'jobs.conf');
  await writeFile(jobs, 'PLUGINS=./orders.js\n0 3 * * * cron clean name=nightly-clean\n*/30 * * * * * cron exec name=heartbeat command=true\n@every 1h rate finish-orders name=orders\n', { mode: 0o644 });
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['completion', shell]);
    assert.equal(r.code, 0, r.stderr);
    scripts[shell] = path.join(dir, `iamwatch.${shell}`);
    await writeFile(scripts[shell]!, r.stdout);
  }
  await mkdir(path.join(dir, 'zfunc'));
  await writeFile(path.join(dir, 'zfunc', '_iamwatch'), (await runCli(['completion', 'zsh'])).stdout);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const shellEnv = (): NodeJS.ProcessEnv => cleanEnv({ PATH: `${bin}:${process.env.PATH}`, HOME: dir });

function sh(shell: string, args: string[], timeout = 20_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(shell, args, { cwd: dir, env: shellEnv(), encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an unknown shell is a usage error that names the choices', async () => {
  const r = await runCli(['completion', 'tcsh']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Allowed choices are bash, zsh, fish/);
});

test('__complete prints job and watcher names of the jobs file on the command line, and nothing on a problem', async () => {
  const names = await runCli(['__complete', 'jobs', '-c', jobs]);
  assert.deepEqual(names.stdout.trim().split('\n'), ['nightly-clean', 'heartbeat', 'orders']);
  const watchers = await runCli(['__complete', 'watchers', '-c', jobs]);
  assert.deepEqual(watchers.stdout.trim().split('\n'), ['clean', 'cleansecret', 'exec', 'finish-orders', 'task']);
  const missing = await runCli(['__complete', 'jobs', '-c', path.join(dir, 'nope.conf')]);
  assert.deepEqual([missing.code, missing.stdout, missing.stderr], [0, '', '']);
});

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  test(`${shell} -n accepts the ${shell} script`, { skip: SHELLS[shell] ? false : `${shell} is not installed` }, () => {
    const r = sh(shell, ['-n', scripts[shell]!]);
    assert.equal(r.status, 0, r.stderr);
  });
}

describe('bash', { skip: SHELLS.bash ? false : 'bash is not installed' }, () => {
  /** What _iamwatch offers for the words, the last being the one completed. */
  function complete(...words: string[]): string[] {
    const program = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _iamwatch; printf "%s\\n" "${COMPREPLY[@]}"';
    const r = sh('bash', ['-c', program, 'bash', scripts.bash!, ...words]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  }

  test('commands, subcommands and help topics', async () => {
    const help = (await runCli(['--help'])).stdout.split(/^Commands:$/m)[1]!.split(/^\S/m)[0]!;
    const commands = [...help.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
    assert.ok(commands.includes('watchers') && commands.includes('completion') && !commands.includes('__complete'), help);
    assert.deepEqual(complete('iamwatch', ''), commands);
    assert.deepEqual(complete('iamwatch', 'h'), ['history', 'help']);
    assert.deepEqual(complete('iamwatch', 'db', ''), ['init', 'check', 'help']);
    assert.deepEqual(complete('iamwatch', 'help', 'wa'), ['watchers']);
  });

  test('options of the command, and the choices of an option\'s value', () => {
    assert.deepEqual(complete('iamwatch', 'next', '--j'), ['--json']);
    assert.deepEqual(complete('iamwatch', 'db', 'init', '--'), ['--config', '--plugin', '--allow-writable-config', '--demo', '--add-indexes', '--json', '--help']);
    assert.deepEqual(complete('iamwatch', 'run', '--log-format', ''), ['pretty', 'json']);
    assert.deepEqual(complete('iamwatch', 'run', '--log-format', '=', 'j'), ['json']);
    assert.deepEqual(complete('iamwatch', 'completion', 'z'), ['zsh']);
    assert.deepEqual(complete('iamwatch', 'next', '--count', ''), [], 'a free value gets no guesses');
  });

  test('files for -c', () => {
    assert.deepEqual(complete('iamwatch', 'next', '-c', path.join(dir, 'jobs.c')), [jobs]);
  });

  test('job names from the jobs file given with -c; watcher names for watchers', () => {
    assert.deepEqual(complete('iamwatch', 'once', '-c', jobs, ''), ['nightly-clean', 'heartbeat', 'orders']);
    assert.deepEqual(complete('iamwatch', 'next', '--config', jobs, 'heartbeat', 'o'), ['orders'], 'next takes several jobs');
    assert.deepEqual(complete('iamwatch', 'once', '-c', jobs, 'heartbeat', ''), [], 'once takes one job');
    assert.deepEqual(complete('iamwatch', 'history', `--config=${jobs}`, 'n'), ['nightly-clean']);
    assert.deepEqual(complete('iamwatch', 'watchers', '-c', jobs, 'f'), ['finish-orders']);
    assert.deepEqual(complete('iamwatch', 'watchers', 'c'), ['clean', 'cleansecret'], 'no jobs file: the built-ins');
  });
});

describe('fish', { skip: SHELLS.fish ? false : 'fish is not installed' }, () => {
  function complete(line: string): string[] {
    const r = sh('fish', ['-c', `source ${JSON.stringify(scripts.fish)}; complete -C ${JSON.stringify(line)}`]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
  }

  test('commands, options, choices, jobs and watchers', () => {
    assert.deepEqual(complete('iamwatch d'), ['db']);
    assert.deepEqual(complete('iamwatch db '), ['check', 'help', 'init']);
    assert.deepEqual(complete('iamwatch next --j'), ['--json']);
    assert.deepEqual(complete('iamwatch run --log-format '), ['json', 'pretty']);
    assert.deepEqual(complete(`iamwatch once -c ${jobs} `), ['heartbeat', 'nightly-clean', 'orders']);
    assert.deepEqual(complete(`iamwatch once -c ${jobs} heartbeat `), []);
    assert.deepEqual(complete(`iamwatch next -c ${jobs} heartbeat `), ['heartbeat', 'nightly-clean', 'orders']);
    assert.deepEqual(complete(`iamwatch watchers -c ${jobs} f`), ['finish-orders']);
  });
});

/** Drives an interactive zsh in a pseudo-terminal and prints what completing LINE offers. */
const ZPTY = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($ZFUNC \\$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; print -l -- \${(@)__hits/#/HI""T:} }'
zpty -w z 'finished () { print -- "FINI""SHED" }'
zpty -w z "bindkey '^I' complete-word; zle -C finish .complete-word finished; bindkey '^X' finish"
zpty -n -w z "$1"$'\\t'
zpty -n -w z $'\\x18'
out=''
integer tries=0
while (( tries++ < 300 )); do
  if zpty -r -t z line; then out+="$line"; [[ $out == *FINISHED* ]] && break; else sleep 0.05; fi
done
zpty -d z
print -r -- "$out" | tr -d '\\r' | grep -ao 'HIT:[^[:space:][:cntrl:]]*' | sed 's/HIT://' | sort -u
`;

describe('zsh', { skip: SHELLS.zsh ? false : 'zsh is not installed' }, () => {
  function complete(line: string): string[] {
    const r = spawnSync('zsh', ['-f', '-c', ZPTY, 'zsh', line], { cwd: dir, env: { ...shellEnv(), ZFUNC: path.join(dir, 'zfunc') }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  }

  test('commands, options, choices, jobs and watchers', () => {
    assert.deepEqual(complete('iamwatch ne'), ['next']);
    assert.deepEqual(complete('iamwatch db '), ['check', 'help', 'init']);
    assert.deepEqual(complete('iamwatch run --log-format '), ['json', 'pretty']);
    assert.deepEqual(complete(`iamwatch once -c ${jobs} `), ['heartbeat', 'nightly-clean', 'orders']);
    assert.deepEqual(complete(`iamwatch watchers -c ${jobs} f`), ['finish-orders']);
  });
});
