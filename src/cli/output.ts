/** Writing to the terminal: text, JSON and diagnostics, in colour only where colour is wanted. */
import chalk, { Chalk, type ColorSupportLevel } from 'chalk';
import { formatDiagnostic, type Diagnostic } from '../jobsfile/job.js';

/**
 * Whether and how much to colour a stream: NO_COLOR (any non-empty value, no-color.org) means
 * none, whatever else is set; FORCE_COLOR forces colour even into a pipe (`0` or `false`: none;
 * empty, `true` or `1`: basic; `2`, `3`: 256 colours, true colour); otherwise colour exactly when
 * the stream is a terminal that is not TERM=dumb. Every coloured thing iamwatch writes (tables,
 * diagnostics, pretty log lines, the dashboard and the status view) asks this.
 */
export function colorLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ColorSupportLevel {
  if (env.NO_COLOR) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '' || force === 'true') return 1;
    if (force === 'false') return 0;
    const n = Number.parseInt(force, 10);
    if (Number.isNaN(n)) return 1;
    return Math.max(0, Math.min(3, n)) as ColorSupportLevel;
  }
  return stream.isTTY === true && env.TERM !== 'dumb' ? 3 : 0;
}

/** Colour on `stream` or not (pino-pretty takes a boolean). */
export const useColor = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean => colorLevel(stream, env) > 0;

export const colors = new Chalk({ level: colorLevel(process.stdout) });
export const errColors = new Chalk({ level: colorLevel(process.stderr) });
// ink (the dashboard, the status view) colours through chalk's default instance, which decided its
// level from FORCE_COLOR alone when it loaded; it draws on stdout, so it follows stdout's rule.
chalk.level = colors.level;

/**
 * Waits until everything written to stdout and stderr has been handed to the OS. A pipe takes
 * 64 KiB at once; the rest is queued in the process, and exiting before the queue drains would
 * cut the output short. A closed reader (`| head`) ends the wait too.
 */
export async function flushOutput(): Promise<void> {
  const drained = (stream: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (stream.destroyed || stream.writableEnded) return resolve();
      stream.once('error', () => resolve());
      stream.write('', () => resolve());
    });
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
}

/**
 * A reader that goes away (`iamwatch next --json | head -1`) makes writes fail with EPIPE; that is
 * not an error of the command, so it is swallowed instead of crashing with a stack.
 */
export function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * A command's `--json` result, on stdout. Absent values print as null, never as a missing key: a
 * command's shape lists every key, and a key whose value is undefined (an optional field the data
 * lacks) prints as null. Times are ISO-8601 strings, durations in ms numbers under `...Ms` keys.
 */
export function json(value: unknown): void {
  out(JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v), 2));
}

export function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const line = formatDiagnostic(d);
    const label = d.severity === 'error' ? errColors.red.bold('error:') : errColors.yellow.bold('warning:');
    err(line.replace(`${d.severity}:`, label));
  }
}

/** A plain table: columns padded to their widest cell (ANSI colour codes ignored when measuring). */
export function table(header: string[], rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c)))).join('  ').trimEnd();
  return [line(header.map((h) => colors.bold(h))), ...rows.map(line)].join('\n');
}
