/**
 * What the JSON log files of a fleet say about a counted window of occurrences (by nominal time,
 * `[from, to)`): which job+occurrence started (and how late, `latenessMs` of `run-started`),
 * which ran (a `run-finished` with outcome ok in any instance's log), which were started more
 * than once (by two instances or twice by one), and which were skipped, by reason.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { percentile } from './measure.js';

export interface WindowReport {
  /** The window of nominal times counted, [from, to). */
  from: number;
  to: number;
  expected: number;
  ran: number;
  runPct: number;
  started: number;
  /** Started (attempt 1) but no run-finished line in any log: still running, or killed, at the end. */
  unfinished: number;
  p50: number;
  p99: number;
  max: number;
  duplicates: number;
  /** skipped log lines in the window, by reason (each instance logs its own skips). */
  skipped: Record<string, number>;
  /** run-finished lines with an outcome other than ok, by outcome. */
  failed: Record<string, number>;
  /** Occurrences run, by nominal time (epoch ms), for each nominal time in the window seen in a log. */
  ranAt: Map<number, number>;
}

interface Line {
  event?: string;
  job?: string;
  occurrence?: string;
  latenessMs?: number;
  attempt?: number;
  outcome?: string;
  reason?: string;
}

const WANTED = ['"event":"run-started"', '"event":"run-finished"', '"event":"skipped"'];

/** Reads every log file line by line (they can be hundreds of MB) and counts the window. */
export async function analyseLogs(files: string[], from: number, to: number, expected: number): Promise<WindowReport> {
  const starts = new Map<string, number>();
  const ok = new Set<string>();
  const finished = new Set<string>();
  const lateness: number[] = [];
  const skipped: Record<string, number> = {};
  const failed: Record<string, number> = {};
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
    for await (const text of lines) {
      if (!WANTED.some((w) => text.includes(w))) continue;
      let l: Line;
      try {
        l = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      const nominal = l.occurrence ? Date.parse(l.occurrence) : NaN;
      if (!(nominal >= from && nominal < to)) continue;
      const key = `${l.job}|${nominal}`;
      if (l.event === 'run-started') {
        if ((l.attempt ?? 1) !== 1) continue;
        starts.set(key, (starts.get(key) ?? 0) + 1);
        if (typeof l.latenessMs === 'number') lateness.push(l.latenessMs);
      } else if (l.event === 'run-finished') {
        finished.add(key);
        if (l.outcome === 'ok') ok.add(key);
        else failed[l.outcome ?? '?'] = (failed[l.outcome ?? '?'] ?? 0) + 1;
      } else {
        skipped[l.reason ?? '?'] = (skipped[l.reason ?? '?'] ?? 0) + 1;
      }
    }
  }
  const ranAt = new Map<number, number>();
  for (const key of ok) {
    const nominal = Number(key.slice(key.lastIndexOf('|') + 1));
    ranAt.set(nominal, (ranAt.get(nominal) ?? 0) + 1);
  }
  let unfinished = 0;
  for (const key of starts.keys()) if (!finished.has(key)) unfinished++;
  let duplicates = 0;
  for (const n of starts.values()) if (n > 1) duplicates++;
  lateness.sort((a, b) => a - b);
  return {
    from,
    to,
    expected,
    ran: ok.size,
    runPct: expected > 0 ? (ok.size / expected) * 100 : NaN,
    started: starts.size,
    unfinished,
    p50: percentile(lateness, 50),
    p99: percentile(lateness, 99),
    max: lateness[lateness.length - 1] ?? NaN,
    duplicates,
    skipped,
    failed,
    ranAt,
  };
}
