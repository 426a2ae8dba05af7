/**
 * Real `iamwatch run` processes for the scale benchmark: a temporary directory per phase holding
 * the jobs file and a no-op plugin, each instance's stdout (JSON log lines) and stderr in files
 * on disk, peak RSS and CPU sampled from /proc every 500 ms, and a register of every process
 * started so that all of them are killed at the end, on Ctrl-C or on a crash.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, cleanEnv } from '../test/helpers/cli.js';

/** Processes started by the benchmark and still running. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** SIGKILLs every process still running (the last resort: Ctrl-C, a failed phase, the end). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

let clockTicks: number | undefined;
/** Clock ticks per second, the unit of CPU times in /proc/PID/stat. */
const clkTck = (): number => (clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100);

/** VmRSS in bytes and utime+stime in seconds of a live process; null once it is gone. */
export function procSample(pid: number): { rss: number; cpuSeconds: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    if (!Number.isFinite(kb)) return null; // a zombie has no VmRSS line
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss: kb * 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clkTck() };
  } catch {
    return null;
  }
}

/** A job line for the jobs file: SCHEDULE MODE WATCHER name=… */
export const noopJobs = (count: number, schedule: string): string[] => Array.from({ length: count }, (_, i) => `${schedule} cron noop name=j${i}`);

/**
 * A private directory (0700) with `jobs.conf` (the settings, then the job lines) and the no-op
 * plugin `noop.mjs`, both 0644. Returns the jobs file's path.
 */
export function writeJobsDir(dir: string, settings: Record<string, string>, jobLines: string[]): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const plugin = path.join(dir, 'noop.mjs');
  writeFileSync(plugin, "export default { name: 'noop', options: {}, run: async () => {} };\n");
  chmodSync(plugin, 0o644);
  const file = path.join(dir, 'jobs.conf');
  const head = Object.entries({ PLUGINS: './noop.mjs', ...settings }).map(([k, v]) => `${k}=${v}`);
  writeFileSync(file, [...head, ...jobLines, ''].join('\n'));
  chmodSync(file, 0o644);
  return file;
}

export class PhaseFailed extends Error {}

/** The last `n` lines of a file (the whole file is read: stderr files are small). */
export function tail(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no output)';
  }
}

/** One `iamwatch run` process writing its log to `<dir>/<id>.log` and its stderr to `<id>.err`. */
export class Instance {
  readonly child: ChildProcess;
  readonly log: string;
  readonly err: string;
  readonly spawnedAt = Date.now();
  peakRss = 0;
  #cpu0: number | null = null;
  #cpuSeconds = 0;
  #sampler: NodeJS.Timeout;
  #exited: Promise<void>;

  constructor(readonly id: string, jobsFile: string, env: Record<string, string | undefined> = {}) {
    const dir = path.dirname(jobsFile);
    this.log = path.join(dir, `${id}.log`);
    this.err = path.join(dir, `${id}.err`);
    const out = openSync(this.log, 'w', 0o600);
    const err = openSync(this.err, 'w', 0o600);
    try {
      this.child = spawn(process.execPath, [BIN, 'run', '-c', jobsFile, '--log-format', 'json', '--no-tui', '--instance-id', id], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', out, err] });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    live.add(this.child);
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('exit', () => {
      live.delete(this.child);
      clearInterval(this.#sampler);
    });
    this.child.once('error', () => live.delete(this.child));
    this.#sampler = setInterval(() => this.sample(), 500);
    this.#sampler.unref();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Reads RSS (keeping the peak) and CPU now; the current RSS in bytes, 0 once the process is gone. */
  sample(): number {
    const s = this.child.pid === undefined ? null : procSample(this.child.pid);
    if (!s) return 0;
    this.peakRss = Math.max(this.peakRss, s.rss);
    this.#cpuSeconds = s.cpuSeconds;
    return s.rss;
  }

  /** Starts counting CPU time from now (see cpuSecondsSinceMark). */
  markCpu(): void {
    this.sample();
    this.#cpu0 = this.#cpuSeconds;
  }

  cpuSecondsSinceMark(): number {
    this.sample();
    return this.#cpu0 === null ? NaN : this.#cpuSeconds - this.#cpu0;
  }

  describeExit(): string {
    return `${this.id} exited (${this.child.exitCode ?? this.child.signalCode}); ${this.outputTails()}`;
  }

  /** The last lines of stderr and of the log, for a failure report. */
  outputTails(): string {
    return `stderr tail:\n${tail(this.err)}\nlog tail:\n${tail(this.log, 5)}`;
  }

  /**
   * Waits for the `started` log line and returns its time (epoch ms, from the line); fails when
   * the process exits first or `timeoutMs` passes.
   */
  async waitStarted(timeoutMs: number, signal: AbortSignal): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const fd = openSync(this.log, 'r');
    let offset = 0;
    let pending = '';
    const buf = Buffer.alloc(1 << 20);
    try {
      for (;;) {
        signal.throwIfAborted();
        let n: number;
        while ((n = readSync(fd, buf, 0, buf.length, offset)) > 0) {
          offset += n;
          const lines = (pending + buf.subarray(0, n).toString('utf8')).split('\n');
          pending = lines.pop()!;
          const hit = lines.find((l) => l.includes('"event":"started"'));
          if (hit) return Date.parse((JSON.parse(hit) as { time: string }).time);
        }
        if (!this.running) throw new PhaseFailed(this.describeExit());
        if (Date.now() > deadline) throw new PhaseFailed(`${this.id}: no "started" log line within ${timeoutMs / 1000} s; ${this.outputTails()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Set when stop() had to SIGKILL the process. */
  killed = false;

  /** SIGTERM (iamwatch drains), SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
