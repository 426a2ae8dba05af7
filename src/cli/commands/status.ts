/**
 * `iamwatch status`: the fleet as any machine sees it. Each job's next occurrence (computed from
 * its schedule; interval jobs from their last run's end), its last run (where, when, how long,
 * outcome), who holds it now (the running locks), whether it is paused (one batched read of the
 * pauses), and the live instances from their heartbeats.
 * Without REDIS_URL the same comes from the embedded store in the local state directory.
 */
import type { Heartbeat } from '../../coordination/records.js';
import { formatDuration } from '../../schedule/duration.js';
import { formatInstant } from '../../schedule/iso.js';
import { cronSchedule, rateSchedule } from '../../schedule/schedule.js';
import { nextStart } from '../../jobsfile/job.js';
import { withFleetSource, type FleetSource } from './fleet-source.js';
import { completeRecord } from './history.js';
import { configStatus, presentPause, type InstanceStatus, type JobStatus, type PauseStatus, type RunningStatus, type StatusReport } from '../../observe/fleet-report.js';

const iso = (t: number): string => new Date(t).toISOString();

/** One live instance as `status` prints it, from its heartbeat: every key present, times ISO-8601 (UTC). */
function presentInstance(h: Heartbeat, now: number): InstanceStatus {
  return {
    instance: h.instance,
    host: h.host,
    pid: h.pid,
    version: h.version,
    state: h.state,
    startedAt: iso(h.startedAt),
    lastBeat: iso(h.lastBeat),
    ageMs: Math.max(0, now - h.lastBeat),
    skewMs: h.skewMs,
    jobs: h.jobs,
    configHash: h.configHash,
    running: h.running.map((r) => ({ job: r.job, occurrence: r.occurrence, fence: r.fence, startedAt: iso(r.startedAt) })),
  };
}

/**
 * The status report: what `status --json` prints as it is, and what the text and the live view
 * render. Every key is present (a key left undefined prints as null); times are ISO-8601.
 */
export async function collectStatus(src: FleetSource, now: number = Date.now()): Promise<StatusReport> {
  const { jobsFile, store, fleet } = src;
  const { settings } = jobsFile;
  const [instances, pauses] = await Promise.all([fleet.instances(), store.pauses(jobsFile.jobs.map((j) => j.name))]);
  const presented = instances.map((h) => presentInstance(h, now));
  const jobs = await Promise.all(
    jobsFile.jobs.map(async (job): Promise<JobStatus> => {
      const [records, held] = await Promise.all([fleet.history(job.name, 50), store.running(job.name)]);
      const last = records.find((r) => r.outcome !== 'skipped') ?? null;
      const running: RunningStatus[] = held.map((h) => ({
        instance: h.instance,
        occurrence: job.mode === 'interval' && !h.manual ? `gen:${h.occurrence}` : iso(h.occurrence),
        startedAt: iso(h.startedAt),
        expiresAt: iso(h.expiresAt),
        manual: h.manual ?? false,
      }));
      let next: number | null = null;
      let nextNote: string | undefined;
      if (!job.enabled) nextNote = 'never: enabled=false';
      else if (job.mode === 'interval' && job.schedule.kind === 'every') {
        const ended = records.find((r) => r.endedAt !== null && r.outcome !== 'skipped');
        if (running.length > 0) nextNote = `${job.schedule.source} after the running one ends`;
        else if (ended?.endedAt) {
          next = Math.max(now, Date.parse(ended.endedAt) + job.schedule.everyMs);
          nextNote = `${formatDuration(job.schedule.everyMs)} after the last run ended`;
        } else nextNote = 'when an instance starts';
      } else {
        const schedule = job.schedule.kind === 'cron' ? cronSchedule(job.schedule, job.tz) : rateSchedule(job.schedule);
        next = nextStart(job, schedule, now)?.startAt ?? null;
      }
      return {
        name: job.name,
        watcher: job.watcher,
        mode: job.mode,
        schedule: job.schedule.source,
        tz: job.tz,
        enabled: job.enabled,
        next: next === null ? null : formatInstant(next, job.tz),
        // Undefined (printed as null) unless something explains `next`.
        nextNote,
        lastRun: last ? completeRecord(last) : null,
        running,
        paused: pauses.has(job.name) ? presentPause(pauses.get(job.name)!) : null,
      };
    }),
  );
  return {
    file: jobsFile.file,
    now: iso(now),
    coordination: { kind: store.description.kind, location: store.description.location, label: store.description.label, prefix: settings.redisUrl ? settings.prefix : null },
    jobs,
    instances: presented,
    config: configStatus(presented),
  };
}

export async function status(o: { config?: string; plugin?: string[] }): Promise<StatusReport> {
  return withFleetSource(o, (src) => collectStatus(src));
}

/** "3s", "2m10s", "1h5m": a short relative duration. */
export function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600) ? `${Math.floor((s % 86_400) / 3600)}h` : ''}`;
}

type Paint = { green(s: string): string; red(s: string): string; yellow(s: string): string; dim(s: string): string; bold(s: string): string };

export function outcomeText(r: { outcome: string; reason?: string }, c: Paint): string {
  if (r.outcome === 'ok') return c.green('ok');
  if (r.outcome === 'skipped') return c.yellow(`skipped (${r.reason ?? '?'})`);
  return c.red(r.outcome);
}

/** "paused by alice@host1 5m ago until 2026-03-08T08:00:00.000Z (db migration)" */
export function pauseText(p: PauseStatus, now: number): string {
  return `paused by ${p.by} ${ago(Math.max(0, now - Date.parse(p.at)))} ago ${p.until === null ? 'until resumed' : `until ${p.until}`}${p.reason ? ` (${p.reason})` : ''}`;
}

/** The text form: a jobs table, then an instances table. */
export function renderStatus(report: StatusReport, c: Paint, table: (header: string[], rows: string[][]) => string): string {
  const now = Date.parse(report.now);
  const jobRows = report.jobs.map((j) => {
    const last = j.lastRun;
    const lastText = last
      ? `${outcomeText(last, c)} ${ago(now - (last.endedAt ? Date.parse(last.endedAt) : Date.parse(last.time)))} ago on ${last.instance}${last.durationMs !== null ? ` in ${formatDuration(last.durationMs)}` : ''}${last.summary || last.error ? c.dim(`: ${last.summary ?? last.error}`) : ''}`
      : c.dim('never');
    const nextText = j.next ? `${j.next} (in ${ago(Math.max(0, Date.parse(j.next) - now))})` : c.dim(j.nextNote ?? 'none');
    const runningText = j.running.length > 0 ? c.yellow(j.running.map((r) => `running on ${r.instance} since ${ago(now - Date.parse(r.startedAt))}`).join(', ')) : j.paused ? '' : 'idle';
    const pausedText = j.paused ? c.yellow(`${pauseText(j.paused, now)}${runningText ? ', ' : ''}`) : '';
    return [j.name, j.mode, j.schedule, j.tz, nextText, pausedText + runningText, lastText];
  });
  const instRows = report.instances.map((i) => [
    i.instance,
    i.state === 'draining' ? c.yellow(i.state) : i.state,
    `${ago(i.ageMs)} ago`,
    i.skewMs === null ? '?' : `${i.skewMs} ms`,
    String(i.jobs),
    i.configHash ?? '?',
    String(i.running.length),
    `${i.host} pid ${i.pid} v${i.version}`,
  ]);
  const store = report.coordination.label;
  return [
    `${c.bold(report.file)}  ${c.dim(store)}`,
    '',
    table(['JOB', 'MODE', 'SCHEDULE', 'ZONE', 'NEXT', 'NOW', 'LAST RUN'], jobRows),
    '',
    report.instances.length > 0 ? table(['INSTANCE', 'STATE', 'HEARTBEAT', 'SKEW', 'JOBS', 'CONFIG', 'RUNNING', 'PROCESS'], instRows) : c.dim('no live instances'),
    ...(report.config.drift
      ? ['', c.yellow(`the instances run ${report.config.configurations.length} different configurations: ${report.config.configurations.map((g) => `${g.hash ?? 'unknown'} (${g.instances.join(', ')})`).join(', ')}; a reload was rejected or not yet seen, or their jobs files or environments differ`)]
      : []),
  ].join('\n');
}
