/**
 * Next-occurrence math for cron expressions in a time zone, with cronie's DST rules:
 * - spring forward: a fixed-time job whose wall time was skipped runs once, at the first instant
 *   after the jump; a wildcard job has no occurrences in the gap;
 * - fall back: a fixed-time job runs in the first pass only; a wildcard job runs in both;
 * - offset changes of more than 3 hours are not compensated.
 * Pure: `after` is passed in, nothing reads the clock.
 */
import type { CronSpec } from './cron-spec.js';
import { nextTransition, offsetAt, previousTransition } from './zone.js';

const DAY = 86_400_000;
const YEAR = 366 * DAY;
const DST_LIMIT = 3 * 3_600_000;
/** The Gregorian calendar repeats every 400 years: a day rule with no match in that span never matches. */
const CALENDAR_CYCLE_YEARS = 400;

const daysInMonth = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
const weekday = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();

function nearestWeekday(y: number, m: number, n: number, dim: number): number | null {
  if (n > dim) return null;
  const wd = weekday(y, m, n);
  if (wd === 6) return n === 1 ? 3 : n - 1; // Saturday: Friday before, or Monday after the 1st
  if (wd === 0) return n === dim ? n - 2 : n + 1; // Sunday: Monday after, or Friday before the last day
  return n;
}

function lastWeekdayOfMonth(y: number, m: number, dim: number): number {
  const wd = weekday(y, m, dim);
  return wd === 6 ? dim - 1 : wd === 0 ? dim - 2 : dim;
}

export function dayMatches(spec: CronSpec, y: number, m: number, d: number): boolean {
  const dim = daysInMonth(y, m);
  const { dom, dow } = spec;
  const domHit =
    dom.days[d] === true ||
    dom.fromLast.some((n) => d === dim - n) ||
    (dom.lastWeekday && d === lastWeekdayOfMonth(y, m, dim)) ||
    dom.nearestWeekday.some((n) => d === nearestWeekday(y, m, n, dim));
  const wd = weekday(y, m, d);
  const dowHit =
    dow.days[wd] === true ||
    dow.last.some((n) => n === wd && d + 7 > dim) ||
    dow.nth.some(([n, k]) => n === wd && Math.ceil(d / 7) === k);
  return spec.domStar || spec.dowStar ? domHit && dowHit : domHit || dowHit;
}

/** Seconds into the day of the first matching time at or after h:m:s, or null. */
function timeOfDayAtOrAfter(spec: CronSpec, h0: number, m0: number, s0: number): number | null {
  for (const h of spec.hours) {
    if (h < h0) continue;
    for (const m of spec.minutes) {
      if (h === h0 && m < m0) continue;
      for (const s of spec.seconds) {
        if (h === h0 && m === m0 && s < s0) continue;
        return h * 3600 + m * 60 + s;
      }
    }
  }
  return null;
}

/**
 * The first wall time (floating ms, see zone.ts) at or after `from` and before `limit` that matches
 * the fields, ignoring time zones. Null when there is none in that span.
 */
export function nextWall(spec: CronSpec, from: number, limit = Infinity): number | null {
  const start = new Date(Math.ceil(from / 1000) * 1000);
  let y = start.getUTCFullYear();
  let m = start.getUTCMonth() + 1;
  let d = start.getUTCDate();
  let tod: [number, number, number] | null = [start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds()];
  const lastYear = y + CALENDAR_CYCLE_YEARS;
  while (y <= lastYear) {
    const dayStart = Date.UTC(y, m - 1, d);
    if (dayStart >= limit) return null;
    if (!spec.months[m] || d > daysInMonth(y, m)) {
      // Next month.
      d = 1;
      tod = null;
      if (++m > 12) { m = 1; y++; }
      continue;
    }
    if (dayMatches(spec, y, m, d)) {
      const seconds = tod ? timeOfDayAtOrAfter(spec, ...tod) : timeOfDayAtOrAfter(spec, 0, 0, 0);
      if (seconds !== null) {
        const wall = dayStart + seconds * 1000;
        return wall < limit ? wall : null;
      }
    }
    d++;
    tod = null;
  }
  return null;
}

/** True when the expression matches at least one date (it may still be rare, like Feb 29). */
export function everFires(spec: CronSpec): boolean {
  return nextWall(spec, Date.UTC(2000, 0, 1)) !== null;
}

/** The first occurrence strictly after `after` (epoch ms) in `zone`, or null if it never fires. */
export function cronNext(spec: CronSpec, zone: string, after: number): number | null {
  let t = Math.floor(after / 1000) * 1000 + 1000;
  if (spec.fixedTime) {
    // `after` in the last second before a spring-forward jump: the passes below start at the jump
    // and would never look at the skipped wall times, so a skipped fixed time runs now.
    const jump = previousTransition(zone, t, 0);
    if (jump && jump.at === t && jump.to > jump.from && jump.to - jump.from <= DST_LIMIT && nextWall(spec, jump.at + jump.from, jump.at + jump.to) !== null) return t;
  }
  // Each pass covers one span of constant offset; a yearly job crosses ~3 spans a year.
  for (let pass = 0; pass < 4 * CALENDAR_CYCLE_YEARS; pass++) {
    const off = offsetAt(zone, t);
    const tr = nextTransition(zone, t);
    const end = tr ? tr.at : t + YEAR;
    let from = t + off;
    if (spec.fixedTime) {
      // Second pass of a repeated hour: fixed-time jobs already ran in the first.
      const prev = previousTransition(zone, t, DST_LIMIT * 2);
      if (prev && prev.to < prev.from && prev.from - prev.to <= DST_LIMIT) from = Math.max(from, prev.at + prev.from);
    }
    const wall = nextWall(spec, from, end + off);
    if (wall !== null) return wall - off;
    if (tr && spec.fixedTime && tr.to > tr.from && tr.to - tr.from <= DST_LIMIT && nextWall(spec, tr.at + tr.from, tr.at + tr.to) !== null) {
      return tr.at; // a skipped wall time runs at the first instant after the jump
    }
    if (!tr && nextWall(spec, from) === null) return null;
    t = end;
  }
  return null;
}
