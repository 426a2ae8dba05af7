/**
 * Log output through pino: JSON lines (time, level, instance, job, occurrence, event, fields) for
 * log pipelines, or pino-pretty's human format for terminals. Imported only by commands that log.
 * Every message and field is redacted first, so URL passwords never reach a log line, whoever
 * wrote it (the scheduler, a watcher, an exec command's output), and a message is cut to 16 KiB,
 * its end noted with the count of bytes cut (line-cap.ts). JSON on stdout is buffered and written
 * asynchronously; flushLogs() writes out the rest before the process exits.
 */
import { writeSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';
import { PassThrough } from 'node:stream';
import type { Logger } from '../base/logger.js';
import { logArgs } from './line-cap.js';

export type LogFormat = 'pretty' | 'json';

/** Buffered log output waiting to be written; flushed before the process exits. */
const open = new Set<SonicBoom>();
/** What may wait in memory for a slow reader before lines are dropped (and the drop is counted). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * JSON lines on stdout through an asynchronous destination: a line is written at once when no
 * write is in flight, and lines that come while one is are written together after it, so a burst
 * of runs costs a few writes, not one per line, a quiet log is never held back, and a slow reader
 * (a full pipe) never blocks the event loop.
 * Past MAX_BUFFERED_BYTES waiting, lines are dropped and a line saying how many bytes were dropped
 * follows once the reader catches up.
 */
function stdoutDestination(): { write(line: string): void } {
  const dest = pino.destination({ fd: 1, sync: false, minLength: 0, maxLength: MAX_BUFFERED_BYTES });
  let dropped = 0;
  dest.on('drop', (data: string) => {
    dropped += Buffer.byteLength(data);
  });
  dest.on('drain', () => {
    if (dropped === 0) return;
    dest.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), event: 'log-dropped', droppedBytes: dropped, msg: `${dropped} bytes of log lines were dropped: stdout was not read fast enough` })}\n`);
    dropped = 0;
  });
  dest.on('error', () => {}); // stdout closed: nothing left to tell
  open.add(dest);
  return {
    write(line: string): void {
      try {
        dest.write(line);
      } catch {
        // Written after flushLogs() closed the destination (a watcher that settles as the process
        // exits): everything before it is out, so it goes straight to fd 1, or nowhere.
        try {
          writeSync(1, line);
        } catch {
          // stdout is gone
        }
      }
    },
  };
}

/**
 * Writes out every buffered log line, in order, before the process exits: ending the destination
 * lets a write in flight finish first and then writes the rest (fd 1 itself stays open). A reader
 * that takes no more within `timeoutMs` gets what fits synchronously instead of a hang.
 */
export async function flushLogs(timeoutMs = 10_000): Promise<void> {
  await Promise.all(
    [...open].map(
      (dest) =>
        new Promise<void>((resolve) => {
          open.delete(dest);
          const timer = setTimeout(() => {
            try {
              dest.flushSync();
            } catch {
              // stdout is gone or will not take more: nothing left to do
            }
            resolve();
          }, timeoutMs);
          dest.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            dest.end();
          } catch {
            clearTimeout(timer);
            resolve(); // already closed
          }
        }),
    ),
  );
}

export interface LoggerOptions {
  format: LogFormat;
  /** A pino level name (IAMWATCH_LOG_LEVEL, checked with the other settings); default info. */
  level?: string;
  instance: string;
  /** Defaults to stdout. */
  destination?: NodeJS.WritableStream;
  color?: boolean;
}

export async function createLogger(opts: LoggerOptions): Promise<PinoLogger & Logger> {
  const base = {
    level: opts.level ?? 'info',
    base: { instance: opts.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    hooks: {
      logMethod(this: PinoLogger, args: Parameters<PinoLogger['info']>, method: (...a: unknown[]) => void): void {
        method.apply(this, logArgs(args as unknown[]));
      },
    },
  };
  const destination = opts.destination ?? process.stdout;
  if (opts.format === 'json') return pino(base, destination === process.stdout ? stdoutDestination() : (destination as PassThrough));
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({
    destination: destination as PassThrough,
    colorize: opts.color ?? false,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    hideObject: true,
    messageFormat: prettyLine,
  });
  return pino(base, stream);
}

/** Fields worth a glance in the human format; the JSON format keeps everything. */
const PRETTY_FIELDS = ['reason', 'holder', 'err', 'detail', 'skewMs', 'redis', 'file'] as const;

function prettyLine(log: Record<string, unknown>, messageKey: string): string {
  const where = log.job ? `[${String(log.job)}${log.occurrence ? ` ${String(log.occurrence)}` : ''}] ` : '';
  const extra = PRETTY_FIELDS.filter((k) => log[k] !== undefined && log[k] !== null && !String(log[messageKey]).includes(String(log[k])))
    .map((k) => `${k}=${typeof log[k] === 'string' ? (log[k] as string) : JSON.stringify(log[k])}`)
    .join(' ');
  return `${where}${String(log[messageKey])}${extra ? `  ${extra}` : ''}`;
}
