/**
 * A log destination that keeps the last lines in memory instead of printing them: while the
 * dashboard owns the terminal, pino writes its JSON lines here and the dashboard shows the tail.
 * Lines are already redacted by the logger; they are shortened to one line each here, and each
 * keeps at most MAX_TAIL_TEXT_BYTES of text (the rest is counted in a note), so the tail's memory
 * is bounded whatever is logged.
 */
import { Writable } from 'node:stream';
import { capText, truncationNote } from './line-cap.js';

/** The most of one raw log line the tail reads (a logged message is at most 16 KiB, plus fields). */
export const MAX_TAIL_RAW_BYTES = 64 * 1024;
/** The most text one tail line keeps: far more than a terminal row shows. */
export const MAX_TAIL_TEXT_BYTES = 2 * 1024;

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
    return { time, level: String(o.level ?? 'info'), text: oneLine(`${where}${msg}${extra ? `  ${extra}` : ''}`) };
  } catch {
    return { time: '', level: 'info', text: oneLine(raw.trim()) };
  }
}

/** Whitespace around each line break becomes one space (in linear time, whatever the text). */
function oneLine(text: string): string {
  if (!text.includes('\n')) return text;
  const parts = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i]!;
    if (i > 0) p = p.trimStart();
    if (i < parts.length - 1) p = p.trimEnd();
    if (p !== '' || i === 0 || i === parts.length - 1) out.push(p);
  }
  return out.join(' ');
}

/** A tail line of at most MAX_TAIL_TEXT_BYTES, noting what was cut (here or before the line was read). */
function capped(line: TailLine, droppedBefore: number): TailLine {
  const { head, droppedBytes } = capText(line.text, MAX_TAIL_TEXT_BYTES);
  const dropped = droppedBytes + droppedBefore;
  return dropped > 0 ? { ...line, text: `${head}${truncationNote(dropped)}` } : line;
}

export class LogTail extends Writable {
  readonly #lines: TailLine[] = [];
  /** The line being written: its first MAX_TAIL_RAW_BYTES, and how many bytes came after. */
  #partial: string[] = [];
  #partialBytes = 0;
  #partialDropped = 0;
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
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      this.#append(nl === -1 ? text.slice(from) : text.slice(from, nl));
      if (nl === -1) break;
      this.#endLine();
      from = nl + 1;
    }
    if (this.#lines.length > this.keep) this.#lines.splice(0, this.#lines.length - this.keep);
  }

  #append(piece: string): void {
    if (piece === '') return;
    const room = MAX_TAIL_RAW_BYTES - this.#partialBytes;
    if (room <= 0) {
      this.#partialDropped += Buffer.byteLength(piece);
      return;
    }
    const { head, droppedBytes } = capText(piece, room);
    this.#partial.push(head);
    this.#partialBytes += Buffer.byteLength(head);
    this.#partialDropped += droppedBytes;
  }

  #endLine(): void {
    const raw = this.#partial.join('');
    const dropped = this.#partialDropped;
    this.#partial = [];
    this.#partialBytes = 0;
    this.#partialDropped = 0;
    if (raw.trim() === '') return;
    this.#lines.push(capped(formatTailLine(raw), dropped));
    this.total++;
  }

  lines(n: number): TailLine[] {
    return this.#lines.slice(-n);
  }
}
