/**
 * A command's output, line by line, in bounded memory and bounded time. Each line keeps at most
 * `maxLineBytes` (16 KiB) and counts the bytes it dropped, so a 50 MB line costs 16 KiB and a
 * number. Lines end at `\n` or `\r\n`; a last line without a newline is a line too (a lone `\r`
 * is part of its line). Work is done chunk by chunk and in slices of `sliceMs`: when a burst of
 * lines takes longer, the stream is paused and the rest waits for the next turn of the event loop
 * (setImmediate), so one noisy command never holds up the scheduler's timers.
 */
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';

/** The most of one output line that is kept. */
export const MAX_OUTPUT_LINE_BYTES = 16 * 1024;

export type LineHandler = (text: string, droppedBytes: number) => void;

const LF = 0x0a;
const CR = 0x0d;

/** Splits bytes into lines as they arrive; holds at most one line's kept bytes. */
export class LineSplitter {
  #parts: Buffer[] = [];
  #kept = 0;
  #dropped = 0;
  #last = -1; // the line's last byte so far, kept or not
  #open = false; // bytes arrived since the last line ended

  constructor(readonly maxLineBytes = MAX_OUTPUT_LINE_BYTES) {}

  /**
   * Feeds `chunk` from byte `from`, calling `emit` for every line it completes, and returns where
   * it stopped: the chunk's length, or earlier when `deadline` (performance.now()) passed.
   */
  feed(chunk: Buffer, from: number, emit: LineHandler, deadline = Infinity): number {
    let pos = from;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(LF, pos);
      if (nl === -1) {
        this.#append(chunk, pos, chunk.length);
        return chunk.length;
      }
      this.#append(chunk, pos, nl);
      this.#emit(emit);
      pos = nl + 1;
      if (performance.now() >= deadline) return pos;
    }
    return pos;
  }

  /** The stream ended: a last line without a newline is emitted. */
  end(emit: LineHandler): void {
    if (this.#open) this.#emit(emit);
  }

  #append(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#open = true;
    this.#last = chunk[to - 1]!;
    const room = this.maxLineBytes - this.#kept;
    const take = Math.min(room, to - from);
    if (take > 0) {
      this.#parts.push(chunk.subarray(from, from + take));
      this.#kept += take;
    }
    this.#dropped += to - from - take;
  }

  #emit(emit: LineHandler): void {
    let line = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#kept);
    let dropped = this.#dropped;
    if (this.#last === CR) {
      if (dropped > 0) dropped--;
      else line = line.subarray(0, line.length - 1);
    }
    if (dropped > 0) {
      // Don't end the kept part with half a character.
      const end = utf8Boundary(line);
      dropped += line.length - end;
      line = line.subarray(0, end);
    }
    this.#parts = [];
    this.#kept = 0;
    this.#dropped = 0;
    this.#last = -1;
    this.#open = false;
    emit(line.toString('utf8'), dropped);
  }
}

/** The length of `buf` without a trailing incomplete UTF-8 sequence. */
function utf8Boundary(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= 4 && back <= n; back++) {
    const b = buf[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

export interface ReadLinesOptions {
  maxLineBytes?: number;
  /** The longest stretch of line handling before yielding to the event loop. */
  sliceMs?: number;
}

/**
 * Calls `onLine` for every line of `stream` and resolves when the stream has ended (or closed,
 * or failed: what was read still counts) and every line was handled. A throw from `onLine` rejects.
 */
export function readLines(stream: Readable, onLine: LineHandler, opts: ReadLinesOptions = {}): Promise<void> {
  const splitter = new LineSplitter(opts.maxLineBytes);
  const sliceMs = opts.sliceMs ?? 10;
  return new Promise<void>((resolve, reject) => {
    const queue: Buffer[] = [];
    let offset = 0; // into queue[0]
    let waiting = false; // a pump is scheduled
    let ended = false;
    let settled = false;
    let sliceEnd = 0; // a slice lasts until then, however many pumps share it

    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      // Whatever comes after a failure is read and discarded, so the command never blocks on a full pipe.
      stream.resume();
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve();
    };

    const pump = (): void => {
      waiting = false;
      if (settled) return;
      try {
        const now = performance.now();
        if (now >= sliceEnd) sliceEnd = now + sliceMs;
        while (queue.length > 0) {
          const chunk = queue[0]!;
          offset = splitter.feed(chunk, offset, onLine, sliceEnd);
          if (offset < chunk.length) break;
          queue.shift();
          offset = 0;
          if (performance.now() >= sliceEnd) break;
        }
        if (queue.length > 0 || performance.now() >= sliceEnd) {
          // Out of time: the rest, or more data, only after the event loop has turned.
          stream.pause();
          waiting = true;
          setImmediate(pump);
          return;
        }
        if (ended) {
          splitter.end(onLine);
          finish();
          return;
        }
        if (stream.isPaused()) stream.resume();
      } catch (err) {
        finish(err);
      }
    };

    const onData = (chunk: Buffer | string): void => {
      queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (!waiting) pump();
    };
    const onEnd = (): void => {
      ended = true;
      if (!waiting) pump();
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    // Kept after the end too, so a late error can't go unhandled. What was read still counts; the
    // run's outcome is the command's exit status.
    stream.on('error', onEnd);
  });
}
