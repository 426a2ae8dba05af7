/**
 * `iamwatch history [JOB]`: run records of the fleet (or of the embedded instance), newest first,
 * filtered by --since and --failed, at most --limit. Records come from the fleet store, already
 * redacted and bounded by HISTORY_LIMIT and HISTORY_MAX_AGE.
 */
import { IamwatchError } from '../../base/errors.js';
import { isFailure, newestFirst, type RunRecord } from '../../coordination/records.js';
import { presentRecord, type PresentedRecord } from '../../observe/fleet-report.js';
import { DurationSyntaxError, formatDuration, parseDuration } from '../../schedule/duration.js';
import { parseTimeInput, resolveTimeInput } from '../../schedule/iso.js';
import { withFleetSource, type FleetSource } from './fleet-source.js';

/**
 * A record as `history` and `status` print it: `at` becomes `time` (ISO-8601: when the run ended
 * or the occurrence was skipped), and every field is present in one order. What a record lacks
 * (`reason` and `holder` outside skips, `by` outside `once` and `trigger` runs, `summary`, `error`,
 * fields older records never had) is
 * left undefined here, which `--json` prints as null (see json() in output.ts).
 */
export function completeRecord(r: RunRecord): PresentedRecord {
  const p = presentRecord(r);
  return {
    job: p.job,
    mode: p.mode,
    occurrence: p.occurrence,
    nominal: p.nominal,
    instance: p.instance,
    fence: p.fence,
    outcome: p.outcome,
    reason: p.reason,
    holder: p.holder,
    startedAt: p.startedAt,
    endedAt: p.endedAt,
    durationMs: p.durationMs,
    latenessMs: p.latenessMs,
    attempts: p.attempts,
    manual: p.manual,
    by: p.by,
    summary: p.summary,
    error: p.error,
    time: p.time,
  };
}

export interface HistoryOptions {
  config?: string;
  plugin?: string[];
  job?: string;
  limit: number;
  since?: string;
  failed?: boolean;
  now?: number;
}

/** `--since`: an ISO-8601 time (wall times in this machine's zone) or a duration back from now (`90m`, `1d`). */
export function parseSince(text: string, now: number): number {
  const input = parseTimeInput(text);
  if (input) return resolveTimeInput(input, Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  try {
    return now - parseDuration(text);
  } catch (err) {
    if (!(err instanceof DurationSyntaxError)) throw err;
    throw new IamwatchError('USAGE', `--since: "${text}" is neither an ISO-8601 time (2026-03-08T06:30Z) nor a duration back from now (90m, 1d)`);
  }
}

export async function collectHistory(src: FleetSource, o: HistoryOptions): Promise<PresentedRecord[]> {
  const now = o.now ?? Date.now();
  const since = o.since === undefined ? null : parseSince(o.since, now);
  const known = new Set([...src.jobsFile.jobs.map((j) => j.name), ...(await src.fleet.historyJobs())]);
  if (o.job !== undefined && !known.has(o.job)) {
    throw new IamwatchError('USAGE', `no job "${o.job}" in ${src.jobsFile.file} or in the run history (jobs: ${[...known].sort().join(', ') || 'none'})`);
  }
  const jobs = o.job !== undefined ? [o.job] : [...known];
  // Filters apply before the limit, so read everything retained when there are filters.
  const perJob = since !== null || o.failed ? src.jobsFile.settings.historyLimit : o.limit;
  const lists = await Promise.all(jobs.map((j) => src.fleet.history(j, perJob)));
  return lists
    .flat()
    .filter((r) => (since === null || r.at >= since) && (!o.failed || isFailure(r)))
    .sort(newestFirst)
    .slice(0, o.limit)
    .map(completeRecord);
}

export async function history(o: HistoryOptions): Promise<PresentedRecord[]> {
  return withFleetSource(o, (src) => collectHistory(src, o));
}

type Paint = { green(s: string): string; red(s: string): string; yellow(s: string): string; dim(s: string): string };

export function renderHistory(records: PresentedRecord[], c: Paint, table: (header: string[], rows: string[][]) => string): string {
  if (records.length === 0) return c.dim('no run records');
  const rows = records.map((r) => [
    r.time,
    r.job,
    r.occurrence,
    r.instance,
    r.outcome === 'ok' ? c.green('ok') : r.outcome === 'skipped' ? c.yellow(`skipped (${r.reason ?? '?'})`) : c.red(r.outcome),
    r.durationMs === null ? '' : formatDuration(r.durationMs),
    r.fence === null ? '' : String(r.fence),
    r.summary ?? r.error ?? '',
  ]);
  return table(['TIME', 'JOB', 'OCCURRENCE', 'INSTANCE', 'OUTCOME', 'TOOK', 'FENCE', 'RESULT'], rows);
}
