/**
 * Measuring helpers shared by the benchmarks: percentiles, in-process start lateness over a
 * counted window (after an uncounted warm-up), croner as the reference scheduler, running one
 * phase in a child process (so memory figures don't mix), and plain aligned tables.
 */
import { spawn } from 'node:child_process';
import { Cron } from 'croner';

/** The value at percentile `p` (0..100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

export interface Stats {
  runs: number;
  p50: number;
  p99: number;
  max: number;
  cpuPct: number;
  rssMb: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start lateness in this process: `start` begins scheduling and calls `record(latenessMs)` for
 * every run; only runs during the `seconds` after `warmupSeconds` count. CPU and peak RSS are of
 * this process over the counted window. Starts on a second boundary plus half a second.
 */
export async function measure(seconds: number, warmupSeconds: number, start: (record: (lateness: number) => void) => Promise<() => Promise<void>>): Promise<Stats> {
  const lateness: number[] = [];
  await sleep(1500 - (Date.now() % 1000));
  let counting = false;
  const stop = await start((l) => {
    if (counting) lateness.push(l);
  });
  await sleep(warmupSeconds * 1000);
  counting = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
  await sleep(seconds * 1000);
  clearInterval(sampler);
  counting = false;
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await stop();
  lateness.sort((a, b) => a - b);
  return { runs: lateness.length, p50: percentile(lateness, 50), p99: percentile(lateness, 99), max: lateness[lateness.length - 1] ?? NaN, cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100, rssMb: rss / 2 ** 20 };
}

/**
 * `count` croner jobs firing every second in this process. Lateness is the time past the whole
 * second, so it reads correctly while croner stays under a second late.
 */
export function latenessCroner(count: number, seconds: number, warmupSeconds: number): Promise<Stats> {
  return measure(seconds, warmupSeconds, async (record) => {
    const crons = Array.from({ length: count }, () => new Cron('* * * * * *', () => record(Date.now() % 1000)));
    return async () => crons.forEach((c) => c.stop());
  });
}

export interface PhaseOptions {
  /** Kills the child when aborted. */
  signal?: AbortSignal;
  /** Kills the child after this long (default 10 min). */
  timeoutMs?: number;
}

/**
 * Runs `node --expose-gc --import tsx FILE ARGS` and returns the JSON object on the last line of
 * its stdout; fails with its stderr when it exits otherwise than 0 or is killed.
 */
export function runPhase(file: string, args: string[], opts: PhaseOptions = {}): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...args], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: opts.signal,
      timeout: opts.timeoutMs ?? 600_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => reject(e));
    child.once('close', (code, sig) => {
      if (code !== 0) return reject(new Error(`bench phase ${args.join(' ')} failed (${code ?? sig}): ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>);
      } catch {
        reject(new Error(`bench phase ${args.join(' ')} printed no JSON result: ${stdout}${stderr}`));
      }
    });
  });
}

/** A number with `d` decimals, or '-' when it is not a finite number. */
export const f = (n: number | undefined, d = 1): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : '-');

/** Columns aligned by `align` (default: the first left, the others right), a rule under the header. */
export function table(header: string[], rows: string[][], align: ('l' | 'r')[] = header.map((_, i) => (i === 0 ? 'l' : 'r'))): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
