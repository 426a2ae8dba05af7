/** Writing to the terminal: text, JSON and diagnostics. */
import { Chalk } from 'chalk';
import { formatDiagnostic, type Diagnostic } from '../jobsfile/job.js';

/** chalk honours NO_COLOR and FORCE_COLOR; colour only when stdout is a terminal. */
export const colors = new Chalk(process.env.NO_COLOR ? { level: 0 } : process.env.FORCE_COLOR ? {} : { level: process.stdout.isTTY ? 3 : 0 });
export const errColors = new Chalk(process.env.NO_COLOR ? { level: 0 } : process.env.FORCE_COLOR ? {} : { level: process.stderr.isTTY ? 3 : 0 });

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
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
