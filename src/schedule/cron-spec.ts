/**
 * Cron expressions with cronie's rules (crontab(5)) plus the Quartz extensions L, W, # and ?, and
 * Jenkins' `H` (a value picked per job from the stable hash of its name: H, H/n, H(a-b), H(a-b)/n).
 * Parses to value sets; the date math lives in cron-next.ts. Pure: no I/O, no clock.
 */
import { stableHash } from './stable-hash.js';

export class SpecSyntaxError extends Error {
  constructor(
    message: string,
    /** Index into the spec text where the bad token starts. */
    readonly index: number,
  ) {
    super(message);
  }
}

export interface DayOfMonthRule {
  /** days[d] for d in 1..31. */
  days: boolean[];
  /** `L`, `L-n`: n days before the last day of the month (L is L-0). */
  fromLast: number[];
  /** `nW`: the weekday (Mon-Fri) nearest to day n, within the month. */
  nearestWeekday: number[];
  /** `LW`: the last weekday (Mon-Fri) of the month. */
  lastWeekday: boolean;
}

export interface DayOfWeekRule {
  /** days[d] for d in 0..6, 0 = Sunday. */
  days: boolean[];
  /** `nL`: the last n-day of the month. */
  last: number[];
  /** `n#k`: the k-th n-day of the month. */
  nth: Array<[weekday: number, k: number]>;
}

export interface CronSpec {
  /** The expression as written (descriptors kept as written). */
  source: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  /** months[m] for m in 1..12. */
  months: boolean[];
  dom: DayOfMonthRule;
  dow: DayOfWeekRule;
  /** cronie: when either day field starts with `*` (or is `?`), a day must match both; otherwise either. */
  domStar: boolean;
  dowStar: boolean;
  /** cronie's DST rule: neither the minute nor the hour field starts with `*` (or `H/`, which is like `*\/n`). */
  fixedTime: boolean;
  /** The six-field form was used with `*` in the seconds field (fires every second). */
  everySecond: boolean;
  /** Both day fields are restricted, so cron's OR rule applies. */
  dayOr: boolean;
}

export const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

type FieldKind = 'second' | 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week';

interface FieldInfo {
  kind: FieldKind;
  min: number;
  max: number;
  names?: string[];
  /** Value of the first name (JAN = 1, SUN = 0). */
  nameBase?: number;
}

const FIELDS: Record<FieldKind, FieldInfo> = {
  second: { kind: 'second', min: 0, max: 59 },
  minute: { kind: 'minute', min: 0, max: 59 },
  hour: { kind: 'hour', min: 0, max: 23 },
  'day-of-month': { kind: 'day-of-month', min: 1, max: 31 },
  month: { kind: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  'day-of-week': { kind: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 },
};

interface Token {
  text: string;
  index: number;
}

function splitFields(text: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ text: m[0], index: m.index });
  return out;
}

/**
 * Parses a 5-field, 6-field (seconds first) or @descriptor cron expression. `seed` (the job name)
 * is what `H` hashes; without one, `H` is an error.
 */
export function parseCron(text: string, seed?: string): CronSpec {
  const tokens = splitFields(text);
  if (tokens.length === 0) throw new SpecSyntaxError('empty schedule', 0);
  const first = tokens[0]!;
  if (first.text.startsWith('@')) {
    const expansion = DESCRIPTORS[first.text.toLowerCase()];
    if (!expansion) {
      const hint = first.text.toLowerCase() === '@reboot'
        ? '@reboot has no meaning for a long-running scheduler'
        : `expected one of ${Object.keys(DESCRIPTORS).join(' ')} or @every DURATION`;
      throw new SpecSyntaxError(`unknown descriptor "${first.text}": ${hint}`, first.index);
    }
    if (tokens.length > 1) {
      throw new SpecSyntaxError(`unexpected "${tokens[1]!.text}" after ${first.text}`, tokens[1]!.index);
    }
    return { ...fromFields(splitFields(expansion), false, seed), source: text.trim() };
  }
  if (tokens.length !== 5 && tokens.length !== 6) {
    const at = tokens.length > 6 ? tokens[6]!.index : first.index;
    throw new SpecSyntaxError(
      `a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); got ${tokens.length}`,
      at,
    );
  }
  return { ...fromFields(tokens, tokens.length === 6, seed), source: text.trim() };
}

/**
 * Fields that count as `*` for cronie's rules (DST, and the day-of-month/day-of-week OR rule):
 * those starting with `*`, `?`, and `H/n`, which steps through the whole range as `*\/n` does.
 */
const starLike = (text: string): boolean => text.startsWith('*') || text === '?' || /^H\//i.test(text);

function fromFields(tokens: Token[], withSeconds: boolean, seed: string | undefined): Omit<CronSpec, 'source'> {
  const [sec, min, hour, dom, month, dow] = withSeconds
    ? tokens
    : [{ text: '0', index: -1 }, ...tokens];
  const seconds = listValues(parseField(sec!, FIELDS.second, seed), 0, 59);
  const minutes = listValues(parseField(min!, FIELDS.minute, seed), 0, 59);
  const hours = listValues(parseField(hour!, FIELDS.hour, seed), 0, 23);
  const months = parseField(month!, FIELDS.month, seed).values;
  const domField = parseField(dom!, FIELDS['day-of-month'], seed);
  const dowField = parseField(dow!, FIELDS['day-of-week'], seed);
  const dowDays = dowField.values.slice(0, 7);
  if (dowField.values[7]) dowDays[0] = true; // 7 is Sunday too
  const domStar = starLike(dom!.text);
  const dowStar = starLike(dow!.text);
  return {
    seconds,
    minutes,
    hours,
    months,
    dom: { days: domField.values, fromLast: domField.fromLast, nearestWeekday: domField.nearestWeekday, lastWeekday: domField.lastWeekday },
    dow: { days: dowDays, last: dowField.lastOf, nth: dowField.nth },
    domStar,
    dowStar,
    fixedTime: !starLike(min!.text) && !starLike(hour!.text),
    everySecond: withSeconds && sec!.text === '*',
    dayOr: !domStar && !dowStar,
  };
}

function listValues(field: ParsedField, min: number, max: number): number[] {
  const out: number[] = [];
  for (let v = min; v <= max; v++) if (field.values[v]) out.push(v);
  return out;
}

interface ParsedField {
  values: boolean[];
  fromLast: number[];
  nearestWeekday: number[];
  lastWeekday: boolean;
  lastOf: number[];
  nth: Array<[number, number]>;
}

function parseField(token: Token, info: FieldInfo, seed: string | undefined): ParsedField {
  const field: ParsedField = { values: [], fromLast: [], nearestWeekday: [], lastWeekday: false, lastOf: [], nth: [] };
  const fail = (message: string, offset = 0): never => {
    throw new SpecSyntaxError(`invalid ${info.kind} field "${token.text}": ${message}`, token.index + offset);
  };
  if (token.text === '?') {
    if (info.kind !== 'day-of-month' && info.kind !== 'day-of-week') fail('"?" is only allowed in the day-of-month and day-of-week fields');
    for (let v = info.min; v <= info.max; v++) field.values[v] = true;
    return field;
  }
  let offset = 0;
  for (const item of token.text.split(',')) {
    if (item.length === 0) fail('empty list item', offset);
    parseItem(item, info, field, seed, (message) => fail(message, offset));
    offset += item.length + 1;
  }
  return field;
}

function parseItem(item: string, info: FieldInfo, field: ParsedField, seed: string | undefined, fail: (message: string) => never): void {
  const upper = item.toUpperCase();
  if (upper.startsWith('H')) return hashItem(item, info, field, seed, fail);
  // Quartz extensions.
  if (info.kind === 'day-of-month') {
    if (upper === 'L') return void field.fromLast.push(0);
    if (upper === 'LW') return void (field.lastWeekday = true);
    const lastMinus = /^L-(\d+)$/.exec(upper);
    if (lastMinus) {
      const n = Number(lastMinus[1]);
      if (n > 30) fail(`"${item}": L-n needs n from 0 to 30`);
      return void field.fromLast.push(n);
    }
    const weekday = /^(\d+)W$/.exec(upper);
    if (weekday) {
      const n = Number(weekday[1]);
      if (n < 1 || n > 31) fail(`"${item}": nW needs a day from 1 to 31`);
      return void field.nearestWeekday.push(n);
    }
  }
  if (info.kind === 'day-of-week') {
    if (upper === 'L') fail('"L" alone is ambiguous in day-of-week; use SAT, or nL or n#L for the last n-day of the month (5L: last Friday)');
    const last = /^(\w+)L$/.exec(upper);
    if (last && !/^\d+$/.test(item)) {
      return void field.lastOf.push(value(last[1]!, info, fail) % 7);
    }
    const nth = /^(\w+)#(\d+|L)$/.exec(upper);
    if (nth?.[2] === 'L') return void field.lastOf.push(value(nth[1]!, info, fail) % 7); // croner's n#L: as nL
    if (nth) {
      const k = Number(nth[2]);
      if (k < 1 || k > 5) fail(`"${item}": the week number after # must be 1 to 5`);
      return void field.nth.push([value(nth[1]!, info, fail) % 7, k]);
    }
  }
  if (/[LW#]/.test(upper) && !info.names) {
    fail(info.kind === 'day-of-month'
      ? `"${item}" is not a day of the month (the extensions here are L, L-n, LW and nW)`
      : `"${item}": L, W and # are only allowed in the day-of-month and day-of-week fields`);
  }

  const [rangePart, stepPart, extra] = item.split('/');
  if (extra !== undefined) fail(`"${item}": more than one "/"`);
  const step = stepPart === undefined ? 1 : parseStep(item, stepPart, info, fail);
  let lo: number;
  let hi: number;
  if (rangePart === '*') {
    lo = info.min;
    hi = info.kind === 'day-of-week' ? 6 : info.max;
  } else {
    const dash = rangePart!.indexOf('-', 1);
    if (dash === -1) {
      lo = value(rangePart!, info, fail);
      // `n/step` runs from n to the end of the field's range, as `n-max/step` would (day-of-week: 7, Sunday).
      hi = stepPart === undefined ? lo : info.max;
    } else {
      lo = value(rangePart!.slice(0, dash), info, fail);
      hi = value(rangePart!.slice(dash + 1), info, fail);
      // 0 and 7 are both Sunday, so `5-0` means Friday to Sunday.
      if (info.kind === 'day-of-week' && hi === 0 && lo > 0) hi = 7;
      if (hi < lo) fail(`"${item}": range ${lo}-${hi} runs backwards`);
    }
  }
  for (let v = lo; v <= hi; v += step) field.values[v] = true;
}

function value(text: string, info: FieldInfo, fail: (message: string) => never): number {
  if (text === '') fail('missing value');
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < info.min || n > info.max) fail(`${text} is out of range (${info.min}-${info.max})`);
    return n;
  }
  if (info.names) {
    const i = info.names.indexOf(text.toUpperCase());
    if (i !== -1) return i + info.nameBase!;
    fail(`unknown name "${text}" (expected ${info.names[0]}-${info.names[info.names.length - 1]} or ${info.min}-${info.max})`);
  }
  return fail(`"${text}" is not a number`);
}

/** The range `H` picks from when none is written: day-of-month stops at 28 so the job runs every month. */
const HASH_RANGE: Record<FieldKind, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  'day-of-month': [1, 28],
  month: [1, 12],
  'day-of-week': [0, 6],
};

/**
 * `H`, `H/n`, `H(a-b)`, `H(a-b)/n` (Jenkins): h = stableHash("NAME:FIELD"), e.g. "backup:minute";
 * `H` is lo + h mod (hi - lo + 1); `H/n` runs from lo + h mod n to the end of the range in steps of n.
 * Without a range, `H` picks from HASH_RANGE and `H/n` steps through the field's whole range, as `*\/n`.
 */
/** The `n` of `.../n`: a whole number from 1 to the field's largest value. */
function parseStep(item: string, text: string, info: FieldInfo, fail: (message: string) => never): number {
  if (!/^\d+$/.test(text)) fail(`"${item}": step "${text}" is not a number`);
  const step = Number(text);
  if (step < 1) fail(`"${item}": step must be at least 1`);
  if (step > info.max) fail(`"${item}": step ${step} is larger than the field's range (${info.min}-${info.max})`);
  return step;
}

function hashItem(item: string, info: FieldInfo, field: ParsedField, seed: string | undefined, fail: (message: string) => never): void {
  const m = /^H(?:\(([^)-]*)-([^)]*)\))?(?:\/(.*))?$/i.exec(item);
  if (!m) fail(`"${item}": H is written H, H/n, H(a-b) or H(a-b)/n`);
  if (seed === undefined) fail(`"${item}": H picks a value from the job's name, and there is none here`);
  const [, from, to, stepText] = m!;
  const step = stepText === undefined ? 0 : parseStep(item, stepText, info, fail);
  let lo: number;
  let hi: number;
  if (from !== undefined) {
    lo = value(from, info, fail);
    hi = value(to!, info, fail);
    if (info.kind === 'day-of-week' && hi === 0 && lo > 0) hi = 7;
    if (hi < lo) fail(`"${item}": range ${lo}-${hi} runs backwards`);
  } else if (step > 0) {
    lo = info.min;
    hi = info.kind === 'day-of-week' ? 6 : info.max;
  } else {
    [lo, hi] = HASH_RANGE[info.kind];
  }
  const h = stableHash(`${seed!}:${info.kind}`);
  if (step === 0) {
    field.values[lo + (h % (hi - lo + 1))] = true;
    return;
  }
  for (let v = lo + (h % Math.min(step, hi - lo + 1)); v <= hi; v += step) field.values[v] = true;
}
