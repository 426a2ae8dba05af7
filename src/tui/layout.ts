/**
 * The terminal views' layout, computed from the terminal's size and nothing else (pure):
 * - columns: each has a priority, a minimum and a wanted width; the most important get their
 *   comfortable width first, the rest drop out least important first, and the spare room goes back
 *   by priority, so a row never takes more than the terminal's columns;
 * - cells: the first of a value's variants (longest first) that fits, else the last one cut with
 *   an ellipsis;
 * - header lines: segments that drop out least important first, then the last one is cut;
 * - rows: the header and the footer stay, the table gets its rows (with a "+N more" line when they
 *   don't all fit), and the tail (log lines, instances) the rest, so a frame is never taller than
 *   the terminal and the header never scrolls off.
 */
import { displayWidth, padEnd, truncateEnd, truncateMiddle } from './text.js';

export interface ColumnSpec<K extends string = string> {
  key: K;
  /** Header variants, longest first; the longest that fits is shown. */
  header: readonly string[];
  /** 0 is the most important; columns drop out highest number first. */
  priority: number;
  /** Narrower than this the column is dropped instead. */
  min: number;
  /** Never wider than this. */
  max: number;
  /** Width it gets before the spare room is shared out (default: what its values want). */
  soft?: number;
  /** Where a value too long is cut. */
  cut?: 'end' | 'middle';
}

export interface FittedColumn<K extends string = string> {
  key: K;
  width: number;
  header: string;
  cut: 'end' | 'middle';
}

/** A cell: its variants, longest first. */
export type Cell = readonly string[];

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));
const longest = (texts: readonly string[]): number => texts.reduce((w, t) => Math.max(w, displayWidth(t)), 0);

/**
 * The columns shown in `width` terminal columns, in the order of `specs`, with their widths;
 * `gap` columns of space between two. `rows` are the cells the columns will show (their first
 * variants decide how wide each column wants to be).
 */
export function fitColumns<K extends string>(specs: ReadonlyArray<ColumnSpec<K>>, rows: ReadonlyArray<Record<K, Cell>>, width: number, gap = 1): Array<FittedColumn<K>> {
  const want = new Map<K, number>();
  for (const s of specs) {
    const content = rows.reduce((w, r) => Math.max(w, displayWidth(r[s.key][0] ?? '')), 0);
    want.set(s.key, clamp(Math.max(content, longest(s.header)), s.min, s.max));
  }
  const byPriority = [...specs].sort((a, b) => a.priority - b.priority);
  const widths = new Map<K, number>();
  let used = 0;
  for (const s of byPriority) {
    const sep = widths.size > 0 ? gap : 0;
    const room = width - used - sep;
    const base = Math.max(s.min, Math.min(want.get(s.key)!, s.soft ?? s.max));
    // The most important column is always shown, cut to what there is.
    if (room < s.min && !(widths.size === 0 && room > 0)) break;
    const w = Math.min(base, room);
    widths.set(s.key, w);
    used += sep + w;
  }
  let spare = width - used;
  for (const s of byPriority) {
    if (spare <= 0) break;
    const w = widths.get(s.key);
    if (w === undefined) continue;
    const more = Math.min(spare, want.get(s.key)! - w);
    if (more > 0) {
      widths.set(s.key, w + more);
      spare -= more;
    }
  }
  return specs
    .filter((s) => widths.has(s.key))
    .map((s) => {
      const w = widths.get(s.key)!;
      return { key: s.key, width: w, header: fitCell(s.header, w), cut: s.cut ?? 'end' };
    });
}

/** The first variant that fits in `width`, else the last one cut. */
export function fitCell(variants: Cell, width: number, cut: 'end' | 'middle' = 'end'): string {
  for (const v of variants) if (displayWidth(v) <= width) return v;
  const last = variants[variants.length - 1] ?? '';
  return cut === 'middle' ? truncateMiddle(last, width) : truncateEnd(last, width);
}

/** One row's cells, fitted and padded to their columns (the last one not padded). */
export function fitRow<K extends string>(columns: ReadonlyArray<FittedColumn<K>>, cells: Record<K, Cell>): string[] {
  return columns.map((c, i) => {
    const text = fitCell(cells[c.key], c.width, c.cut);
    return i === columns.length - 1 ? text : padEnd(text, c.width);
  });
}

/** The total width of a row of `columns`. */
export function rowWidth(columns: ReadonlyArray<{ width: number }>, gap = 1): number {
  return columns.reduce((w, c) => w + c.width, 0) + Math.max(0, columns.length - 1) * gap;
}

/** A part of a header line; parts of one segment stay together or drop together. */
export interface Part<S = unknown> {
  text: string;
  style?: S;
}

export interface Segment<S = unknown> {
  parts: ReadonlyArray<Part<S>>;
  /** A shorter form, used before the segment is dropped. */
  short?: ReadonlyArray<Part<S>>;
  /** 0 is the most important; segments shorten, then drop out, highest number first (the later of equals first). */
  priority: number;
}

/**
 * The parts shown of a header line of `segments` in `width` columns, joined by `sep`: until the
 * line fits, the least important segment takes its short form, or drops out if it has none or
 * already has it; a short form is given up again where the full one fits after all; then the
 * last part shown is cut.
 */
export function fitSegments<S>(segments: ReadonlyArray<Segment<S>>, width: number, sep: Part<S> = { text: '  ' }): Array<Part<S>> {
  const partsWidth = (parts: ReadonlyArray<Part<S>>): number => parts.reduce((w, p) => w + displayWidth(p.text), 0);
  const shown = segments
    .filter((seg) => seg.parts.some((p) => p.text !== ''))
    .map((seg) => ({ seg, short: false }));
  const widthOf = (x: { seg: Segment<S>; short: boolean }): number => partsWidth(x.short && x.seg.short ? x.seg.short : x.seg.parts);
  const total = (): number => shown.reduce((w, x) => w + widthOf(x), 0) + Math.max(0, shown.length - 1) * displayWidth(sep.text);
  // The least important: highest priority number, the later of equals.
  const leastImportant = (): number => {
    let found = 0;
    shown.forEach((x, k) => {
      if (x.seg.priority >= shown[found]!.seg.priority) found = k;
    });
    return found;
  };
  while (total() > width) {
    const k = leastImportant();
    const x = shown[k]!;
    if (!x.short && x.seg.short !== undefined) x.short = true;
    else if (shown.length > 1) shown.splice(k, 1);
    else break;
  }
  // Full forms back where they fit, most important first.
  for (const x of [...shown].sort((a, b) => a.seg.priority - b.seg.priority)) {
    if (!x.short) continue;
    x.short = false;
    if (total() > width) x.short = true;
  }
  const parts: Array<Part<S>> = [];
  shown.forEach((x, k) => {
    if (k > 0) parts.push(sep);
    parts.push(...(x.short && x.seg.short ? x.seg.short : x.seg.parts));
  });
  return cutParts(parts, width);
}

/** Parts cut to `width` columns in all, the cut one ending in "…". */
export function cutParts<S>(parts: ReadonlyArray<Part<S>>, width: number): Array<Part<S>> {
  const out: Array<Part<S>> = [];
  let room = width;
  for (const p of parts) {
    const w = displayWidth(p.text);
    if (w <= room) {
      out.push(p);
      room -= w;
      continue;
    }
    if (room > 0) out.push({ ...p, text: truncateEnd(p.text, room) });
    break;
  }
  return out;
}

export interface RowsWanted {
  /** The terminal's rows (Infinity: no limit). */
  height: number;
  /** Header lines (kept first). */
  header: number;
  /** Footer lines (kept next). */
  footer: number;
  /** Table rows (jobs). */
  items: number;
  /** Tail lines there are to show (log lines, instances); shown under a title line. */
  tail: number;
  /** Tail lines kept even when the table does not fit (when the height allows). */
  minTail?: number;
}

export interface RowBudget {
  header: number;
  /** The table's header row. */
  tableHeader: boolean;
  /** Table rows shown. */
  items: number;
  /** A "+N more" line under the table. */
  more: boolean;
  /** The tail's title line. */
  tailTitle: boolean;
  /** Tail lines shown. */
  tail: number;
  footer: number;
}

/** How many lines of each part fit in `height` rows: never more than `height` in all. */
export function fitRows(o: RowsWanted): RowBudget {
  let avail = Math.max(0, o.height);
  const header = Math.min(o.header, avail);
  avail -= header;
  const footer = Math.min(o.footer, avail);
  avail -= footer;
  const minTail = Math.min(o.minTail ?? 3, o.tail);
  // The tail keeps its title and minTail lines only when the table still gets a row and its "+N more".
  const reserve = minTail > 0 && avail >= 1 + 1 + 1 + 1 + minTail ? 1 + minTail : 0;
  const tableRoom = avail - reserve;
  let tableHeader = tableRoom >= 1;
  let items = o.items;
  let more = false;
  if (1 + o.items > tableRoom) {
    // Not all rows: the header row, as many as fit, and a "+N more" line; in 1 row only that line.
    items = Math.max(0, tableRoom - 2);
    more = tableRoom >= 1;
    tableHeader = tableRoom >= 2;
  }
  avail -= (tableHeader ? 1 : 0) + items + (more ? 1 : 0);
  const tailTitle = o.tail > 0 && avail >= 2;
  const tail = tailTitle ? Math.min(o.tail, avail - 1) : 0;
  return { header, tableHeader, items, more, tailTitle, tail, footer };
}

/** The first of `shown` rows out of `total` when scrolled to `offset` (kept in range). */
export function scrollStart(total: number, shown: number, offset: number): number {
  return clamp(Math.floor(offset), 0, Math.max(0, total - shown));
}
