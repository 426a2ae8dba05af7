/**
 * The iamwatch command tree, in one place. Each command is a plain async function in
 * commands/<name>.ts that returns data; this file renders it (text or --json), and this file
 * alone turns outcomes into exit codes. Command modules are imported on use, so `validate`
 * and `next` never load Redis, knex or ink.
 */
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { errorStack, IamwatchError, isIamwatchError } from '../base/errors.js';
import { checkAddr } from '../jobsfile/settings.js';
import { packageVersion } from '../observe/version.js';
import { runExitHooks } from './exit-hooks.js';
import { environmentText, examplesText, helpAfter, ROOT_EXAMPLES, synopsis } from './help-text.js';
import { withJobHints } from './job-names.js';
import { interactiveTerminal } from './terminal.js';
import { EXIT, exitCodeFor, exitForRun, signalExit } from './exit-codes.js';
import { colors, err, errColors, flushOutput, ignoreClosedPipes, json, out, printDiagnostics, table } from './output.js';

function positiveInt(name: string, max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return Number(text);
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const configOption = (): Option => new Option('-c, --config <file>', 'jobs file (default: $IAMWATCH_CONFIG or ./watchers.conf)');
const pluginOption = (): Option => new Option('--plugin <path>', 'load a watcher plugin module (repeatable)').argParser(collect);
const trustOption = (): Option => new Option('--allow-writable-config', 'load a jobs file or plugin that other users can write (refused by default)');

/** host:port, checked like METRICS_ADDR. */
function address(text: string): string {
  const problem = checkAddr(text);
  if (problem) throw new InvalidArgumentError(problem);
  return text;
}

/** Instance ids appear in Redis keys, file names and log lines: printable, no spaces. */
function instanceId(text: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,200}$/.test(text)) throw new InvalidArgumentError('use 1 to 200 letters, digits and _ . : @ -');
  return text;
}

export interface Exit {
  code: number;
}

export function buildProgram(setExit: (exit: Exit) => void): Command {
  const program = new Command('iamwatch')
    .description('Run periodic jobs from a crontab-style file, exactly once per occurrence across a fleet.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(errColors.red(text)) });

  program
    .command('validate')
    .description('check a jobs file; print every problem as FILE:LINE:COL and exit 1 if any is an error')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--json', 'print the report as JSON')
    .action(async (o: { config?: string; plugin?: string[]; json?: boolean }) => {
      const { validate, summary } = await import('./commands/validate.js');
      const report = await validate(o);
      if (o.json) json(report);
      else {
        printDiagnostics(report.diagnostics);
        (report.valid ? out : err)(report.valid ? colors.green(summary(report)) : errColors.red(summary(report)));
      }
      if (!report.valid) setExit({ code: EXIT.FAILURE });
    });

  program
    .command('next')
    .description('show the next occurrences of each job (or of --spec) in its time zone')
    .argument('[job...]', 'only these jobs')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('-n, --count <n>', 'occurrences per job', positiveInt('--count', 10_000), 5)
    .option('--from <time>', 'ISO-8601 start; without Z or an offset it is wall time in each job\'s zone (default: now)')
    .option('--spec <schedule>', 'an ad-hoc schedule instead of the jobs file')
    .option('--tz <zone>', 'time zone for --spec (default UTC)')
    .option('--json', 'print a JSON array')
    .action(async (jobs: string[], o: { config?: string; plugin?: string[]; count: number; from?: string; spec?: string; tz?: string; json?: boolean }) => {
      const { next, renderNext } = await import('./commands/next.js');
      if (o.tz !== undefined && o.spec === undefined) throw new IamwatchError('USAGE', '--tz goes with --spec (jobs use their own tz= or CRON_TZ)');
      if (o.spec !== undefined && jobs.length > 0) throw new IamwatchError('USAGE', 'give either --spec or job names, not both');
      const now = Date.now();
      const entries = await withJobHints(o.spec === undefined ? jobs : [], o, () => next({ ...o, jobs, now }));
      if (o.json) return json(entries);
      const { header, rows } = renderNext(entries, o.from === undefined ? now : null, colors);
      out(table(header, rows));
    });

  program
    .command('run')
    .description('schedule every job until SIGINT/SIGTERM (first signal drains, second aborts); SIGHUP or an edit of the jobs file reloads it')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--instance-id <id>', 'this instance\'s id in logs and locks (default: hostname:pid)', instanceId)
    .addOption(new Option('--log-format <format>', 'log lines: pretty on a terminal, json otherwise').choices(['pretty', 'json']))
    .option('--no-tui', 'plain log lines even on a terminal')
    .option('--metrics <addr>', 'serve /metrics and /healthz on host:port (overrides METRICS_ADDR)', address)
    .action(async (o: { config?: string; plugin?: string[]; allowWritableConfig?: boolean; instanceId?: string; logFormat?: 'pretty' | 'json'; tui: boolean; metrics?: string }) => {
      const { run } = await import('./commands/run.js');
      const outcome = await run(o);
      setExit({ code: outcome.forced ? signalExit(outcome.signal) : EXIT.OK });
    });

  program
    .command('status')
    .description('the fleet now: each job\'s next occurrence, last run and current holder; live instances')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--json', 'print the status as JSON')
    .option('--watch', 'refresh every 2 s: a live view on a terminal (q to quit), else the plain status again and again')
    .action(async (o: { config?: string; plugin?: string[]; json?: boolean; watch?: boolean }) => {
      const { collectStatus, renderStatus } = await import('./commands/status.js');
      const { openFleetSource } = await import('./commands/fleet-source.js');
      if (o.watch && o.json) throw new IamwatchError('USAGE', 'give either --watch or --json, not both');
      const src = await openFleetSource(o);
      try {
        if (o.watch && interactiveTerminal()) {
          const { watchStatus } = await import('../tui/status-view.js');
          await watchStatus(() => collectStatus(src));
          return;
        }
        if (o.watch) {
          const { watchStatusLines } = await import('./commands/status-lines.js');
          await watchStatusLines(async () => renderStatus(await collectStatus(src), colors, table));
          return;
        }
        const report = await collectStatus(src);
        if (o.json) json(report);
        else out(renderStatus(report, colors, table));
      } finally {
        await src.close();
      }
    });

  program
    .command('history')
    .description('run records of the fleet, newest first')
    .argument('[job]', 'only this job')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('-n, --limit <n>', 'at most this many records', positiveInt('--limit', 1_000_000), 50)
    .option('--since <time>', 'only records since an ISO-8601 time or a duration ago (90m, 1d)')
    .option('--failed', 'only runs that failed, timed out, lost their lock or were aborted')
    .option('--json', 'print a JSON array')
    .action(async (job: string | undefined, o: { config?: string; plugin?: string[]; limit: number; since?: string; failed?: boolean; json?: boolean }) => {
      const { history, renderHistory } = await import('./commands/history.js');
      const records = await withJobHints(job === undefined ? [] : [job], o, () => history({ ...o, job }));
      if (o.json) json(records);
      else out(renderHistory(records, colors, table));
    });

  program
    .command('once')
    .description('run one job now, under its running lock (exit 3 if it is running elsewhere)')
    .argument('<job>', 'job name, or watcher name when only one job uses it')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--dry-run', 'report what the run would change, change nothing')
    .option('--no-lock', 'run without the running lock (may overlap a fleet run)')
    .option('--instance-id <id>', 'instance id in logs and the lock (default: hostname:pid)', instanceId)
    .option('--metrics <addr>', 'serve /metrics and /healthz on host:port while the run lasts', address)
    .addOption(new Option('--log-format <format>', 'log lines on stderr').choices(['pretty', 'json']))
    .option('--json', 'print the result as JSON')
    .action(async (job: string, o: { config?: string; plugin?: string[]; dryRun?: boolean; lock: boolean; instanceId?: string; logFormat?: 'pretty' | 'json'; metrics?: string; json?: boolean }) => {
      const { once } = await import('./commands/once.js');
      const report = await withJobHints([job], { ...o, watchers: true }, () => once({ ...o, job, dryRun: o.dryRun ?? false }));
      if (o.json) json(report);
      else {
        const what = report.result?.summary ?? report.error ?? '';
        const line = `${report.job}: ${report.outcome} in ${report.durationMs} ms (fence ${report.fence}, ${report.attempts} attempt${report.attempts === 1 ? '' : 's'})${what ? `: ${what}` : ''}`;
        if (report.outcome === 'ok') out(colors.green(line));
        else err(errColors.red(line));
      }
      setExit({ code: exitForRun(report.outcome) });
    });

  program
    .command('trigger')
    .description('ask the fleet to run a job now: one live instance runs it like a scheduled run (exit 4 if no instance takes it)')
    .argument('<job>', 'job name')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--wait', 'wait for the run to end: print its outcome and exit like once')
    .option('--json', 'print the result as JSON')
    .action(async (job: string, o: { config?: string; plugin?: string[]; allowWritableConfig?: boolean; wait?: boolean; json?: boolean }) => {
      const { trigger, renderTrigger } = await import('./commands/trigger.js');
      let interrupted = false;
      const onSignal = (): void => {
        interrupted = true;
      };
      process.once('SIGINT', onSignal);
      try {
        const report = await withJobHints([job], o, () => trigger({ ...o, job, wait: o.wait ?? false, interrupted: () => interrupted }));
        if (o.json) json(report);
        else if (o.wait && report.outcome !== 'ok') err(renderTrigger(report, errColors, true));
        else out(renderTrigger(report, colors, o.wait ?? false));
        // Without --wait the request was taken: that is success, whatever the run does after.
        if (o.wait) setExit({ code: exitForRun(report.outcome, report.reason) });
      } finally {
        process.off('SIGINT', onSignal);
      }
    });

  program
    .command('pause')
    .description('pause jobs fleet-wide: every instance skips their occurrences (reason paused; a paused occurrence is consumed, not run later) until resumed')
    .argument('[job...]', 'the jobs to pause')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--all', 'every job in the jobs file now (jobs added to it later are not paused)')
    .option('--until <time>', 'lift the pause by itself at an ISO-8601 time or after a duration from now (30m, 2h)')
    .option('--reason <text>', 'why, shown by status, history and once')
    .option('--json', 'print the result as JSON')
    .action(async (jobs: string[], o: { config?: string; plugin?: string[]; all?: boolean; until?: string; reason?: string; json?: boolean }) => {
      const { pause, renderPause } = await import('./commands/pause.js');
      const report = await withJobHints(jobs, o, () => pause({ ...o, jobs }));
      if (o.json) json(report);
      else out(renderPause(report, colors, table));
    });

  program
    .command('resume')
    .description('lift the pause of jobs fleet-wide: their next occurrences run again')
    .argument('[job...]', 'the jobs to resume')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--all', 'every job in the jobs file')
    .option('--json', 'print the result as JSON')
    .action(async (jobs: string[], o: { config?: string; plugin?: string[]; all?: boolean; json?: boolean }) => {
      const { resume, renderResume } = await import('./commands/pause.js');
      const report = await withJobHints(jobs, o, () => resume({ ...o, jobs }));
      if (o.json) json(report);
      else out(renderResume(report, colors, table));
    });

  program
    .command('audit')
    .description('expected occurrences against what the fleet ran: every one that did not run successfully, with why (exit 1 if any)')
    .argument('[job...]', 'only these jobs')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--since <time>', 'from an ISO-8601 time or a duration ago (90m, 1d)', '1d')
    .option('--json', 'print the report as JSON')
    .action(async (jobs: string[], o: { config?: string; plugin?: string[]; since: string; json?: boolean }) => {
      const { audit, renderAudit } = await import('./commands/audit.js');
      const report = await withJobHints(jobs, o, () => audit({ ...o, jobs }));
      if (o.json) json(report);
      else out(renderAudit(report));
      if (!report.ok) setExit({ code: EXIT.FAILURE });
    });

  const db = program.command('db').description('create or check the IAM tables the built-in watchers use (DATABASE_URL)');

  db.command('init')
    .description('create the missing IAM tables (user, policy_audit, secret) and their indexes; never alters existing tables')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--demo', 'fill empty tables with demo rows so the watchers visibly do something')
    .option('--add-indexes', 'also add missing watcher indexes to tables that already exist')
    .option('--json', 'print the report as JSON')
    .action(async (o: { config?: string; plugin?: string[]; demo?: boolean; addIndexes?: boolean; json?: boolean }) => {
      const { databaseUrlFor, dbInit, renderDbInit } = await import('./commands/db.js');
      const databaseUrl = await databaseUrlFor(o, (jf) => printDiagnostics(jf.diagnostics));
      const report = await dbInit({ databaseUrl, demo: o.demo ?? false, addIndexes: o.addIndexes ?? false });
      if (o.json) json(report);
      else out(renderDbInit(report));
    });

  db.command('check')
    .description('report missing tables, columns and indexes, with the statement to add each index; exit 1 if any')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--json', 'print the report as JSON')
    .action(async (o: { config?: string; plugin?: string[]; json?: boolean }) => {
      const { databaseUrlFor, dbCheck, renderDbCheck } = await import('./commands/db.js');
      const databaseUrl = await databaseUrlFor(o, (jf) => printDiagnostics(jf.diagnostics));
      const report = await dbCheck({ databaseUrl });
      if (o.json) json(report);
      else (report.ok ? out : err)(renderDbCheck(report));
      if (!report.ok) setExit({ code: EXIT.FAILURE });
    });

  program
    .command('watchers')
    .description('list the watchers (built-in and plugins) with their options, and the options every job takes')
    .argument('[watcher]', 'only this watcher')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .option('--json', 'print the list as JSON')
    .action(async (watcher: string | undefined, o: { config?: string; plugin?: string[]; allowWritableConfig?: boolean; json?: boolean }) => {
      const { listWatchers, renderWatchers } = await import('./commands/watchers.js');
      const report = await listWatchers({ ...o, watcher });
      if (o.json) json(report);
      else out(renderWatchers(report, colors, table));
    });

  program
    .command('completion')
    .description('print a shell completion script (commands, options, their values, job names)')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('./commands/completion.js');
      out(completionScript(shell, program));
    });

  // For completion scripts: job or watcher names, one per line; nothing at all on any problem.
  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'jobs or watchers')
    .addOption(configOption())
    .addOption(pluginOption())
    .addOption(trustOption())
    .action(async (what: string, o: { config?: string; plugin?: string[]; allowWritableConfig?: boolean }) => {
      try {
        if (what === 'jobs') {
          const { jobNames } = await import('./job-names.js');
          out((await jobNames(o)).jobs.join('\n'));
        } else if (what === 'watchers') {
          const { listWatchers } = await import('./commands/watchers.js');
          out((await listWatchers(o)).watchers.map((w) => w.name).join('\n'));
        }
      } catch {
        // a completion offers nothing rather than an error in the middle of the command line
      }
    });

  program.addHelpText('after', () => `\n${examplesText(ROOT_EXAMPLES)}\n\n${environmentText()}\n`);
  describeCommands(program);
  return program;
}

/** Every command's usage line is its synopsis; its help ends with examples and the settings it reads. */
function describeCommands(parent: Command, path: string[] = []): void {
  for (const cmd of parent.commands) {
    const at = [...path, cmd.name()];
    if (cmd.commands.length === 0) cmd.usage(synopsis(cmd));
    cmd.addHelpText('after', () => helpAfter(at.join(' ')));
    describeCommands(cmd, at);
  }
}

function reportError(e: unknown): number {
  // InvalidArgumentError extends CommanderError: thrown from an action, nobody has printed it yet.
  if (e instanceof InvalidArgumentError) {
    err(errColors.red(`iamwatch: ${e.message}`));
    return EXIT.USAGE;
  }
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  if (isIamwatchError(e)) {
    err(errColors.red(`iamwatch: ${e.message}`));
    return exitCodeFor(e.code);
  }
  err(`iamwatch: internal error; please report it with the output below.\n${errorStack(e)}`);
  return EXIT.INTERNAL;
}

async function main(argv: string[]): Promise<Exit> {
  let exit: Exit = { code: EXIT.OK };
  const program = buildProgram((e) => (exit = e));
  try {
    await program.parseAsync(argv);
  } catch (e) {
    return { code: reportError(e) };
  }
  return exit;
}

// Every command has closed what it opened by the time it returns or throws. Once its output has
// reached the pipe or file, exit, so no reconnecting client or lingering timer can keep a finished
// command alive.
ignoreClosedPipes();
const exit = await main(process.argv);
await runExitHooks();
await flushOutput();
// A bug found while the command was ending (see process-guard.ts) still says so in the exit code.
process.exit(process.exitCode === 70 ? 70 : exit.code);
