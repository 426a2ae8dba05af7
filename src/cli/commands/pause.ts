/**
 * `iamwatch pause JOB...|--all` and `iamwatch resume JOB...|--all`: stop jobs fleet-wide and let
 * them run again. A pause is written to the coordination store and enforced where occurrences
 * are claimed, so it holds on every instance from the moment it is written: a paused cron or rate
 * occurrence is consumed (recorded as skipped, reason `paused`, never run later), an interval job
 * records one `paused` skip per attempt, and `once` refuses. `--until` lifts it by itself.
 * `--all` means the jobs of the jobs file now: jobs added to it later are not paused.
 * Each command is a plain function returning data; the renderers are apart.
 */
import { IamwatchError } from '../../base/errors.js';
import type { Pause } from '../../coordination/store.js';
import { presentPause, type PauseStatus } from '../../observe/fleet-report.js';
import { DurationSyntaxError, parseDuration } from '../../schedule/duration.js';
import { parseTimeInput, resolveTimeInput } from '../../schedule/iso.js';
import { withFleetSource, type FleetSource } from './fleet-source.js';
import { whoAmI } from '../who.js';

/** The longest --reason kept: it is shown in status lines and skip records. */
export const MAX_REASON_LENGTH = 500;

export interface PauseTargets {
  config?: string;
  plugin?: string[];
  allowWritableConfig?: boolean;
  jobs: string[];
  all?: boolean;
}

export interface PauseOptions extends PauseTargets {
  until?: string;
  reason?: string;
  /** Who pauses: default user@host. */
  by?: string;
  now?: number;
}

export interface PausedJob extends PauseStatus {
  job: string;
}

export interface PauseReport {
  /** The store the pause was written to, for people. */
  store: string;
  paused: PausedJob[];
  /** --all: jobs added to the jobs file later are not paused. */
  all: boolean;
}

export interface ResumeReport {
  store: string;
  /** The jobs that were paused, with the pause that was lifted. */
  resumed: PausedJob[];
  /** Named (or in the file, with --all) but not paused. */
  notPaused: string[];
}


/** `--until`: an ISO-8601 time (wall times in this machine's zone) or a duration from now (`90m`, `2h`); in the future. */
export function parseUntil(text: string, now: number): number {
  const input = parseTimeInput(text);
  let until: number;
  if (input) until = resolveTimeInput(input, Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  else {
    try {
      until = now + parseDuration(text);
    } catch (err) {
      if (!(err instanceof DurationSyntaxError)) throw err;
      throw new IamwatchError('USAGE', `--until: "${text}" is neither an ISO-8601 time (2026-03-08T14:00Z) nor a duration from now (30m, 2h)`);
    }
  }
  if (until <= now) throw new IamwatchError('USAGE', `--until: ${new Date(until).toISOString()} is not in the future; give a later time or a duration from now (30m, 2h)`);
  return until;
}

/** The jobs named, or every job of the file with --all; unknown names are a usage error listing the jobs. */
export function targetJobs(src: FleetSource, o: PauseTargets, command: 'pause' | 'resume'): string[] {
  const known = src.jobsFile.jobs.map((j) => j.name);
  if (o.all && o.jobs.length > 0) throw new IamwatchError('USAGE', `give either job names or --all, not both (iamwatch ${command} --all, or iamwatch ${command} JOB...)`);
  if (o.all) {
    if (known.length === 0) throw new IamwatchError('USAGE', `${src.jobsFile.file} has no jobs`);
    return known;
  }
  if (o.jobs.length === 0) throw new IamwatchError('USAGE', `name the jobs to ${command}, or give --all (jobs: ${known.join(', ') || 'none'})`);
  const unknown = [...new Set(o.jobs.filter((j) => !known.includes(j)))];
  if (unknown.length > 0) {
    const what = unknown.length === 1 ? `no job "${unknown[0]}"` : `no jobs ${unknown.map((j) => `"${j}"`).join(', ')}`;
    throw new IamwatchError('USAGE', `${what} in ${src.jobsFile.file} (jobs: ${known.join(', ') || 'none'})`);
  }
  return [...new Set(o.jobs)];
}

const listed = (jobs: readonly string[], pauses: ReadonlyMap<string, Pause>): PausedJob[] =>
  jobs.flatMap((job) => {
    const p = pauses.get(job);
    return p ? [{ job, ...presentPause(p) }] : [];
  });

/** Store failures name what was being done; the pause may have been written without an answer. */
async function storeCall<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof IamwatchError && err.code === 'UNAVAILABLE') {
      throw new IamwatchError('UNAVAILABLE', `cannot ${what}: ${err.message}; it may or may not have taken effect: check with \`iamwatch status\` and try again`, err.details);
    }
    throw err;
  }
}

export async function pauseJobs(src: FleetSource, o: PauseOptions): Promise<PauseReport> {
  const now = o.now ?? Date.now();
  const jobs = targetJobs(src, o, 'pause');
  const until = o.until === undefined ? null : parseUntil(o.until, now);
  const reason = o.reason?.trim() || null;
  if (reason !== null && reason.length > MAX_REASON_LENGTH) throw new IamwatchError('USAGE', `--reason: at most ${MAX_REASON_LENGTH} characters (${reason.length} given)`);
  const pauses = await storeCall(`pause ${jobs.join(', ')}`, () => src.store.pause(jobs, { by: o.by ?? whoAmI(), until, reason }));
  return { store: src.store.description.label, paused: listed(jobs, pauses), all: o.all ?? false };
}

export async function resumeJobs(src: FleetSource, o: PauseTargets): Promise<ResumeReport> {
  const jobs = targetJobs(src, o, 'resume');
  const lifted = await storeCall(`resume ${jobs.join(', ')}`, () => src.store.resume(jobs));
  return { store: src.store.description.label, resumed: listed(jobs, lifted), notPaused: jobs.filter((j) => !lifted.has(j)) };
}

export const pause = (o: PauseOptions): Promise<PauseReport> => withFleetSource(o, (src) => pauseJobs(src, o));
export const resume = (o: PauseTargets): Promise<ResumeReport> => withFleetSource(o, (src) => resumeJobs(src, o));

type Paint = { green(s: string): string; yellow(s: string): string; dim(s: string): string };
type Table = (header: string[], rows: string[][]) => string;

const rows = (jobs: readonly PausedJob[]): string[][] => jobs.map((p) => [p.job, p.by, p.at, p.until ?? 'until resumed', p.reason ?? '']);

export function renderPause(r: PauseReport, c: Paint, table: Table): string {
  const n = r.paused.length;
  const lines = [
    c.yellow(`paused ${n} job${n === 1 ? '' : 's'} fleet-wide`) + c.dim(` (${r.store})`),
    table(['JOB', 'BY', 'SINCE', 'UNTIL', 'REASON'], rows(r.paused)),
    c.dim('Their occurrences are skipped (reason paused) and not run later; runs already started finish. `iamwatch resume JOB` lifts a pause.'),
  ];
  if (r.all) lines.push(c.dim('--all paused the jobs in the jobs file now: jobs added to it later are not paused.'));
  return lines.join('\n');
}

export function renderResume(r: ResumeReport, c: Paint, table: Table): string {
  const lines: string[] = [];
  const n = r.resumed.length;
  if (n > 0) {
    lines.push(c.green(`resumed ${n} job${n === 1 ? '' : 's'}`) + c.dim(` (${r.store}); the pauses lifted:`));
    lines.push(table(['JOB', 'BY', 'SINCE', 'UNTIL', 'REASON'], rows(r.resumed)));
  }
  if (r.notPaused.length > 0) lines.push(c.dim(`not paused: ${r.notPaused.join(', ')}`));
  return lines.join('\n');
}
