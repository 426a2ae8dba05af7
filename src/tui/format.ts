/** Short human texts for the terminal views: countdowns, ages, durations. */
import { formatInstant } from '../schedule/iso.js';

/** 4s, 2m05s, 3h10m, 2d4h */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/** A run's duration: 12ms, 1.4s, 2m05s. */
export function runDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  return shortDuration(ms);
}

/** "14:03:05 in 4s" (time of day in the job's zone); the date too when more than a day away. */
export function nextText(next: number | null, now: number, tz: string): string {
  if (next === null) return '-';
  const iso = formatInstant(next, tz);
  const when = next - now > 86_400_000 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
  return `${when} in ${shortDuration(next - now)}`;
}

/**
 * A paused job's state: "paused by alice until 14:00" (the user part of user@host; the time in the
 * job's zone, with seconds when they are not zero, and the date when more than a day away).
 */
export function pausedText(p: { by: string; until: number | null }, now: number, tz: string): string {
  const at = p.by.lastIndexOf('@');
  const who = at > 0 ? p.by.slice(0, at) : p.by;
  if (p.until === null) return `paused by ${who}`;
  const iso = formatInstant(p.until, tz);
  const time = iso.slice(17, 19) === '00' ? iso.slice(11, 16) : iso.slice(11, 19);
  return `paused by ${who} until ${p.until - now > 86_400_000 ? `${iso.slice(0, 10)} ${time}` : time}`;
}
