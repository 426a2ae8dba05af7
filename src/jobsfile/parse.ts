/**
 * The jobs-file parser: `SCHEDULE MODE WATCHER [key=value ...]` lines, crontab variable lines,
 * blank lines and `#` comments. It reports every problem it finds with line and column, and
 * warnings for legal lines that probably don't do what was meant. Pure: the environment, the
 * watcher catalog and `now` (for DST warnings) are passed in.
 */
import { didYouMean, suggest } from '../base/suggest.js';
import { formatDuration } from '../schedule/duration.js';
import { nextWall } from '../schedule/cron-next.js';
import { SpecSyntaxError } from '../schedule/cron-spec.js';
import { formatInstant } from '../schedule/iso.js';
import { parseScheduleExpr, cronSchedule, previousOccurrence, type ScheduleExpr } from '../schedule/schedule.js';
import { canonicalZone, isValidZone, nextTransition, zoneNames } from '../schedule/zone.js';
import { COMMON_OPTIONS } from './job-options.js';
import { hasErrors, MODES, type Diagnostic, type JobSpec, type JobsFile, type Mode, type WatcherCatalog } from './job.js';
import { coerceOption, type OptionDecl, type OptionValue } from './options.js';
import { checkEnvironmentSettings, checkSetting, isSetting, resolveSettings, settingProblem } from './settings.js';
import { expandText, tokenizeLine, type Token } from './tokenize.js';

export interface ParseInput {
  text: string;
  file: string;
  env: Record<string, string | undefined>;
  watchers: WatcherCatalog;
  /** Used only for warnings about the coming year (DST gaps). */
  now: number;
}

const VARIABLE_LINE = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*)=(\s*)(.*?)\s*$/;
const DAY = 86_400_000;

/** `; did you mean "X"?` when a known name is close to `input`, else ''. */
const hint = (input: string, candidates: Iterable<string>): string => {
  const text = didYouMean(input, candidates);
  return text ? `; ${text}` : '';
};

const unknownZone = (zone: string): string => `unknown time zone "${zone}" (expected an IANA name such as Europe/London or UTC)${hint(zone, zoneNames())}`;

export function parseJobsFile(input: ParseInput): JobsFile {
  const { file, env, watchers, now } = input;
  const diagnostics: Diagnostic[] = [];
  const variables: Record<string, string> = {};
  const jobs: JobSpec[] = [];
  const firstLineOfJob = new Map<string, number>();
  let defaultTz = 'UTC';
  const lookup = (name: string): string | undefined => variables[name] ?? env[name];

  // Any line ending: \n, \r\n, or a lone \r (old Mac editors).
  input.text.split(/\r\n|\r|\n/).forEach((line, index) => {
    const lineNo = index + 1;
    const report = (col: number, severity: Diagnostic['severity'], message: string): void => {
      diagnostics.push({ file, line: lineNo, col, severity, message });
    };
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;

    const variable = VARIABLE_LINE.exec(line);
    if (variable) {
      const [, lead, name, space1, space2, rawValue] = variable as unknown as [string, string, string, string, string, string];
      const valueCol = lead.length + name.length + space1.length + 1 + space2.length + 1;
      const value = variableValue(rawValue, lookup, (col, message) => report(valueCol + col - 1, 'error', message));
      if (value === undefined) return;
      if (name === 'CRON_TZ') {
        if (!isValidZone(value)) return report(valueCol, 'error', unknownZone(value));
        defaultTz = canonicalZone(value);
      } else if (isSetting(name) && value !== '') {
        const problem = checkSetting(name, value);
        if (problem) return report(valueCol, 'error', settingProblem(name, 'jobs file', problem));
      }
      variables[name] = value;
      return;
    }

    const { tokens, problems } = tokenizeLine(line, lookup);
    for (const p of problems) report(p.col, 'error', p.message);
    if (problems.length > 0) return;
    const job = parseJobLine(tokens, {
      report,
      watchers,
      defaultTz,
      now,
      env: { ...variables },
      lineNo,
      lineEndCol: line.length + 1,
    });
    if (!job) return;
    const first = firstLineOfJob.get(job.name);
    if (first !== undefined) {
      report(job.col, 'error', `duplicate job name "${job.name}" (first defined on line ${first}); give one of them name=...`);
      return;
    }
    firstLineOfJob.set(job.name, lineNo);
    jobs.push(job);
  });

  // Settings the file leaves to the environment are checked too: a bad value there must stop a run
  // just as one in the file does. They have no line: line and column 0.
  for (const p of checkEnvironmentSettings(variables, env)) diagnostics.push({ file, line: 0, col: 0, severity: 'error', message: p.message });
  if (jobs.length === 0 && !hasErrors(diagnostics)) {
    diagnostics.push({ file, line: 1, col: 1, severity: 'warning', message: 'no jobs: the file has no job lines (SCHEDULE MODE WATCHER [key=value ...]), so nothing would run' });
  }
  return { file, jobs, variables, diagnostics, settings: resolveSettings(variables, env) };
}

function variableValue(raw: string, lookup: (name: string) => string | undefined, report: (col: number, message: string) => void): string | undefined {
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  if (quoted?.[1] === "'") return quoted[2];
  const { text, problems } = expandText(quoted ? quoted[2]! : raw, lookup);
  for (const p of problems) report(quoted ? p.col + 1 : p.col, p.message);
  return problems.length > 0 ? undefined : text;
}

interface LineContext {
  report: (col: number, severity: Diagnostic['severity'], message: string) => void;
  watchers: WatcherCatalog;
  defaultTz: string;
  now: number;
  env: Record<string, string>;
  lineNo: number;
  lineEndCol: number;
}

/** What a cron field may contain once its names (JAN, MON) and letters (L, W, H) are taken out. */
const CRON_WORDS = /JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT|[LWH]/gi;
const cronFieldLike = (text: string): boolean => /^[\d*?,/#()-]*$/.test(text.replace(CRON_WORDS, ''));

/** A misspelled mode (`crn`, `Rate`) that can't be a cron field: it ends the schedule, so the mode error can say what was meant. */
const nearMode = (text: string): boolean => !cronFieldLike(text) && suggest(text, MODES, 1).length > 0;

/** How many leading tokens are the schedule: up to the mode, or up to what is plainly not a cron field. */
function scheduleTokenCount(tokens: Token[], watchers: WatcherCatalog): number {
  const first = tokens[0]!.text.toLowerCase();
  if (first === '@every') return 2;
  if (first.startsWith('@')) return 1;
  const endsSchedule = (t: Token): boolean => (MODES as readonly string[]).includes(t.text) || watchers.get(t.text) !== undefined || t.text.includes('=') || nearMode(t.text);
  let n = 0;
  while (n < tokens.length && n < 6 && !endsSchedule(tokens[n]!)) n++;
  return n;
}

function parseJobLine(tokens: Token[], ctx: LineContext): JobSpec | undefined {
  const { report } = ctx;
  const k = scheduleTokenCount(tokens, ctx.watchers);
  const modeToken = tokens[k];
  const scheduleTokens = tokens.slice(0, k);

  // Schedule: parse the tokens joined by single spaces, and map error positions back to columns.
  const scheduleText = scheduleTokens.map((t) => t.text).join(' ');
  const columnAt = (index: number): number => {
    let start = 0;
    for (const t of scheduleTokens) {
      if (index < start + t.text.length + 1) return t.col + Math.min(index - start, t.raw.length - 1);
      start += t.text.length + 1;
    }
    return tokens[0]!.col;
  };
  // `H` hashes the job's name, which comes later on the line: name=, else the watcher's name.
  const nameOption = tokens.slice(k + 2).find((t) => t.text.startsWith('name='));
  const seed = nameOption ? nameOption.text.slice('name='.length) : (tokens[k + 1]?.text ?? '');
  let schedule: ScheduleExpr | undefined;
  try {
    schedule = parseScheduleExpr(scheduleText, seed);
  } catch (err) {
    if (!(err instanceof SpecSyntaxError)) throw err;
    report(columnAt(err.index), 'error', err.message);
  }

  if (!modeToken || !(MODES as readonly string[]).includes(modeToken.text)) {
    const at = modeToken?.col ?? ctx.lineEndCol;
    report(at, 'error', modeToken
      ? `expected a mode (cron, interval or rate) after the schedule, got "${modeToken.text}"${hint(modeToken.text, MODES)}`
      : 'expected a mode (cron, interval or rate) after the schedule');
    return undefined;
  }
  const mode = modeToken.text as Mode;
  if (schedule) {
    if (mode === 'cron' && schedule.kind === 'every') {
      report(tokens[0]!.col, 'error', '@every goes with mode rate (a fixed period between starts) or interval (a fixed delay after the previous run ends), not cron');
      schedule = undefined;
    } else if (mode !== 'cron' && schedule.kind === 'cron') {
      report(tokens[0]!.col, 'error', `mode ${mode} takes @every DURATION; a cron expression or descriptor goes with mode cron`);
      schedule = undefined;
    }
  }

  const watcherToken = tokens[k + 1];
  if (!watcherToken) {
    report(ctx.lineEndCol, 'error', `expected a watcher name after the mode (known: ${ctx.watchers.names().join(', ')})`);
    return undefined;
  }
  const watcher = ctx.watchers.get(watcherToken.text);
  if (!watcher) report(watcherToken.col, 'error', `unknown watcher "${watcherToken.text}" (known: ${ctx.watchers.names().join(', ')})${hint(watcherToken.text, ctx.watchers.names())}`);

  // Options.
  const common: Record<string, OptionValue> = {};
  const own: Record<string, OptionValue> = {};
  const optionCol: Record<string, number> = {};
  let ok = schedule !== undefined && watcher !== undefined;
  for (const token of tokens.slice(k + 2)) {
    const eq = token.text.indexOf('=');
    if (eq <= 0) {
      report(token.col, 'error', `expected key=value, got "${token.text}"`);
      ok = false;
      continue;
    }
    const key = token.text.slice(0, eq);
    const text = token.text.slice(eq + 1);
    const isCommon = Object.hasOwn(COMMON_OPTIONS, key);
    const decl: OptionDecl | undefined = isCommon ? COMMON_OPTIONS[key as keyof typeof COMMON_OPTIONS] : watcher?.options[key];
    if (!decl) {
      if (watcher) {
        const ownNames = Object.keys(watcher.options);
        const commonNames = Object.keys(COMMON_OPTIONS);
        report(token.col, 'error', `unknown option "${key}" for watcher ${watcherToken.text} (its options: ${ownNames.length ? ownNames.join(', ') : 'none'}; common: ${commonNames.join(', ')})${hint(key, [...ownNames, ...commonNames])}`);
      }
      ok = false;
      continue;
    }
    if (Object.hasOwn(optionCol, key)) {
      report(token.col, 'error', `option "${key}" is given twice`);
      ok = false;
      continue;
    }
    optionCol[key] = token.col;
    const value = coerceOption(key, decl, text);
    if ('error' in value) {
      report(token.col + eq + 1, 'error', value.error);
      ok = false;
      continue;
    }
    (isCommon ? common : own)[key] = value.value;
  }
  if (watcher) {
    for (const [key, decl] of Object.entries(watcher.options)) {
      if (own[key] !== undefined || Object.hasOwn(optionCol, key)) continue; // given (an invalid value is reported above)
      if (decl.default !== undefined) own[key] = decl.default;
      else if (decl.required) {
        report(watcherToken.col, 'error', `watcher ${watcherToken.text} needs option ${key}= (${decl.description})`);
        ok = false;
      }
    }
  }

  let tz = ctx.defaultTz;
  if (typeof common.tz === 'string') {
    if (isValidZone(common.tz)) tz = canonicalZone(common.tz);
    else {
      report(optionCol.tz! + 3, 'error', unknownZone(common.tz));
      ok = false;
    }
  }
  if (!ok || !schedule) return undefined;

  const option = <K extends keyof typeof COMMON_OPTIONS>(key: K): OptionValue | undefined =>
    common[key] ?? (COMMON_OPTIONS[key] as OptionDecl).default;
  const job: JobSpec = {
    name: (common.name as string | undefined) ?? watcherToken.text,
    watcher: watcherToken.text,
    mode,
    schedule,
    tz,
    timeoutMs: common.timeout as number | undefined,
    overlap: option('overlap') as JobSpec['overlap'],
    misfire: option('misfire') as JobSpec['misfire'],
    retries: option('retries') as number,
    retryDelayMs: option('retry-delay') as number,
    lockTtlMs: option('lock-ttl') as number,
    jitterMs: (common.jitter as number | undefined) ?? 0,
    dryRun: option('dry-run') as boolean,
    enabled: option('enabled') as boolean,
    notify: common.notify as string | undefined,
    notifyOn: option('notify-on') as JobSpec['notifyOn'],
    ping: common.ping as string | undefined,
    pingStyle: option('ping-style') as JobSpec['pingStyle'],
    options: own,
    env: ctx.env,
    line: ctx.lineNo,
    col: tokens[0]!.col,
  };
  if (job.jitterMs > 0) {
    const gap = shortestGap(job, ctx.now);
    if (gap !== null && job.jitterMs > gap.ms) {
      const where = gap.from === null ? '' : ` (from ${formatInstant(gap.from, job.tz)})`;
      report(optionCol.jitter! + 'jitter='.length, 'error', `jitter ${formatDuration(job.jitterMs)} is longer than the ${formatDuration(gap.ms)} between two occurrences${where}; write at most jitter=${formatDuration(gap.ms)}, so each occurrence starts before the next one is due`);
      return undefined;
    }
  }
  warn(job, scheduleTokens, optionCol, ctx);
  return job;
}

/** Legal lines that probably don't do what was meant. */
function warn(job: JobSpec, scheduleTokens: Token[], optionCol: Record<string, number>, ctx: LineContext): void {
  const { report } = ctx;
  const { schedule } = job;
  if (schedule.kind === 'cron') {
    const spec = schedule.cron;
    if (spec.everySecond) {
      report(scheduleTokens[0]!.col, 'warning', 'fires every second (60 times a minute) because the seconds field is *; write 0 to fire once a minute');
    }
    if (spec.dayOr && scheduleTokens.length >= 5) {
      const domToken = scheduleTokens[scheduleTokens.length - 3]!;
      report(domToken.col, 'warning', 'day-of-month and day-of-week are both restricted, so the job runs on days matching either (cron\'s OR rule); start one of them with * to require both');
    }
    if (spec.fixedTime) {
      const gap = firstSkippedRun(job, ctx.now);
      if (gap) report(scheduleTokens[0]!.col, 'warning', gap);
    }
  } else if (optionCol.tz !== undefined) {
    report(optionCol.tz, 'warning', 'tz has no effect on @every schedules (rate occurrences are anchored at the Unix epoch)');
  }
  if (job.mode === 'interval') {
    if (optionCol.overlap !== undefined) report(optionCol.overlap, 'warning', 'overlap has no effect on interval jobs: their runs never overlap');
    if (optionCol.misfire !== undefined) report(optionCol.misfire, 'warning', 'misfire has no effect on interval jobs: after downtime the next run starts as soon as an instance is up');
  }
  if (job.timeoutMs !== undefined && job.overlap === 'skip' && job.mode !== 'interval') {
    const period = shortestGap(job, ctx.now)?.ms ?? null;
    if (period !== null && job.timeoutMs > period) {
      report(optionCol.timeout!, 'warning', `timeout ${formatDuration(job.timeoutMs)} is longer than the ${formatDuration(period)} between occurrences; with overlap=skip, occurrences that come while a run lasts are skipped`);
    }
  }
}

/** For a fixed-time cron job: a message about the first wall time it matches that a DST jump skips in the coming year. */
function firstSkippedRun(job: JobSpec, now: number): string | null {
  if (job.schedule.kind !== 'cron') return null;
  for (let t = now, tr = nextTransition(job.tz, t, 366 * DAY); tr; t = tr.at, tr = nextTransition(job.tz, t, 366 * DAY - (t - now))) {
    if (tr.to <= tr.from || tr.to - tr.from > 3 * 3_600_000) continue;
    const wall = nextWall(job.schedule.cron, tr.at + tr.from, tr.at + tr.to);
    if (wall === null) continue;
    const hhmm = (w: number): string => new Date(w).toISOString().slice(11, 16);
    const day = new Date(wall).toISOString().slice(0, 10);
    return `${hhmm(wall)} does not exist on ${day} in ${job.tz} (clocks jump from ${hhmm(tr.at + tr.from)} to ${hhmm(tr.at + tr.to)}); that day the job runs once, at ${hhmm(tr.at + tr.to)}`;
  }
  return null;
}

/**
 * The shortest time between consecutive occurrences, and the first of the two (null for @every):
 * over the next 50, and across each DST change of the coming year (a fixed-time job's gap shrinks
 * by the jump on a spring-forward day), so the answer doesn't depend on the week it is asked in.
 */
function shortestGap(job: JobSpec, now: number): { ms: number; from: number | null } | null {
  if (job.schedule.kind === 'every') return { ms: job.schedule.everyMs, from: null };
  const schedule = cronSchedule(job.schedule, job.tz);
  let shortest: { ms: number; from: number | null } | null = null;
  const walk = (first: number | null, count: number): void => {
    let prev = first;
    for (let i = 0; i < count && prev !== null; i++) {
      const next = schedule.next(prev);
      if (next === null) break;
      if (shortest === null || next - prev < shortest.ms) shortest = { ms: next - prev, from: prev };
      prev = next;
    }
  };
  walk(schedule.next(now), 50);
  for (let t = now, tr = nextTransition(job.tz, t, 366 * DAY); tr; t = tr.at, tr = nextTransition(job.tz, t, 366 * DAY - (t - now))) {
    walk(previousOccurrence(schedule, tr.at) ?? schedule.next(tr.at), 3);
  }
  return shortest;
}
