/**
 * `iamwatch audit [JOB...] [--since TIME|DURATION]`: what should have run against what did. For
 * cron and rate jobs every expected occurrence since --since (default 1 day) is looked up in the
 * fleet's run history: it ran (ok), failed (failed, timeout, lock-lost, aborted), was skipped
 * (overlap, paused, redis-unavailable, redis-slow, overloaded, clock-skew, late) or left no trace
 * at all (not-run: no instance claimed it, most often because none was up). Interval jobs have no
 * fixed times: their failed and skipped runs are listed, and gaps between starts longer than
 * twice the interval. The history is bounded (HISTORY_LIMIT, HISTORY_MAX_AGE): what lies before
 * its oldest record is reported as not covered, never as missed.
 */
import { IamwatchError } from '../../base/errors.js';
import type { RunRecord } from '../../coordination/records.js';
import type { JobSpec } from '../../jobsfile/job.js';
import { cronSchedule, rateSchedule } from '../../schedule/schedule.js';
import { formatDuration } from '../../schedule/duration.js';
import { withFleetSource, type FleetSource } from './fleet-source.js';
import { parseSince } from './history.js';

/** Occurrences this recent may be claimed but not yet recorded: not judged yet (running ones never are). */
const SETTLE_MS = 2_000;
/** Expected occurrences examined per job, at most (an every-second job has 86,400 a day). */
const MAX_EXPECTED = 200_000;

export interface AuditMiss {
  /** The occurrence as history shows it: its nominal time (ISO-8601), or `gen:N` / the start for interval jobs. */
  occurrence: string;
  status: 'failed' | 'skipped' | 'not-run' | 'gap';
  /** The outcome (failed runs), the skip reason, `not-run`, or `gap`. */
  reason: string;
  detail: string | null;
  instance: string | null;
}

export interface AuditJob {
  job: string;
  mode: JobSpec['mode'];
  /** Occurrences expected in the audited window (null for interval jobs). */
  expected: number | null;
  ok: number;
  missed: AuditMiss[];
  /** The window judged: from --since, or from the oldest retained record when history is shorter. */
  from: string;
  to: string;
  note: string | null;
}

export interface AuditReport {
  file: string;
  now: string;
  since: string;
  /** True when no job missed anything in its window. */
  ok: boolean;
  jobs: AuditJob[];
}

const iso = (t: number): string => new Date(t).toISOString();

function classify(records: RunRecord[]): Omit<AuditMiss, 'occurrence'> | 'ok' {
  if (records.some((r) => r.outcome === 'ok')) return 'ok';
  const failed = records.find((r) => r.outcome !== 'skipped');
  if (failed) return { status: 'failed', reason: failed.outcome, detail: failed.error ?? null, instance: failed.instance };
  // Several instances may each record why they skipped it; a decision (overlap, paused) explains it best.
  const skips = records.filter((r) => r.outcome === 'skipped');
  const best = skips.find((r) => r.reason === 'overlap' || r.reason === 'paused') ?? skips[0]!;
  return { status: 'skipped', reason: best.reason ?? 'skipped', detail: best.error ?? null, instance: best.instance };
}

async function auditJob(src: FleetSource, job: JobSpec, since: number, now: number): Promise<AuditJob> {
  const limit = src.jobsFile.settings.historyLimit;
  const records = (await src.fleet.history(job.name, limit)).filter((r) => !r.manual);
  const to = now - SETTLE_MS;
  // A full history may have dropped what came before its oldest record: audit only what it covers.
  const oldest = records.length > 0 ? Math.min(...records.map((r) => Date.parse(r.nominal))) : null;
  const covered = records.length >= limit && oldest !== null && oldest > since;
  const from = covered ? oldest! : since;
  const note = covered ? `the history keeps ${limit} records (HISTORY_LIMIT): only occurrences since ${iso(from)} are judged` : null;
  const missed: AuditMiss[] = [];
  let ok = 0;
  if (job.mode === 'interval') {
    const runs = records.filter((r) => r.outcome !== 'skipped' && r.startedAt !== null && Date.parse(r.startedAt) >= from).sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
    const everyMs = job.schedule.kind === 'every' ? job.schedule.everyMs : 0;
    for (const r of records) {
      if (r.at < from) continue;
      const c = classify([r]);
      if (c === 'ok') ok++;
      else missed.push({ occurrence: r.occurrence, ...c });
    }
    for (let i = 1; i < runs.length; i++) {
      const prev = runs[i - 1]!;
      const gap = Date.parse(runs[i]!.startedAt!) - Date.parse(prev.startedAt!);
      if (gap > 2 * everyMs + (prev.durationMs ?? 0)) {
        missed.push({ occurrence: runs[i]!.occurrence, status: 'gap', reason: 'gap', detail: `${formatDuration(gap)} since the previous start (interval ${formatDuration(everyMs)})`, instance: null });
      }
    }
    return { job: job.name, mode: job.mode, expected: null, ok, missed, from: iso(from), to: iso(to), note };
  }
  const byOccurrence = new Map<string, RunRecord[]>();
  for (const r of records) {
    const list = byOccurrence.get(r.occurrence);
    if (list) list.push(r);
    else byOccurrence.set(r.occurrence, [r]);
  }
  const running = new Set((await src.store.running(job.name)).map((h) => h.occurrence));
  const schedule = job.schedule.kind === 'cron' ? cronSchedule(job.schedule, job.tz) : rateSchedule(job.schedule);
  let expected = 0;
  for (let t = schedule.next(from - 1); t !== null && t < to && expected < MAX_EXPECTED; t = schedule.next(t)) {
    expected++;
    if (running.has(t)) continue;
    const label = iso(t);
    const seen = byOccurrence.get(label);
    if (!seen) {
      missed.push({ occurrence: label, status: 'not-run', reason: 'not-run', detail: 'no instance claimed it (was any instance up?)', instance: null });
      continue;
    }
    const c = classify(seen);
    if (c === 'ok') ok++;
    else missed.push({ occurrence: label, ...c });
  }
  const capped = expected >= MAX_EXPECTED ? `only the first ${MAX_EXPECTED} occurrences of the window are judged` : null;
  return { job: job.name, mode: job.mode, expected, ok, missed, from: iso(from), to: iso(to), note: [note, capped].filter(Boolean).join('; ') || null };
}

export async function collectAudit(src: FleetSource, o: { jobs: string[]; since?: string; now?: number }): Promise<AuditReport> {
  const now = o.now ?? Date.now();
  const since = parseSince(o.since ?? '1d', now);
  const jobs = o.jobs.length > 0 ? o.jobs.map((name) => src.jobsFile.jobs.find((j) => j.name === name)!) : src.jobsFile.jobs;
  const audited = await Promise.all(jobs.map((j) => auditJob(src, j, since, now)));
  return { file: src.jobsFile.file, now: iso(now), since: iso(since), ok: audited.every((j) => j.missed.length === 0), jobs: audited };
}

/** Text: one line per job, then its misses, consecutive ones with the same reason folded into a range. */
export function renderAudit(r: AuditReport): string {
  const out: string[] = [];
  for (const j of r.jobs) {
    const counted = j.expected === null ? `${j.ok} ok runs` : `${j.ok} of ${j.expected} expected ran ok`;
    out.push(`${j.job} (${j.mode}): ${counted}, ${j.missed.length} missed, ${j.from} to ${j.to}${j.note ? ` (${j.note})` : ''}`);
    for (let i = 0; i < j.missed.length; ) {
      const m = j.missed[i]!;
      let k = i + 1;
      while (k < j.missed.length && j.missed[k]!.reason === m.reason && j.missed[k]!.status === m.status) k++;
      const span = k - i > 1 ? `${m.occurrence} .. ${j.missed[k - 1]!.occurrence} (${k - i})` : m.occurrence;
      out.push(`  ${span}  ${m.status === 'skipped' ? `skipped: ${m.reason}` : m.reason}${m.instance ? ` on ${m.instance}` : ''}${m.detail ? `  ${m.detail}` : ''}`);
      i = k;
    }
  }
  out.push(r.ok ? 'audit: every expected occurrence ran' : 'audit: some occurrences did not run successfully');
  return out.join('\n');
}

export async function audit(o: { config?: string; plugin?: string[]; allowWritableConfig?: boolean; jobs: string[]; since?: string }): Promise<AuditReport> {
  return withFleetSource(o, async (src) => {
    const names = new Set(src.jobsFile.jobs.map((j) => j.name));
    const unknown = o.jobs.filter((j) => !names.has(j));
    if (unknown.length > 0) throw new IamwatchError('USAGE', `unknown job${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (jobs in ${src.jobsFile.file}: ${[...names].join(', ') || 'none'})`);
    return collectAudit(src, o);
  });
}
