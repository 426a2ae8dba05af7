/** ISO-8601 instants with numeric offsets, and parsing of user-given times. Pure. */
import { fromWall, offsetAt } from './zone.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  return `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** `2021-03-14T03:00:00-04:00`; milliseconds only when not zero. */
export function formatInstant(t: number, zone: string): string {
  const off = offsetAt(zone, t);
  const w = new Date(t + off);
  const ms = w.getUTCMilliseconds();
  return (
    `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}` +
    `T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}` +
    (ms ? `.${pad(ms, 3)}` : '') +
    formatOffset(off)
  );
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export type TimeInput = { kind: 'instant'; t: number } | { kind: 'wall'; wall: number };

/** Parses an ISO-8601 time: with Z or an offset it is an instant, without one a wall time. Null if malformed. */
export function parseTimeInput(text: string): TimeInput | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const wall = Date.UTC(Number(y), month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0')));
  if (new Date(wall).getUTCDate() !== day) return null; // Feb 30 and the like
  if (!zone) return { kind: 'wall', wall };
  if (zone.toUpperCase() === 'Z') return { kind: 'instant', t: wall };
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
  return { kind: 'instant', t: wall - offset };
}

/** The instant a parsed time stands for in `zone`. */
export function resolveTimeInput(input: TimeInput, zone: string): number {
  return input.kind === 'instant' ? input.t : fromWall(zone, input.wall);
}
