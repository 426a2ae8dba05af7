/**
 * Time-zone offsets and their transitions, from the IANA data built into Intl. Pure: no clock reads.
 *
 * Offsets are looked up from a per-zone, per-year table of transitions (found by probing weekly
 * and bisecting to the second), so a lookup is a scan of a few entries after the first use.
 * Two transitions less than a week apart would be seen as none; the tz database has no such
 * pair in the years a scheduler runs in, and probing more often costs start-up time.
 */
const DAY = 86_400_000;
const PROBE = 7 * DAY;

export interface Transition {
  /** First instant (epoch ms) with the new offset. */
  at: number;
  /** Offset (ms east of UTC) before `at`. */
  from: number;
  /** Offset from `at` on. */
  to: number;
}

interface ZoneYear {
  start: number;
  startOffset: number;
  transitions: Transition[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const years = new Map<string, ZoneYear>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when `zone` is an IANA zone name this runtime knows (or UTC). */
export function isValidZone(zone: string): boolean {
  if (zone === 'UTC') return true; // no need to load the zone data
  if (zone.length === 0) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

let names: readonly string[] | undefined;

/** Every IANA zone name this runtime knows, plus UTC (for "did you mean" suggestions). */
export function zoneNames(): readonly string[] {
  return (names ??= [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])]);
}

/** The zone the runtime resolves a name to, e.g. "utc" -> "UTC". */
export function canonicalZone(zone: string): string {
  if (zone === 'UTC') return zone;
  return formatter(zone).resolvedOptions().timeZone;
}

/** Offset straight from Intl, uncached. */
function probeOffset(zone: string, t: number): number {
  const second = Math.floor(t / 1000) * 1000;
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const part of formatter(zone).formatToParts(second)) {
    switch (part.type) {
      case 'year': y = Number(part.value); break;
      case 'month': mo = Number(part.value); break;
      case 'day': d = Number(part.value); break;
      case 'hour': h = Number(part.value); break;
      case 'minute': mi = Number(part.value); break;
      case 'second': s = Number(part.value); break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - second;
}

function zoneYear(zone: string, year: number): ZoneYear {
  const key = `${zone}\u0000${year}`;
  let zy = years.get(key);
  if (zy) return zy;
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const startOffset = probeOffset(zone, start);
  const transitions: Transition[] = [];
  let prevT = start;
  let prevOff = startOffset;
  for (let t = start + PROBE; prevT < end; t = Math.min(t + PROBE, end)) {
    const off = probeOffset(zone, t);
    if (off !== prevOff) {
      // Bisect (in whole seconds) for the first instant with the new offset.
      let lo = prevT; // has prevOff
      let hi = t; // has off
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (probeOffset(zone, mid) === prevOff) lo = mid;
        else hi = mid;
      }
      transitions.push({ at: hi, from: prevOff, to: off });
      prevOff = off;
    }
    prevT = t;
    if (t === end) break;
  }
  zy = { start, startOffset, transitions };
  years.set(key, zy);
  return zy;
}

const yearOf = (t: number): number => new Date(t).getUTCFullYear();

/** Offset of `zone` from UTC at instant `t`, in ms (New York in winter: -5 h). */
export function offsetAt(zone: string, t: number): number {
  if (zone === 'UTC') return 0;
  const zy = zoneYear(zone, yearOf(t));
  let off = zy.startOffset;
  for (const tr of zy.transitions) {
    if (tr.at > t) break;
    off = tr.to;
  }
  return off;
}

/** The first transition strictly after `t`, looking at most `horizon` ms ahead. */
export function nextTransition(zone: string, t: number, horizon = 2 * 366 * DAY): Transition | null {
  if (zone === 'UTC') return null;
  for (let year = yearOf(t); Date.UTC(year, 0, 1) <= t + horizon; year++) {
    for (const tr of zoneYear(zone, year).transitions) {
      if (tr.at > t) return tr.at <= t + horizon ? tr : null;
    }
  }
  return null;
}

/** The latest transition at or before `t`, looking at most `horizon` ms back. */
export function previousTransition(zone: string, t: number, horizon = 2 * 366 * DAY): Transition | null {
  if (zone === 'UTC') return null;
  for (let year = yearOf(t); Date.UTC(year + 1, 0, 1) > t - horizon; year--) {
    const trs = zoneYear(zone, year).transitions;
    for (let i = trs.length - 1; i >= 0; i--) {
      const tr = trs[i]!;
      if (tr.at <= t) return tr.at >= t - horizon ? tr : null;
    }
  }
  return null;
}

/**
 * Wall-clock time as "floating" epoch ms: the instant at which a UTC clock would show the same
 * date and time. Wall arithmetic is done on these numbers with Date's UTC methods.
 */
export function toWall(zone: string, t: number): number {
  return t + offsetAt(zone, t);
}

/**
 * The instant for a wall time in `zone`: the earlier one when the wall time is repeated (fall back),
 * the first instant after the jump when it was skipped (spring forward).
 */
export function fromWall(zone: string, wall: number): number {
  const candidates = new Set([offsetAt(zone, wall - DAY), offsetAt(zone, wall + DAY), offsetAt(zone, wall)]);
  let best: number | null = null;
  for (const off of candidates) {
    const t = wall - off;
    if (offsetAt(zone, t) === off && (best === null || t < best)) best = t;
  }
  if (best !== null) return best;
  // In a gap: the transition that skipped this wall time.
  const tr = nextTransition(zone, wall - Math.max(...candidates) - 1, 2 * DAY);
  return tr ? tr.at : wall - offsetAt(zone, wall);
}
