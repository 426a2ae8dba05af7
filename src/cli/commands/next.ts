/**
 * `iamwatch next`: the coming starts of each job, or of an ad-hoc --spec. Starts are the real ones:
 * a job's `jitter=` offset included, `H` hashed from its name (for --spec: from `name`, default
 * "spec", as for a job of that name).
 */
import { IamwatchError } from '../../base/errors.js';
import { didYouMean } from '../../base/suggest.js';
import { formatDuration } from '../../schedule/duration.js';
import { nextStart, type JobSpec, type Mode } from '../../jobsfile/job.js';
import { SpecSyntaxError } from '../../schedule/cron-spec.js';
import { formatInstant, parseTimeInput, resolveTimeInput, type TimeInput } from '../../schedule/iso.js';
import { cronSchedule, parseScheduleExpr, rateSchedule, type ScheduleExpr } from '../../schedule/schedule.js';
import { canonicalZone, isValidZone, zoneNames } from '../../schedule/zone.js';
import { configFrom, loadValidJobsFile } from '../load.js';
import { printDiagnostics } from '../output.js';

export interface NextEntry {
  job: string | null;
  watcher: string | null;
  mode: Mode | null;
  schedule: string;
  tz: string;
  /** The coming starts, ISO-8601 with the numeric offset of `tz`. */
  next: string[];
  /** For interval jobs, whose next start depends on when the previous run ends, and for jittered jobs; else null. */
  note: string | null;
}

export interface NextOptions {
  config?: string;
  plugin?: string[];
  count: number;
  from?: string;
  spec?: string;
  tz?: string;
  /** The job name `H` in --spec hashes (default "spec"). */
  name?: string;
  jobs: string[];
  now: number;
}

function fromInput(text: string | undefined): TimeInput | null {
  if (text === undefined) return null;
  const input = parseTimeInput(text);
  if (!input) throw new IamwatchError('USAGE', `--from: "${text}" is not an ISO-8601 time (examples: 2026-03-08T01:30, 2026-03-08T06:30:00Z, 2026-03-08T01:30-05:00)`);
  return input;
}

/** The seed and jitter of a job (a --spec has no jitter). */
type Jitter = Pick<JobSpec, 'name' | 'jitterMs'>;

/**
 * Starts strictly after `from`: each occurrence's time plus its jitter offset. Interval schedules
 * assume the previous run ends at `from`, and show the earliest starts (their offset depends on
 * the generation, which the claim assigns).
 */
function upcoming(expr: ScheduleExpr, mode: Mode, tz: string, from: number, count: number, jitter: Jitter): string[] {
  const out: string[] = [];
  if (expr.kind === 'every' && mode === 'interval') {
    for (let i = 1; i <= count; i++) out.push(formatInstant(from + i * expr.everyMs, tz));
    return out;
  }
  const schedule = expr.kind === 'cron' ? cronSchedule(expr, tz) : rateSchedule(expr);
  for (let s = nextStart(jitter, schedule, from); s !== null && out.length < count; s = nextStart(jitter, schedule, s.startAt)) out.push(formatInstant(s.startAt, tz));
  return out;
}

function noteOf(j: JobSpec): string | null {
  const notes: string[] = [];
  if (j.mode === 'interval') notes.push('assuming the previous run ends at the start time; each later start assumes an instant run');
  if (j.jitterMs > 0) {
    notes.push(j.mode === 'interval'
      ? `jitter=${formatDuration(j.jitterMs)} delays each start by up to that much more, by an offset from the generation the claim assigns`
      : `jitter=${formatDuration(j.jitterMs)}: each time is its occurrence plus an offset from the job name and the occurrence, the same on every instance`);
  }
  return notes.length > 0 ? notes.join('; ') : null;
}

export async function next(opts: NextOptions): Promise<NextEntry[]> {
  const from = fromInput(opts.from);
  const fromIn = (tz: string): number => (from ? resolveTimeInput(from, tz) : opts.now);
  if (opts.spec !== undefined) {
    const tz = opts.tz ?? 'UTC';
    if (!isValidZone(tz)) {
      const hint = didYouMean(tz, zoneNames());
      throw new IamwatchError('USAGE', `--tz: unknown time zone "${tz}" (expected an IANA name such as Europe/London or UTC)${hint ? `; ${hint}` : ''}`);
    }
    const seed = opts.name ?? 'spec';
    let expr: ScheduleExpr;
    try {
      expr = parseScheduleExpr(opts.spec, seed);
    } catch (e) {
      if (!(e instanceof SpecSyntaxError)) throw e;
      throw new IamwatchError('USAGE', `--spec "${opts.spec}": ${e.message}`);
    }
    const zone = canonicalZone(tz);
    const next = upcoming(expr, expr.kind === 'every' ? 'rate' : 'cron', zone, fromIn(zone), opts.count, { name: seed, jitterMs: 0 });
    return [{ job: null, watcher: null, mode: null, schedule: expr.source, tz: zone, next, note: null }];
  }
  const { jobsFile } = await loadValidJobsFile({ ...configFrom(opts), now: opts.now }, (jf) => printDiagnostics(jf.diagnostics));
  let jobs: JobSpec[] = jobsFile.jobs;
  if (opts.jobs.length > 0) {
    const unknown = opts.jobs.filter((name) => !jobs.some((j) => j.name === name));
    if (unknown.length > 0) throw new IamwatchError('USAGE', `unknown job${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (jobs in ${jobsFile.file}: ${jobs.map((j) => j.name).join(', ') || 'none'})`);
    jobs = opts.jobs.map((name) => jobs.find((j) => j.name === name)!);
  }
  return jobs.map((j) => ({
    job: j.name,
    watcher: j.watcher,
    mode: j.mode,
    schedule: j.schedule.source,
    tz: j.tz,
    next: upcoming(j.schedule, j.mode, j.tz, fromIn(j.tz), opts.count, j),
    note: noteOf(j),
  }));
}

/** Human rendering: one row per occurrence, the job's columns on its first row only. */
export function renderNext(entries: NextEntry[], now: number | null, style: { dim(s: string): string; cyan(s: string): string }): { header: string[]; rows: string[][] } {
  const rows: string[][] = [];
  for (const e of entries) {
    const first = [e.job ?? '-', e.watcher ?? '-', e.mode ?? '-', e.schedule, e.tz];
    if (e.next.length === 0) rows.push([...first, style.dim('never')]);
    e.next.forEach((iso, i) => {
      const inText = now === null ? '' : `  ${style.dim(`in ${roughDuration(Date.parse(iso) - now)}`)}`;
      rows.push([...(i === 0 ? first.map((c, k) => (k === 0 ? style.cyan(c) : c)) : first.map(() => '')), iso + inText]);
    });
    if (e.note) rows.push([...first.map(() => ''), style.dim(`(${e.note})`)]);
  }
  return { header: ['JOB', 'WATCHER', 'MODE', 'SCHEDULE', 'TZ', 'NEXT'], rows };
}

/** "2d 3h", "4m 10s", "0s": two most significant units. */
export function roughDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}
