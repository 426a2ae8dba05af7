/**
 * A schedule answers one question: the first occurrence strictly after a given instant.
 * `cron` schedules come from cron expressions in a zone; `every` schedules (for rate and interval
 * modes) from `@every DURATION`. Rate occurrences are anchored at the Unix epoch, so every instance
 * computes the same ones without talking to the others.
 */
import { cronNext, everFires } from './cron-next.js';
import { parseCron, SpecSyntaxError, type CronSpec } from './cron-spec.js';
import { DurationSyntaxError, parseDuration } from './duration.js';

export type ScheduleExpr =
  | { kind: 'cron'; source: string; cron: CronSpec }
  | { kind: 'every'; source: string; everyMs: number };

export interface Schedule {
  readonly expr: ScheduleExpr;
  /** The first occurrence strictly after `after` (epoch ms), or null if there is none. */
  next(after: number): number | null;
}

/**
 * Parses `@every DURATION`, a @descriptor or a 5/6-field cron expression. Throws SpecSyntaxError.
 * `seed` is the job name that `H` in cron fields hashes (see cron-spec.ts).
 */
export function parseScheduleExpr(text: string, seed?: string): ScheduleExpr {
  const m = /^(\s*)@every(\s+|$)(\S*)(\s*)(.*)$/i.exec(text);
  if (m) {
    const at = m[1]!.length + 6 + m[2]!.length;
    if (m[3] === '') throw new SpecSyntaxError('@every needs a duration (examples: 90s, 1h30m, 1d)', at);
    if (m[5] !== '') throw new SpecSyntaxError(`unexpected "${m[5]}" after @every ${m[3]}`, at + m[3]!.length + m[4]!.length);
    try {
      return { kind: 'every', source: text.trim(), everyMs: parseDuration(m[3]!) };
    } catch (err) {
      if (err instanceof DurationSyntaxError) throw new SpecSyntaxError(err.message, at + err.index);
      throw err;
    }
  }
  const cron = parseCron(text, seed);
  if (!everFires(cron)) throw new SpecSyntaxError(`"${cron.source}" never fires: no date matches its day and month fields`, text.length - text.trimStart().length);
  return { kind: 'cron', source: cron.source, cron };
}

export function cronSchedule(expr: ScheduleExpr & { kind: 'cron' }, zone: string): Schedule {
  return { expr, next: (after) => cronNext(expr.cron, zone, after) };
}

/** Occurrences at k * period from the epoch. */
export function rateSchedule(expr: ScheduleExpr & { kind: 'every' }): Schedule {
  const period = expr.everyMs;
  return { expr, next: (after) => (Math.floor(after / period) + 1) * period };
}

/** The latest occurrence at or before `t`, or null if none in the past eight years. */
export function previousOccurrence(schedule: Schedule, t: number): number | null {
  for (const lookback of [60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000, 8 * 367 * 86_400_000]) {
    let latest: number | null = null;
    for (let o = schedule.next(t - lookback - 1); o !== null && o <= t; o = schedule.next(o)) latest = o;
    if (latest !== null) return latest;
  }
  return null;
}
