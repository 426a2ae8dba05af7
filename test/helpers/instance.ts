/** A real `iamwatch run` process whose JSON log lines are parsed as they arrive. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { startCli, type CliResult } from './cli.js';
import { sleep } from './redis.js';

export interface LogLine {
  /** Arrival order across every instance started by this module. */
  seq?: number;
  level: string;
  time: string;
  instance: string;
  event?: string;
  job?: string;
  occurrence?: string;
  outcome?: string;
  reason?: string;
  holder?: string;
  msg: string;
  [k: string]: unknown;
}

export interface Instance {
  id: string;
  child: ChildProcess;
  done: Promise<CliResult>;
  lines: LogLine[];
  /** The first line matching `pred`; fails the test after `timeoutMs` or when the process exits. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
}

let seq = 0;

/** Parses JSON log lines; anything else is kept as a `raw` line. */
export function parseLogLine(text: string, instance: string): LogLine {
  try {
    return { ...(JSON.parse(text) as LogLine), seq: seq++ };
  } catch {
    return { level: 'raw', time: '', instance, msg: text, seq: seq++ };
  }
}

/** The JSON log lines in a captured output (stderr of `once`, say). */
export function parseLogLines(text: string, instance = ''): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => parseLogLine(l, instance));
}

export function startInstance(id: string, config: string): Instance {
  const { child, done } = startCli(['run', '-c', config, '--log-format', 'json', '--no-tui', '--instance-id', id], { timeoutMs: 60_000 });
  const lines: LogLine[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(parseLogLine(buf.slice(0, nl), id));
      buf = buf.slice(nl + 1);
    }
  });
  return {
    id,
    child,
    done,
    lines,
    async waitFor(pred, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline || child.exitCode !== null) {
          const stderr = child.exitCode === null ? '(still running)' : (await done).stderr;
          assert.fail(`${id}: no ${what} within ${timeoutMs} ms (exit ${child.exitCode}); log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`);
        }
        await sleep(20);
      }
    },
  };
}

/** One line of the run log that `recordCommand` appends to. */
export interface RunLine {
  job: string;
  occurrence: string;
  instance: string;
  start: number;
  end: number;
  fence: number;
}

/** An exec `command=` option that appends `job occurrence instance start end fence` to $OUT. */
export const recordCommand = (sleepSeconds: number): string =>
  `command='s=$(date +%s%3N); ${sleepSeconds > 0 ? `sleep ${sleepSeconds}; ` : ''}echo "$IAMWATCH_JOB $IAMWATCH_OCCURRENCE $IAMWATCH_INSTANCE $s $(date +%s%3N) $IAMWATCH_FENCE" >> "$OUT"'`;

export async function readRuns(file: string): Promise<RunLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [job, occurrence, instance, start, end, fence] = l.split(' ');
      return { job: job!, occurrence: occurrence!, instance: instance!, start: Number(start), end: Number(end), fence: Number(fence) };
    });
}
