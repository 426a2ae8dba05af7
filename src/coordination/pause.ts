/**
 * How a pause (`iamwatch pause`, store.ts Pause) is told to people: in skip records and log
 * lines, in `once`'s refusal, and in the pause/resume commands' output. Times are ISO-8601 UTC.
 */
import type { Pause } from './store.js';

const iso = (t: number): string => new Date(t).toISOString();

/** "by alice@host1 since 2026-03-08T06:30:00.000Z until 2026-03-08T08:00:00.000Z: db migration" */
export function pauseSummary(p: Pause): string {
  return `by ${p.by} since ${iso(p.at)}${p.until === null ? '' : ` until ${iso(p.until)}`}${p.reason ? `: ${p.reason}` : ''}`;
}

/** `once`'s refusal of a paused job: who paused it, since when, why, and how to lift it. */
export function pausedRefusal(job: string, p: Pause): string {
  const until = p.until === null ? 'until resumed' : `until ${iso(p.until)}`;
  const why = p.reason ? `, reason: ${p.reason}` : ', no reason given';
  return `job ${job} is paused (by ${p.by} since ${iso(p.at)}, ${until}${why}); not running it. \`iamwatch resume ${job}\` lifts the pause`;
}
