/**
 * Durations as written in jobs files: a sequence of number+unit pairs such as `1d`, `1h30m`, `90s`,
 * `500ms`, `1.5h`. Units: ms s m h d. Values are returned in whole milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export class DurationSyntaxError extends Error {
  constructor(
    message: string,
    /** Index in the input where the problem is. */
    readonly index: number,
  ) {
    super(message);
  }
}

export function parseDuration(text: string): number {
  if (text.length === 0) throw new DurationSyntaxError('empty duration (examples: 90s, 1h30m, 1d)', 0);
  let total = 0;
  PART.lastIndex = 0;
  let index = 0;
  while (index < text.length) {
    PART.lastIndex = index;
    const m = PART.exec(text);
    if (!m) {
      throw new DurationSyntaxError(
        `invalid duration "${text}": expected a number followed by ms, s, m, h or d at "${text.slice(index)}" (examples: 90s, 1h30m, 1d)`,
        index,
      );
    }
    total += Number(m[1]) * UNIT_MS[m[2] as string]!;
    index = PART.lastIndex;
  }
  const ms = Math.round(total);
  if (ms <= 0) throw new DurationSyntaxError(`duration "${text}" must be greater than zero`, 0);
  if (!Number.isSafeInteger(ms)) throw new DurationSyntaxError(`duration "${text}" is too large`, 0);
  return ms;
}

/** Canonical short form: 5400000 -> "1h30m", 1500 -> "1s500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.abs(ms);
  let out = ms < 0 ? '-' : '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
