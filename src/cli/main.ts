/**
 * The iamwatch command tree, in one place. Each command is a plain async function in
 * commands/<name>.ts that returns data; this file renders it (text or --json), and this file
 * alone turns outcomes into exit codes. Command modules are imported on use, so `validate`
 * and `next` never load Redis, knex or ink.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isIamwatchError } from '../errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { colors, err, errColors, json, out, printDiagnostics, table } from './output.js';

const VERSION = '0.1.0';

function positiveInt(name: string, max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return Number(text);
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const configOption = (): Option => new Option('-c, --config <file>', 'jobs file (default: $IAMWATCH_CONFIG or ./watchers.conf)');
const pluginOption = (): Option => new Option('--plugin <path>', 'load a watcher plugin module (repeatable)').argParser(collect);

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('iamwatch')
    .description('Run periodic jobs from a crontab-style file, exactly once per occurrence across a fleet.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(errColors.red(text)) });

  program
    .command('validate')
    .description('check a jobs file; print every problem as FILE:LINE:COL and exit 1 if any is an error')
    .addOption(configOption())
    .addOption(pluginOption())
    .option('--json', 'print the report as JSON')
    .action(async (o: { config?: string; plugin?: string[]; json?: boolean }) => {
      const { validate, summary } = await import('./commands/validate.js');
      const report = await validate(o);
      if (o.json) json(report);
      else {
        printDiagnostics(report.diagnostics);
        (report.valid ? out : err)(report.valid ? colors.green(summary(report)) : errColors.red(summary(report)));
      }
      if (!report.valid) setExit(EXIT.FAILURE);
    });

  program
    .command('next')
    .description('show the next occurrences of each job (or of --spec) in its time zone')
    .argument('[job...]', 'only these jobs')
    .addOption(configOption())
    .addOption(pluginOption())
    .option('-n, --count <n>', 'occurrences per job', positiveInt('--count', 10_000), 5)
    .option('--from <time>', 'ISO-8601 start; without Z or an offset it is wall time in each job\'s zone (default: now)')
    .option('--spec <schedule>', 'an ad-hoc schedule instead of the jobs file')
    .option('--tz <zone>', 'time zone for --spec (default UTC)')
    .option('--json', 'print a JSON array')
    .action(async (jobs: string[], o: { config?: string; plugin?: string[]; count: number; from?: string; spec?: string; tz?: string; json?: boolean }) => {
      const { next, renderNext } = await import('./commands/next.js');
      if (o.tz !== undefined && o.spec === undefined) throw new InvalidArgumentError('--tz goes with --spec (jobs use their own tz= or CRON_TZ)');
      if (o.spec !== undefined && jobs.length > 0) throw new InvalidArgumentError('give either --spec or job names, not both');
      const now = Date.now();
      const entries = await next({ ...o, jobs, now });
      if (o.json) return json(entries);
      const { header, rows } = renderNext(entries, o.from === undefined ? now : null, colors);
      out(table(header, rows));
    });

  return program;
}

function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  if (e instanceof InvalidArgumentError) {
    err(errColors.red(`iamwatch: ${e.message}`));
    return EXIT.USAGE;
  }
  if (isIamwatchError(e)) {
    err(errColors.red(`iamwatch: ${e.message}`));
    return exitCodeFor(e.code);
  }
  err(`iamwatch: internal error; please report it with the output below.\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return EXIT.INTERNAL;
}

async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (e) {
    return reportError(e);
  }
  return code;
}

process.exitCode = await main(process.argv);
