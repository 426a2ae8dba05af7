/**
 * A log destination that keeps the last lines in memory instead of printing them: while the
 * dashboard owns the terminal, pino writes its JSON lines here and the dashboard shows the tail.
 * Lines are already redacted by the logger; they are shortened to one line each here.
 */
import { Writable } from 'node:stream';

export interface TailLine {
  time: string;
  level: string;
  text: string;
}

const FIELDS = ['reason', 'holder', 'err', 'detail', 'skewMs'] as const;

export function formatTailLine(raw: string): TailLine {
  try {
    const o = JSON.parse(raw) as Record<string, unknown>;
    const time = typeof o.time === 'string' ? (new Date(o.time).toTimeString().slice(0, 8)) : '';
    const where = o.job ? `[${String(o.job)}${o.occurrence ? ` ${String(o.occurrence)}` : ''}] ` : '';
    const msg = String(o.msg ?? '');
    const extra = FIELDS.filter((k) => o[k] !== undefined && o[k] !== null && !msg.includes(String(o[k])))
      .map((k) => `${k}=${typeof o[k] === 'string' ? (o[k] as string) : JSON.stringify(o[k])}`)
      .join(' ');
    return { time, level: String(o.level ?? 'info'), text: `${where}${msg}${extra ? `  ${extra}` : ''}`.replace(/\s*\n\s*/g, ' ') };
  } catch {
    return { time: '', level: 'info', text: raw.trim() };
  }
}

export class LogTail extends Writable {
  readonly #lines: TailLine[] = [];
  #partial = '';
  /** Every line ever written, for tests and the final print. */
  total = 0;

  constructor(private readonly keep = 200) {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.add(String(chunk));
    done();
  }

  /** Adds text (one or more lines, possibly partial). */
  add(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const p of parts) {
      if (p.trim() === '') continue;
      this.#lines.push(formatTailLine(p));
      this.total++;
    }
    if (this.#lines.length > this.keep) this.#lines.splice(0, this.#lines.length - this.keep);
  }

  lines(n: number): TailLine[] {
    return this.#lines.slice(-n);
  }
}
