/**
 * What `--help` says beyond commander's option list: each command's synopsis (generated from its
 * arguments and options, the form the README uses), a few real examples, and the settings it
 * reads, with their defaults and descriptions taken from SETTINGS, so help never drifts from the
 * declarations.
 */
import type { Argument, Command, Option } from 'commander';
import { SETTINGS, type SettingName } from '../jobsfile/settings.js';
import type { OptionDecl } from '../jobsfile/options.js';
import { formatDuration } from '../schedule/duration.js';

/** Options every command that reads a jobs file takes; the synopses leave them out. */
export const CONFIG_FLAGS = new Set(['--config', '--plugin', '--allow-writable-config']);

const ALL = Object.keys(SETTINGS) as SettingName[];
const LOADING: SettingName[] = ['CRON_TZ', 'PLUGINS', 'PLUGIN_TIMEOUT'];
const REDIS: SettingName[] = ['REDIS_URL', 'REDIS_TLS_CA', 'REDIS_TLS_CERT', 'REDIS_TLS_KEY', 'REDIS_TLS_SERVERNAME', 'IAMWATCH_PREFIX'];
const FLEET: SettingName[] = [...REDIS, 'HISTORY_LIMIT', 'HISTORY_MAX_AGE', ...LOADING];

interface CommandHelp {
  /** `# what it does` above each command line. */
  examples: Array<[what: string, line: string]>;
  /** The settings the command acts on; `checked`: it validates all the others too. */
  settings: readonly SettingName[];
  checked?: boolean;
}

/** Keyed by the command's path below `iamwatch` ("db init"). */
export const COMMAND_HELP: Record<string, CommandHelp> = {
  validate: {
    examples: [
      ['check the jobs file, every problem as FILE:LINE:COL', 'iamwatch validate -c watchers.conf'],
      ['the same report as JSON, for CI', 'iamwatch validate -c watchers.conf --json'],
      ['a file that loads a plugin from outside its folder', 'iamwatch validate -c /etc/iamwatch/watchers.conf --plugin ./watchers/finish-orders.js'],
    ],
    settings: LOADING,
    checked: true,
  },
  next: {
    examples: [
      ['the next 3 occurrences of every job', 'iamwatch next -c watchers.conf -n 3'],
      ['one job around a DST change, from a wall time in its zone', 'iamwatch next clean -c watchers.conf --from 2026-03-08T00:00'],
      ['an ad-hoc schedule, no jobs file needed', "iamwatch next --spec '30 2 * * MON-FRI' --tz America/New_York"],
    ],
    settings: LOADING,
  },
  run: {
    examples: [
      ['schedule every job; the dashboard on a terminal', 'iamwatch run -c watchers.conf'],
      ['one instance of a fleet, JSON log lines, metrics and health on :9464', 'REDIS_URL=redis://10.0.0.5:6379 iamwatch run -c watchers.conf --log-format json --metrics :9464'],
      ['plain log lines with a fixed instance id', 'iamwatch run -c watchers.conf --no-tui --instance-id web-1'],
    ],
    settings: ALL,
  },
  status: {
    examples: [
      ['each job\'s next occurrence, last run and holder; the live instances', 'iamwatch status -c watchers.conf'],
      ['a live view, refreshed every 2 s', 'iamwatch status -c watchers.conf --watch'],
      ['for scripts', 'iamwatch status -c watchers.conf --json'],
    ],
    settings: FLEET,
  },
  history: {
    examples: [
      ['the 20 newest runs of the fleet', 'iamwatch history -c watchers.conf -n 20'],
      ['one job\'s failures of the last day', 'iamwatch history clean -c watchers.conf --failed --since 1d'],
      ['everything since a time, as JSON', 'iamwatch history -c watchers.conf --since 2026-03-08T06:00Z --json'],
    ],
    settings: FLEET,
  },
  once: {
    examples: [
      ['what a run would change, changing nothing', 'iamwatch once clean -c watchers.conf --dry-run'],
      ['run a job now and print the result as JSON', 'iamwatch once heartbeat -c watchers.conf --json'],
      ['run it even while a fleet run holds its lock', 'iamwatch once task -c watchers.conf --no-lock'],
    ],
    settings: ALL.filter((s) => s !== 'METRICS_ADDR' && s !== 'SHUTDOWN_TIMEOUT' && s !== 'MAX_CLOCK_SKEW'),
  },
  pause: {
    examples: [
      ['pause one job on every instance for two hours, saying why', "iamwatch pause clean -c watchers.conf --until 2h --reason 'schema migration'"],
      ['pause every job of the file until resumed', 'iamwatch pause --all -c watchers.conf'],
    ],
    settings: [...REDIS, ...LOADING],
  },
  trigger: {
    examples: [
      ['run a job now on the fleet (one live instance runs it)', 'iamwatch trigger clean -c watchers.conf'],
      ['and wait for its outcome (exit code like once)', 'iamwatch trigger clean -c watchers.conf --wait'],
      ['for scripts', 'iamwatch trigger clean -c watchers.conf --wait --json'],
    ],
    settings: [...REDIS, ...LOADING],
  },
  resume: {
    examples: [
      ['let one job run again', 'iamwatch resume clean -c watchers.conf'],
      ['every job of the file, as JSON', 'iamwatch resume --all -c watchers.conf --json'],
    ],
    settings: [...REDIS, ...LOADING],
  },
  audit: {
    examples: [
      ['what did not run successfully in the last day', 'iamwatch audit -c watchers.conf'],
      ['one job over the last week, as JSON', 'iamwatch audit clean -c watchers.conf --since 7d --json'],
    ],
    settings: FLEET,
  },
  db: { examples: [['create the IAM tables, with demo rows', 'iamwatch db init --demo'], ['what the watchers still need', 'iamwatch db check']], settings: ['DATABASE_URL'] },
  'db init': {
    examples: [
      ['create the IAM tables in the embedded SQLite database, with demo rows', 'iamwatch db init --demo'],
      ['an existing MySQL database: create what is missing, add the watchers\' indexes', 'DATABASE_URL=mysql://root@127.0.0.1:3306/iam iamwatch db init --add-indexes'],
    ],
    settings: ['DATABASE_URL', 'PLUGINS', 'PLUGIN_TIMEOUT'],
  },
  'db check': {
    examples: [
      ['missing tables, columns and indexes of the jobs file\'s DATABASE_URL', 'iamwatch db check -c watchers.conf'],
      ['the same as JSON', 'iamwatch db check -c watchers.conf --json'],
    ],
    settings: ['DATABASE_URL', 'PLUGINS', 'PLUGIN_TIMEOUT'],
  },
  watchers: {
    examples: [
      ['every watcher and its options', 'iamwatch watchers'],
      ['one watcher', 'iamwatch watchers exec'],
      ['with a plugin, as JSON', 'iamwatch watchers --plugin ./watchers/finish-orders.js --json'],
    ],
    settings: ['PLUGINS', 'PLUGIN_TIMEOUT'],
  },
  completion: {
    examples: [
      ['bash, for this shell', 'source <(iamwatch completion bash)'],
      ['bash, for every new shell', 'iamwatch completion bash > ~/.local/share/bash-completion/completions/iamwatch'],
      ['zsh (a directory in $fpath)', 'iamwatch completion zsh > "${fpath[1]}/_iamwatch"'],
      ['fish', 'iamwatch completion fish > ~/.config/fish/completions/iamwatch.fish'],
    ],
    settings: [],
  },
};

/** The environment iamwatch reads besides the settings. */
export const ENVIRONMENT: Array<[name: string, what: string]> = [
  ['IAMWATCH_CONFIG', 'the jobs file when no -c is given (default ./watchers.conf)'],
  ['IAMWATCH_STATE_DIR', 'where the embedded store keeps its database (default .iamwatch/ next to the jobs file)'],
  ['NO_COLOR', 'any value: no colour anywhere'],
  ['FORCE_COLOR', 'colour even into a pipe (0: none)'],
];

export const ROOT_EXAMPLES: Array<[string, string]> = [
  ['check a jobs file, then see when its jobs run', 'iamwatch validate -c watchers.conf && iamwatch next -c watchers.conf'],
  ['run them', 'iamwatch run -c watchers.conf'],
  ['the watchers and their options', 'iamwatch watchers'],
];

const optionText = (decl: OptionDecl, value: unknown): string => (decl.type === 'duration' && typeof value === 'number' ? formatDuration(value) : String(value));

/** A setting's default as written in a jobs file, or "unset". */
export function settingDefault(name: SettingName): string {
  const decl = SETTINGS[name] as { description: string; default?: unknown; option?: OptionDecl };
  if (typeof decl.default === 'string') return decl.default;
  if (decl.option?.default !== undefined) return optionText(decl.option, decl.option.default);
  return /\(default ([^)]+)\)/.exec(decl.description)?.[1] ?? 'unset';
}

/** The description's first sentence, without the "(default ...)" the default column already shows. */
export function settingLine(name: SettingName): string {
  const d = SETTINGS[name].description.replace(/ \(default [^)]+\)/, '');
  const m = /^.*?[.!?](?=\s|$)/.exec(d);
  return (m ? m[0] : d).trim();
}

/** Columns padded to the widest cell, the last one wrapped under itself to `width`. */
function columns(rows: string[][], width: number, indent = '  '): string {
  const widths = rows[0]!.slice(0, -1).map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lead = indent.length + widths.reduce((a, w) => a + w + 2, 0);
  const room = Math.max(30, width - lead);
  return rows
    .map((r) => {
      const words = r[r.length - 1]!.split(' ');
      const lines: string[] = [];
      for (const w of words) {
        if (lines.length > 0 && lines[lines.length - 1]!.length + 1 + w.length <= room) lines[lines.length - 1] += ` ${w}`;
        else lines.push(w);
      }
      const head = indent + r.slice(0, -1).map((c, i) => c.padEnd(widths[i]! + 2)).join('');
      return [head + (lines[0] ?? ''), ...lines.slice(1).map((l) => ' '.repeat(lead) + l)].join('\n');
    })
    .join('\n');
}

const helpWidth = (): number => Math.min(120, Math.max(60, process.stdout.columns || 80));

export function examplesText(examples: ReadonlyArray<[string, string]>): string {
  return ['Examples:', ...examples.flatMap(([what, line]) => [`  # ${what}`, `  ${line}`])].join('\n');
}

export function settingsText(help: CommandHelp): string {
  if (help.settings.length === 0) return 'Settings: none (it reads no jobs file).';
  const head = `Settings it reads (NAME=value in the jobs file, else the environment${help.checked ? '; it checks every other setting too' : ''}):`;
  return `${head}\n${columns(help.settings.map((s) => [s, settingDefault(s), settingLine(s)]), helpWidth())}`;
}

export function environmentText(): string {
  return `Environment:\n${columns(ENVIRONMENT.map(([n, w]) => [n, w]), helpWidth())}`;
}

/** The text after commander's own help for the command at `path`. */
export function helpAfter(path: string): string {
  const help = COMMAND_HELP[path];
  return help ? `\n${examplesText(help.examples)}\n\n${settingsText(help)}\n` : '';
}

function argumentSynopsis(a: Argument): string {
  const name = a.argChoices ? a.argChoices.join('|') : a.name().toUpperCase();
  const text = `${name}${a.variadic ? '...' : ''}`;
  return a.required ? text : `[${text}]`;
}

function optionSynopsis(o: Option): string {
  const flag = o.long ?? o.short ?? o.flags;
  if (!o.required && !o.optional) return `[${flag}]`;
  const placeholder = o.argChoices ? o.argChoices.join('|') : (/[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? 'VALUE').toUpperCase();
  return o.optional ? `[${flag} [${placeholder}]]` : `[${flag} ${placeholder}]`;
}

/**
 * The command's synopsis as the README writes it: arguments in capitals, then each option by
 * its long name with its value's placeholder, except the jobs-file options every command takes.
 */
export function synopsis(cmd: Command): string {
  const args = cmd.registeredArguments.map(argumentSynopsis);
  const opts = cmd.options.filter((o) => !o.hidden && !CONFIG_FLAGS.has(o.long ?? '')).map(optionSynopsis);
  return [...args, ...opts].join(' ');
}
