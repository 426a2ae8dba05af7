/**
 * Reading a systemd unit file (systemd.syntax(7)): `[Section]` headers, `Key=value` lines, `#` and
 * `;` comments, backslash continuations, keys that repeat (`Environment=`, `SystemCallFilter=`),
 * and time spans as systemd.time(7) writes them (`3min 30s`, `90`, `1h`).
 */

export type Unit = Map<string, Array<[key: string, value: string]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Array<[string, string]> | null = null;
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    if (pending === '' && /^\s*[#;]/.test(raw)) continue;
    const line = pending + raw;
    if (/\\$/.test(line)) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    pending = '';
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      section = unit.get(header[1]!) ?? [];
      unit.set(header[1]!, section);
      continue;
    }
    const kv = /^([A-Za-z0-9-]+)\s*=\s*(.*)$/.exec(trimmed);
    if (!kv || !section) throw new Error(`cannot read unit line: ${raw}`);
    section.push([kv[1]!, kv[2]!]);
  }
  return unit;
}

/** Every value of `key` in `section`, in order. */
export function values(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The value in effect: the last assignment (an empty one resets, as in systemd). */
export function value(unit: Unit, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** `Environment=A=1 "B=x y"` lines as one name/value map (later assignments win). */
export function environment(unit: Unit): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of values(unit, 'Service', 'Environment')) {
    for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
      const word = m[1] ?? m[2] ?? m[3]!;
      const i = word.indexOf('=');
      if (i > 0) env.set(word.slice(0, i), word.slice(i + 1));
    }
  }
  return env;
}

const TIME_UNITS: Record<string, number> = {
  us: 0.001, usec: 0.001, ms: 1, msec: 1,
  s: 1_000, sec: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** A systemd time span in milliseconds; a bare number is seconds. */
export function timespanMs(text: string): number {
  const t = text.trim();
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)\s*/gy)];
  if (parts.length === 0 || parts.reduce((n, p) => n + p[0].length, 0) !== t.length) throw new Error(`not a systemd time span: ${text}`);
  let ms = 0;
  for (const [, n, u] of parts) {
    const unit = u === '' ? 1_000 : TIME_UNITS[u!];
    if (unit === undefined) throw new Error(`unknown time unit "${u}" in ${text}`);
    ms += Number(n) * unit;
  }
  return ms;
}
