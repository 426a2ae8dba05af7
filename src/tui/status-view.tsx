/**
 * `iamwatch status --watch`: the fleet status as an ink view that refreshes every two seconds,
 * without running a scheduler. `q`, Ctrl-C, SIGINT or SIGTERM end it; the arrow and page keys
 * scroll the jobs when they don't all fit.
 * Laid out like the dashboard (layout.ts) for the terminal's size, again at every resize: a header
 * that stays on top (the file, the store, the fleet's counts, a configuration drift), one line per job with columns that
 * shrink or drop least important first, a "+N more jobs" line, the live instances in the rows
 * left, and no line wider than the terminal. No colour or style under NO_COLOR.
 */
import { Box, render, useInput, useStdin, useStdout } from 'ink';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { JobStatus, StatusReport } from '../observe/fleet-report.js';
import { errorMessage } from '../base/errors.js';
import { redactText } from '../base/redact.js';
import { nextText, pausedText, runDuration, shortDuration } from './format.js';
import { cutParts, fitColumns, fitRow, fitRows, fitSegments, scrollStart, type Cell, type ColumnSpec, type Part, type Segment } from './layout.js';
import { Line, colourWanted, type Style } from './style.js';
import { oneLine } from './text.js';
import { useTerminalSize } from './terminal-size.js';

type Key = 'job' | 'mode' | 'schedule' | 'zone' | 'next' | 'now' | 'last';

function columnSpecs(width: number): Array<ColumnSpec<Key>> {
  return [
    { key: 'job', header: ['JOB'], priority: 0, min: 8, max: 48, soft: Math.max(16, Math.floor(width * 0.25)), cut: 'middle' },
    { key: 'mode', header: ['MODE'], priority: 6, min: 4, max: 8 },
    { key: 'schedule', header: ['SCHEDULE'], priority: 4, min: 8, max: 24 },
    { key: 'zone', header: ['ZONE'], priority: 5, min: 4, max: 20 },
    { key: 'next', header: ['NEXT'], priority: 1, min: 7, max: 30 },
    { key: 'now', header: ['NOW'], priority: 2, min: 8, max: 34, soft: Math.max(12, Math.floor(width * 0.18)) },
    { key: 'last', header: ['LAST RUN (FLEET)', 'LAST RUN', 'LAST'], priority: 3, min: 8, max: 200, soft: 30 },
  ];
}

function nowOf(j: JobStatus, now: number): { cell: Cell; style?: Style } {
  const running = j.running[0];
  if (running) {
    const more = j.running.length > 1 ? ` +${j.running.length - 1}` : '';
    return { cell: [`running on ${oneLine(running.instance)}${more}`, `on ${oneLine(running.instance)}${more}`], style: { color: 'cyan' } };
  }
  if (j.paused) return { cell: [oneLine(pausedText({ by: j.paused.by, until: j.paused.until === null ? null : Date.parse(j.paused.until) }, now, j.tz)), 'paused'], style: { color: 'yellow' } };
  return { cell: [j.enabled ? 'idle' : 'disabled'] };
}

function lastOf(j: JobStatus, now: number): { cell: Cell; style?: Style } {
  const last = j.lastRun;
  if (!last) return { cell: ['never'], style: { color: 'gray' } };
  const what = last.summary ?? last.error;
  const ago = `${last.outcome} ${shortDuration(now - Date.parse(last.time))} ago`;
  const took = last.durationMs !== null ? ` in ${runDuration(last.durationMs)}` : '';
  const tail = what ? `: ${oneLine(redactText(what))}` : '';
  return { cell: [`${ago} on ${last.instance}${took}${tail}`, `${ago}${took}${tail}`], style: { color: last.outcome === 'ok' ? 'green' : 'red' } };
}

export interface StatusFrame {
  lines: Array<Array<Part<Style>>>;
  start: number;
  shown: number;
}

export interface StatusViewProps {
  report: StatusReport | null;
  error?: string;
  /** The terminal's columns (default 100). */
  width?: number;
  /** The terminal's rows (default: no limit). */
  height?: number;
  /** The first job row shown when they don't all fit. */
  offset?: number;
  colour?: boolean;
}

/** The lines of the status view, each fitted to `width`, at most `height` - 1 of them. */
export function statusFrame({ report, error, width = 100, height, offset = 0 }: StatusViewProps): StatusFrame {
  const w = Math.max(1, width);
  if (!report) return { lines: [cutParts([{ text: oneLine(error ?? 'reading the fleet status…'), style: error ? { color: 'red' } : undefined }], w)], start: 0, shown: 0 };
  const now = Date.parse(report.now);
  const running = report.jobs.reduce((n, j) => n + j.running.length, 0);
  const paused = report.jobs.filter((j) => j.paused).length;
  const lastOk = report.jobs.filter((j) => j.lastRun?.outcome === 'ok').length;
  const lastFailed = report.jobs.filter((j) => j.lastRun && j.lastRun.outcome !== 'ok').length;
  const live = report.instances.length;
  const lastTally: Array<Part<Style>> = [
    { text: `${lastOk} ok`, style: lastOk > 0 ? { color: 'green' } : undefined },
    { text: ', ' },
    { text: `${lastFailed} failed`, style: lastFailed > 0 ? { color: 'red' } : undefined },
  ];
  // Older reports (and tests) may have no config section.
  const drift = report.config?.drift ? report.config.configurations : null;
  const headerSegs: Array<Array<Segment<Style>>> = [
    [
      { priority: 0, parts: [{ text: 'iamwatch status', style: { bold: true, color: 'cyan' } }] },
      { priority: 1, parts: [{ text: oneLine(report.file) }] },
      { priority: 2, parts: [{ text: oneLine(redactText(report.coordination.label)), style: { dim: true } }] },
    ],
    [
      {
        priority: 0,
        parts: [{ text: `fleet: ${live} live instance${live === 1 ? '' : 's'}, ${running} running, ${paused} paused` }],
        short: [{ text: `fleet: ${live} live, ${running} running, ${paused} paused` }],
      },
      {
        priority: 1,
        parts: [{ text: `last runs of ${report.jobs.length} job${report.jobs.length === 1 ? '' : 's'}: ` }, ...lastTally],
        short: [{ text: 'last runs: ' }, ...lastTally],
      },
    ],
    ...(drift ? [[{ priority: 0, parts: [{ text: `config drift: ${drift.length} configurations`, style: { color: 'yellow' } }] }, { priority: 1, parts: [{ text: `(${drift.map((g) => `${g.hash?.slice(0, 8) ?? 'unknown'}: ${g.instances.join(', ')}`).join('; ')})`, style: { dim: true } }] }]] : []),
    ...(error ? [[{ priority: 0, parts: [{ text: `refresh failed: ${oneLine(error)}`, style: { color: 'red' } }] }]] : []),
  ];
  const header = headerSegs.map((segs) => fitSegments(segs, w));
  const budget = fitRows({ height: height === undefined ? Infinity : height - 1, header: header.length, footer: 1, items: report.jobs.length, tail: report.instances.length });
  const start = scrollStart(report.jobs.length, budget.items, offset);
  const shown = report.jobs.slice(start, start + budget.items);

  const cells = report.jobs.map((j) => {
    const st = nowOf(j, now);
    const last = lastOf(j, now);
    const next = j.next ? Date.parse(j.next) : null;
    const c: Record<Key, Cell> = {
      job: [oneLine(j.name)],
      mode: [j.mode],
      schedule: [oneLine(j.schedule)],
      zone: [j.tz],
      next: next !== null ? [nextText(next, now, j.tz), `in ${shortDuration(next - now)}`] : [oneLine(j.nextNote ?? '-')],
      now: st.cell,
      last: last.cell,
    };
    const styles: Partial<Record<Key, Style>> = { now: st.style, last: last.style };
    return { c, styles };
  });
  const columns = fitColumns(columnSpecs(w), cells.map((x) => x.c), w);
  const join = (texts: string[], styles: Array<Style | undefined>): Array<Part<Style>> =>
    cutParts(
      texts.flatMap((text, i) => (i === 0 ? [{ text, style: styles[i] }] : [{ text: ' ' }, { text, style: styles[i] }])),
      w,
    );
  const lines: Array<Array<Part<Style>>> = header.slice(0, budget.header);
  if (budget.tableHeader)
    lines.push(
      join(
        columns.map((c, i) => (i === columns.length - 1 ? c.header : c.header.padEnd(c.width))),
        columns.map(() => ({ bold: true })),
      ),
    );
  for (let i = 0; i < shown.length; i++) {
    const x = cells[start + i]!;
    lines.push(join(fitRow(columns, x.c), columns.map((c) => x.styles[c.key])));
  }
  if (budget.more) {
    const n = report.jobs.length - shown.length;
    const where = start > 0 ? `: ${start} above, ${n - start} below` : '';
    lines.push(cutParts([{ text: `+${n} more job${n === 1 ? '' : 's'}${where}`, style: { dim: true } }], w));
  }
  if (budget.tailTitle) lines.push(cutParts([{ text: `INSTANCES (${live} live)`, style: { bold: true } }], w));
  // When not all instances fit, the last row shown says how many more there are.
  const clipped = budget.tail < report.instances.length;
  const instancesShown = clipped ? Math.max(0, budget.tail - 1) : budget.tail;
  for (const i of report.instances.slice(0, instancesShown)) {
    const segs: Array<Segment<Style>> = [
      {
        priority: 0,
        parts: [
          { text: `${oneLine(i.instance)} ` },
          { text: i.state, style: { color: i.state === 'draining' ? 'yellow' : 'green' } },
          { text: ` beat ${shortDuration(i.ageMs)} ago, skew ${i.skewMs === null ? '?' : `${i.skewMs} ms`}, ${i.jobs} jobs, ${i.running.length} running` },
        ],
      },
      ...(i.configHash ? [{ priority: 2, parts: [{ text: `config ${oneLine(i.configHash.slice(0, 8))}` }] }] : []),
      { priority: 1, parts: [{ text: oneLine(`${i.host} pid ${i.pid} v${i.version}`), style: { dim: true } }] },
    ];
    lines.push(fitSegments(segs, w));
  }
  if (clipped && budget.tail > 0) lines.push(cutParts([{ text: `+${report.instances.length - instancesShown} more instances`, style: { dim: true } }], w));
  if (budget.footer > 0) lines.push(cutParts([{ text: `refreshing every 2s; q or Ctrl-C to quit${budget.more ? '  ↑↓ PgUp PgDn: scroll the jobs' : ''}`, style: { dim: true } }], w));
  return { lines, start, shown: shown.length };
}

export function StatusView(props: StatusViewProps): ReactNode {
  const colour = props.colour ?? true;
  const { lines } = statusFrame(props);
  return (
    <Box flexDirection="column" width={props.width ?? 100}>
      {lines.map((parts, i) => (
        <Line key={i} parts={parts} colour={colour} />
      ))}
    </Box>
  );
}

function Watch({ collect, intervalMs, onQuit, colour }: { collect: () => Promise<StatusReport>; intervalMs: number; onQuit: () => void; colour: boolean }): ReactNode {
  const [report, setReport] = useState<StatusReport | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [offset, setOffset] = useState(0);
  const page = useRef({ start: 0, shown: 0, total: 0 });
  useEffect(() => {
    let alive = true;
    let timer: NodeJS.Timeout | undefined;
    const refresh = async (): Promise<void> => {
      try {
        const r = await collect();
        if (!alive) return;
        setReport(r);
        setError(undefined);
      } catch (err) {
        if (alive) setError(errorMessage(err));
      }
      if (alive) timer = setTimeout(() => void refresh(), intervalMs);
    };
    void refresh();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [collect, intervalMs]);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (input === 'q' || input === 'Q' || (key.ctrl && input === 'c')) return onQuit();
      const p = page.current;
      const step = key.upArrow ? -1 : key.downArrow ? 1 : key.pageUp ? -Math.max(1, p.shown) : key.pageDown ? Math.max(1, p.shown) : key.home ? -p.total : key.end ? p.total : 0;
      if (step !== 0) setOffset(Math.max(0, Math.min(Math.max(0, p.total - p.shown), p.start + step)));
    },
    { isActive: isRawModeSupported },
  );
  const { stdout } = useStdout();
  const size = useTerminalSize(stdout);
  const frame = statusFrame({ report, error, width: size.columns, height: size.rows, offset });
  page.current = { start: frame.start, shown: frame.shown, total: report?.jobs.length ?? 0 };
  return (
    <Box flexDirection="column">
      {frame.lines.map((parts, i) => (
        <Line key={i} parts={parts} colour={colour} />
      ))}
    </Box>
  );
}

/** Shows the refreshing view until the user quits. */
export async function watchStatus(collect: () => Promise<StatusReport>, intervalMs = 2_000): Promise<void> {
  let quit!: () => void;
  const done = new Promise<void>((r) => (quit = r));
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  const app = render(<Watch collect={collect} intervalMs={intervalMs} onQuit={quit} colour={colourWanted()} />, { exitOnCtrlC: false, patchConsole: false });
  try {
    await done;
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    app.unmount();
    await app.waitUntilExit().catch(() => {});
  }
}
