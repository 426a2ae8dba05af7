/**
 * Differential test against cron-parser 5 as an oracle, in the region where cronie's rules and
 * cron-parser's agree: UTC, no L/W/#/?, at least one of day-of-month/day-of-week exactly `*`
 * (cron-parser applies the OR rule to `*\/n`, cronie doesn't), no reversed ranges (cron-parser
 * rejects `5-0`), no duplicate list members (cron-parser rejects them), no descriptors.
 * Specs come from a seeded PRNG, so a failure is reproducible from its seed and index.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import { parseCron } from '../../src/schedule/cron-spec.js';
import { cronNext, everFires } from '../../src/schedule/cron-next.js';

const SEED = 0x1a2b3c4d;
const SPECS = 400;
const OCCURRENCES = 20;

/** mulberry32: a small, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FieldShape {
  min: number;
  max: number;
  names?: string[];
  /** First value the names stand for. */
  nameBase?: number;
}

const SHAPES = {
  second: { min: 0, max: 59 },
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dom: { min: 1, max: 31 },
  month: { min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], nameBase: 1 },
  dow: { min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], nameBase: 0 },
} satisfies Record<string, FieldShape>;

function generator(seed: number) {
  const random = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;

  const text = (v: number, shape: FieldShape): string => {
    if (shape.names && v - shape.nameBase! < shape.names.length && random() < 0.4) {
      const name = shape.names[v - shape.nameBase!]!;
      return pick([name, name.toLowerCase(), name[0] + name.slice(1).toLowerCase()]);
    }
    return String(v);
  };

  /** One list item and the values it stands for (7 folded to 0 in day-of-week). */
  const item = (shape: FieldShape, allowStar: boolean): { text: string; values: number[] } => {
    const expand = (lo: number, hi: number, step: number): number[] => {
      const out: number[] = [];
      for (let v = lo; v <= hi; v += step) out.push(shape === SHAPES.dow ? v % 7 : v);
      return out;
    };
    const span = shape.max - shape.min;
    const kind = pick(allowStar ? ['star-step', 'value', 'value', 'range', 'range-step', 'start-step'] : ['value', 'value', 'range', 'range-step', 'start-step']);
    switch (kind) {
      case 'star-step': {
        const step = int(1, Math.max(1, Math.floor(span / 2)));
        // cronie's `*` in day-of-week is 0-7; the parser under test uses 0-6 for `*`, which is the same set of days.
        return { text: `*/${step}`, values: expand(shape.min, shape === SHAPES.dow ? 6 : shape.max, step) };
      }
      case 'value': {
        const v = int(shape.min, shape.max);
        return { text: text(v, shape), values: expand(v, v, 1) };
      }
      case 'range': {
        const lo = int(shape.min, shape.max);
        const hi = int(lo, shape.max);
        return { text: `${text(lo, shape)}-${text(hi, shape)}`, values: expand(lo, hi, 1) };
      }
      case 'range-step': {
        const lo = int(shape.min, shape.max);
        const hi = int(lo, shape.max);
        const step = int(1, Math.max(1, hi - lo));
        return { text: `${text(lo, shape)}-${text(hi, shape)}/${step}`, values: expand(lo, hi, step) };
      }
      default: {
        const lo = int(shape.min, shape.max);
        const step = int(1, Math.max(1, Math.floor(span / 2)));
        return { text: `${lo}/${step}`, values: expand(lo, shape.max, step) };
      }
    }
  };

  /** A field: `*`, one item, or a list of items whose values don't overlap. */
  const field = (shape: FieldShape, starWeight: number): string => {
    if (random() < starWeight) return '*';
    const n = random() < 0.6 ? 1 : int(2, 4);
    const items: string[] = [];
    const seen = new Set<number>();
    for (let tries = 0; items.length < n && tries < 20; tries++) {
      const it = item(shape, items.length === 0 && n === 1);
      if (new Set(it.values).size !== it.values.length || it.values.some((v) => seen.has(v))) continue;
      it.values.forEach((v) => seen.add(v));
      items.push(it.text);
    }
    return items.length > 0 ? items.join(',') : '*';
  };

  return {
    random,
    int,
    spec(): string {
      const six = random() < 0.35;
      const domStar = random() < 0.5;
      const fields = [
        field(SHAPES.minute, 0.25),
        field(SHAPES.hour, 0.3),
        domStar ? '*' : field(SHAPES.dom, 0.3),
        field(SHAPES.month, 0.5),
        domStar ? field(SHAPES.dow, 0.3) : '*',
      ];
      if (six) fields.unshift(field(SHAPES.second, 0.2));
      return fields.join(' ');
    },
  };
}

function ours(spec: string, start: number, count: number): number[] {
  const parsed = parseCron(spec);
  const out: number[] = [];
  for (let t: number | null = cronNext(parsed, 'UTC', start); t !== null && out.length < count; t = cronNext(parsed, 'UTC', t)) out.push(t);
  return out;
}

function oracle(spec: string, start: number, count: number): number[] {
  const expr = CronExpressionParser.parse(spec, { currentDate: new Date(start), tz: 'UTC' });
  const out: number[] = [];
  for (let i = 0; i < count && expr.hasNext(); i++) out.push(expr.next().getTime());
  return out;
}

const iso = (ts: number[]): string[] => ts.map((t) => new Date(t).toISOString());

describe('differential test against cron-parser (UTC, shared syntax)', () => {
  const gen = generator(SEED);
  const fixedStarts = [
    Date.UTC(2021, 2, 14, 6, 59, 59, 500),
    Date.UTC(2024, 1, 28, 23, 59, 59),
    Date.UTC(2023, 11, 31, 23, 59, 59, 999),
    Date.UTC(2099, 11, 31, 12, 0, 0),
  ];
  const specs: string[] = [];
  for (let i = 0; i < SPECS; i++) specs.push(gen.spec());
  let compared = 0;
  let neverFires = 0;

  specs.forEach((spec, index) => {
    test(`#${index} ${spec}`, () => {
      if (!everFires(parseCron(spec))) {
        neverFires++;
        return; // an error for us (see schedule-cron.test.ts); cron-parser has no such notion
      }
      const starts = [...fixedStarts, Date.UTC(gen.int(2000, 2090), gen.int(0, 11), gen.int(1, 28), gen.int(0, 23), gen.int(0, 59), gen.int(0, 59), gen.random() < 0.5 ? 0 : gen.int(1, 999))];
      for (const start of starts) {
        // Start exactly on an occurrence, too: "strictly after" on both sides.
        for (const from of [start, ours(spec, start, 1)[0]!]) {
          const expected = oracle(spec, from, OCCURRENCES);
          const actual = ours(spec, from, OCCURRENCES);
          assert.deepEqual(iso(actual), iso(expected), `${spec} after ${new Date(from).toISOString()}`);
          compared++;
        }
      }
    });
  });

  test('the generator stays in the shared region and the comparison is not vacuous', () => {
    assert.ok(neverFires < SPECS / 10, `${neverFires} of ${SPECS} specs never fire`);
    assert.ok(compared >= (SPECS - neverFires) * 10, `${compared} comparisons`);
    // The generator must produce each shape it claims to.
    const all = specs.join(' ');
    for (const shape of [/\*\/\d+/, /\b\d+-\d+\/\d+/, /(^|[ ,])\d+\/\d+/, /,/, /[A-Za-z]{3}/]) assert.match(all, shape);
    assert.ok(specs.some((s) => s.split(' ').length === 6) && specs.some((s) => s.split(' ').length === 5));
  });
});

describe('known disagreements outside the shared region (cronie is the reference)', () => {
  const start = Date.UTC(2021, 1, 1);
  const cases: Array<{ spec: string; why: string; next: string[] }> = [
    // cron-parser applies OR when day-of-month is `*/10`; cronie treats a field starting with `*` as unrestricted (AND).
    { spec: '0 0 */10 * MON', why: 'a day field starting with * means AND', next: ['2021-03-01', '2021-05-31'] },
  ];
  for (const c of cases) {
    test(`${c.spec}: ${c.why}`, () => {
      const mine = iso(ours(c.spec, start, c.next.length));
      assert.deepEqual(mine, c.next.map((d) => `${d}T00:00:00.000Z`));
      assert.notDeepEqual(iso(oracle(c.spec, start, c.next.length)), mine);
    });
  }
  for (const spec of ['0 0 * * MON-SUN', '0 0 * * 5-0', '0 0-6,1,10 * * *', '@midnight']) {
    test(`cron-parser rejects ${spec}; cronie (and we) accept it`, () => {
      assert.throws(() => CronExpressionParser.parse(spec, { tz: 'UTC' }));
      assert.doesNotThrow(() => parseCron(spec));
    });
  }
});
