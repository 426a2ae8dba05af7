/**
 * The live dashboard of `iamwatch run`: a header that always stays on top (this instance, the
 * coordination store and database state, the fleet's live instances, running and paused jobs and
 * its run counts, each labelled with what it covers), one line per job (name, next occurrence
 * with a countdown, state (running here or elsewhere, paused, skipped, idle), ok/failed counts,
 * last run's lateness and outcome, mode, schedule, zone), the tail of the log, and a footer with
 * the keys or the drain.
 * A pure view of a DashboardModel, laid out for `width` x `height` by layout.ts: columns shrink
 * or drop least important first, rows that don't fit become a "+N more jobs" line, the log tail
 * gets the rows left, and no line is wider than `width`. Every free text it shows (connection
 * labels, run summaries and errors, log lines) is redacted and flattened to one line here,
 * whatever its source already did.
 */
import { Box } from 'ink';
import type { ReactNode } from 'react';
import { redactText } from '../base/redact.js';
import type { Connection, DashboardModel, JobRow } from './model.js';
import { nextText, pausedText, runDuration, shortDuration } from './format.js';
import { cutParts, fitColumns, fitRow, fitRows, fitSegments, scrollStart, type Cell, type ColumnSpec, type Part, type Segment } from './layout.js';
import { Line, type Style } from './style.js';
import { oneLine } from './text.js';

type Key = 'job' | 'mode' | 'schedule' | 'zone' | 'next' | 'state' | 'counts' | 'late' | 'last';

/** In display order; `priority` decides what stays when the terminal is narrow. */
function columnSpecs(width: number, scope: string): Array<ColumnSpec<Key>> {
  const fleet = scope === 'fleet' ? 'FLEET ' : '';
  return [
    { key: 'job', header: ['JOB'], priority: 0, min: 8, max: 48, soft: Math.max(16, Math.floor(width * 0.25)), cut: 'middle' },
    { key: 'mode', header: ['MODE'], priority: 7, min: 4, max: 8 },
    { key: 'schedule', header: ['SCHEDULE'], priority: 6, min: 8, max: 24 },
    { key: 'zone', header: ['ZONE'], priority: 8, min: 4, max: 20 },
    { key: 'next', header: ['NEXT'], priority: 1, min: 7, max: 26 },
    { key: 'state', header: ['STATE'], priority: 2, min: 8, max: 34, soft: Math.max(12, Math.floor(width * 0.18)) },
    { key: 'counts', header: [`${fleet}OK/FAIL`, 'OK/FAIL', 'OK/F'], priority: 3, min: 5, max: 14, soft: 7 },
    { key: 'late', header: ['LATE'], priority: 5, min: 5, max: 8 },
    { key: 'last', header: [`LAST RUN${fleet ? ' (FLEET)' : ''}`, 'LAST RUN', 'LAST'], priority: 4, min: 8, max: 200, soft: 28 },
  ];
}

/** "Redis up redis://…" (short: "Redis up"). */
function connection(name: string, c: Connection, priority: number): Segment<Style> {
  const state = c.up === null ? [] : [{ text: c.up ? ' up' : ' DOWN', style: { color: c.up ? 'green' : 'red' } }];
  const short = [{ text: name }, ...state];
  return { priority, parts: [...short, { text: ` ${oneLine(redactText(c.label))}`, style: { dim: true } }], short: c.up === null ? undefined : short };
}

/** The state cell, longest first: "running here 3s" / "running 3s", "paused by alice until 14:00" / "paused". */
function stateOf(row: JobRow, now: number): { cell: Cell; style?: Style } {
  switch (row.state.kind) {
    case 'idle':
      return { cell: ['idle'] };
    case 'running-here': {
      const d = shortDuration(now - row.state.since);
      return { cell: [`running here ${d}`, `running ${d}`], style: { color: 'cyan' } };
    }
    case 'running-elsewhere':
      return { cell: [`running on ${oneLine(row.state.instance)}`, `on ${oneLine(row.state.instance)}`], style: { color: 'blue' } };
    case 'skipped':
      return { cell: [`skipped (${row.state.reason})`, 'skipped'], style: { color: 'yellow' } };
    case 'paused':
      return { cell: [oneLine(pausedText(row.state, now, row.tz)), 'paused'], style: { color: 'yellow' } };
  }
}

function lastOf(row: JobRow, self: string): { cell: Cell; style?: Style } {
  const l = row.last;
  if (!l) return { cell: ['never'], style: { color: 'gray' } };
  const what = l.summary ?? l.error;
  const head = `${l.outcome}${l.durationMs !== null ? ` ${runDuration(l.durationMs)}` : ''}`;
  const tail = what ? `: ${oneLine(redactText(what))}` : '';
  const where = l.instance !== self ? ` on ${oneLine(l.instance)}` : '';
  return { cell: where ? [`${head}${where}${tail}`, `${head}${tail}`] : [`${head}${tail}`], style: { color: l.outcome === 'ok' ? 'green' : 'red' } };
}

function countdown(next: number | null, now: number): string {
  return next === null ? '-' : `in ${shortDuration(next - now)}`;
}

const LEVEL_STYLE: Record<string, Style> = { error: { color: 'red' }, fatal: { color: 'red' }, warn: { color: 'yellow' }, debug: { color: 'gray' } };

/** The header lines: this instance, the stores, the fleet. */
function headerSegments(m: DashboardModel): Array<Array<Segment<Style>>> {
  const others = m.instances.filter((i) => !i.self);
  const selfRunning = m.instances.find((i) => i.self)?.running ?? 0;
  const live = m.instances.length || 1;
  const running = m.instances.reduce((n, i) => n + i.running, 0);
  const scope = m.counts?.scope ?? 'this instance';
  const ok = m.jobs.reduce((n, j) => n + j.ok, 0);
  const failed = m.jobs.reduce((n, j) => n + j.failed, 0);
  const since = m.counts ? ` since ${new Date(m.counts.since).toTimeString().slice(0, 5)}` : '';
  const tally: Array<Part<Style>> = [{ text: `${ok} ok`, style: ok > 0 ? { color: 'green' } : undefined }, { text: ', ' }, { text: `${failed} failed`, style: failed > 0 ? { color: 'red' } : undefined }];
  const runs: Segment<Style> = { priority: 1, parts: [{ text: `runs${since}: ` }, ...tally], short: [...tally, { text: since }] };
  const title: Array<Part<Style>> = [{ text: 'iamwatch', style: { bold: true, color: 'cyan' } }, { text: ' instance ' }, { text: oneLine(m.instance), style: { bold: true } }];
  const lines: Array<Array<Segment<Style>>> = [
    [
      { priority: 0, parts: title },
      {
        priority: 1,
        parts: [{ text: `this instance: ${m.jobs.length} job${m.jobs.length === 1 ? '' : 's'}, ${selfRunning} running, skew ${m.skewMs === null ? '?' : `${m.skewMs} ms`}` }],
        short: [{ text: `this instance: ${m.jobs.length} jobs, ${selfRunning} running` }],
      },
      ...(scope === 'this instance' ? [{ ...runs, priority: 2 }] : []),
      { priority: 3, parts: [{ text: oneLine(m.file), style: { dim: true } }] },
    ],
    [connection(m.redis.label.includes('://') ? 'Redis' : 'store', m.redis, 0), ...(m.database ? [connection('DB', m.database, 1)] : [])],
    [
      {
        priority: 0,
        parts: [{ text: `fleet: ${live} live instance${live === 1 ? '' : 's'}, ${running} running${m.paused !== undefined ? `, ${m.paused} paused` : ''}` }],
        short: [{ text: `fleet: ${live} live, ${running} running${m.paused !== undefined ? `, ${m.paused} paused` : ''}` }],
      },
      ...(scope === 'fleet' ? [runs] : []),
      ...(others.length > 0
        ? [{ priority: 2, parts: [{ text: `(${others.map((i) => `${oneLine(i.instance)}${i.running ? ` running ${i.running}` : ''}, beat ${shortDuration(m.now - i.lastBeat)} ago`).join('; ')})`, style: { dim: true } }] }]
        : []),
    ],
  ];
  return lines;
}

function footerParts(m: DashboardModel, scroll: boolean, width: number): Array<Part<Style>> {
  const s = m.shutdown;
  const plural = (n: number): string => `${n} running job${n === 1 ? '' : 's'}`;
  const dim = { dim: true };
  if (!s)
    return fitSegments(
      [
        { priority: 0, parts: [{ text: 'q or Ctrl-C: graceful shutdown (running jobs finish first)', style: dim }], short: [{ text: 'q or Ctrl-C: graceful shutdown', style: dim }] },
        ...(scroll ? [{ priority: 1, parts: [{ text: '↑↓ PgUp PgDn: scroll the jobs', style: dim }], short: [{ text: '↑↓: scroll', style: dim }] }] : []),
      ],
      width,
    );
  switch (s.phase) {
    case 'draining':
      return [
        {
          text: `${s.signal}: draining, no new runs; waiting for ${plural(s.running)}${s.deadline !== undefined ? ` (up to ${shortDuration(s.deadline - m.now)})` : ''}. Press q or Ctrl-C again to abort them.`,
          style: { color: 'yellow' },
        },
      ];
    case 'aborting':
      return [{ text: `aborting ${plural(s.running)}…`, style: { color: 'red' } }];
    case 'closing':
      return [{ text: 'releasing locks, closing Redis and the database…', style: { color: 'yellow' } }];
    case 'stopped':
      return [{ text: 'stopped.', style: { color: 'green' } }];
  }
}

export interface DashboardProps {
  model: DashboardModel;
  /** The terminal's columns (default 100). */
  width?: number;
  /** The terminal's rows (default: no limit; the log shows `logLines`). */
  height?: number;
  /** Log lines shown when there is no height limit. */
  logLines?: number;
  /** The first job row shown when they don't all fit (kept in range). */
  offset?: number;
  /** Colours and styles (off for NO_COLOR). */
  colour?: boolean;
}

export interface DashboardFrame {
  /** Each line's parts, fitted to the width. */
  lines: Array<Array<Part<Style>>>;
  /** The first job row shown, and how many are. */
  start: number;
  shown: number;
}

/** The lines of the dashboard, each fitted to `width`, at most `height` - 1 of them. */
export function dashboardFrame({ model: m, width = 100, height, logLines = 8, offset = 0 }: DashboardProps): DashboardFrame {
  const w = Math.max(1, width);
  const header = headerSegments(m).map((segs) => fitSegments(segs, w));
  const logs = m.logs.slice(-(height === undefined ? logLines : 200));
  // One row stays free under the frame: ink moves the cursor there, and a frame as tall as the
  // terminal would make ink clear the whole screen at every render.
  const budget = fitRows({ height: height === undefined ? Infinity : height - 1, header: header.length, footer: 1, items: m.jobs.length, tail: logs.length });
  const start = scrollStart(m.jobs.length, budget.items, offset);
  const shown = m.jobs.slice(start, start + budget.items);

  const cells = m.jobs.map((row) => {
    const st = stateOf(row, m.now);
    const last = lastOf(row, m.instance);
    const c: Record<Key, Cell> = {
      job: [oneLine(row.name)],
      mode: [row.mode],
      schedule: [oneLine(row.schedule)],
      zone: [row.tz],
      next: [nextText(row.next, m.now, row.tz), countdown(row.next, m.now)],
      state: st.cell,
      counts: [`${row.ok}/${row.failed}`],
      late: [row.last?.latenessMs !== undefined && row.last.latenessMs !== null ? `+${runDuration(Math.max(0, row.last.latenessMs))}` : ''],
      last: last.cell,
    };
    const styles: Partial<Record<Key, Style>> = {
      state: st.style,
      counts: row.failed > 0 ? { color: 'red' } : row.ok > 0 ? { color: 'green' } : undefined,
      last: last.style,
      late: { dim: true },
    };
    return { c, styles };
  });
  const columns = fitColumns(columnSpecs(w, m.counts?.scope ?? 'this instance'), cells.map((x) => x.c), w);
  const joinCells = (texts: string[], styles: Array<Style | undefined>): Array<Part<Style>> =>
    cutParts(
      texts.flatMap((text, i) => (i === 0 ? [{ text, style: styles[i] }] : [{ text: ' ' }, { text, style: styles[i] }])),
      w,
    );

  const lines: Array<Array<Part<Style>>> = header.slice(0, budget.header);
  if (budget.tableHeader)
    lines.push(
      joinCells(
        columns.map((c, i) => (i === columns.length - 1 ? c.header : c.header.padEnd(c.width))),
        columns.map(() => ({ bold: true })),
      ),
    );
  for (let i = 0; i < shown.length; i++) {
    const x = cells[start + i]!;
    lines.push(joinCells(fitRow(columns, x.c), columns.map((c) => x.styles[c.key])));
  }
  if (budget.more) {
    const hidden = [...m.jobs.slice(0, start), ...m.jobs.slice(start + shown.length)];
    const n = hidden.length;
    const running = hidden.filter((j) => j.state.kind === 'running-here' || j.state.kind === 'running-elsewhere').length;
    const paused = hidden.filter((j) => j.state.kind === 'paused').length;
    const failing = hidden.filter((j) => j.last && j.last.outcome !== 'ok').length;
    const where = start > 0 ? `: ${start} above, ${n - start} below` : '';
    const notes = [running > 0 ? `${running} running` : '', paused > 0 ? `${paused} paused` : '', failing > 0 ? `${failing} failing` : ''].filter(Boolean).join(', ');
    lines.push(cutParts([{ text: `+${n} more job${n === 1 ? '' : 's'}${where}${notes ? ` (${notes})` : ''}`, style: { dim: true } }], w));
  }
  if (budget.tailTitle) lines.push(cutParts([{ text: '── log ──', style: { dim: true } }], w));
  for (const l of logs.slice(logs.length - budget.tail)) {
    lines.push(cutParts([{ text: oneLine(`${l.time} ${l.level.padEnd(5)} ${redactText(l.text)}`), style: LEVEL_STYLE[l.level] }], w));
  }
  if (budget.footer > 0) lines.push(cutParts(footerParts(m, budget.more, w), w));
  return { lines, start, shown: shown.length };
}

/** The frame as an ink element, `width` wide (the live view mounts the lines itself, see live-dashboard.tsx). */
export function Dashboard(props: DashboardProps): ReactNode {
  const colour = props.colour ?? true;
  const { lines } = dashboardFrame(props);
  return (
    <Box flexDirection="column" width={props.width ?? 100}>
      {lines.map((parts, i) => (
        <Line key={i} parts={parts} colour={colour} />
      ))}
    </Box>
  );
}
