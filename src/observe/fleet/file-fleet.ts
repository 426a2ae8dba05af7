/**
 * Run history and heartbeats for the embedded default (no REDIS_URL): files in a state directory,
 * by default `.iamwatch/` next to the jobs file (IAMWATCH_STATE_DIR overrides it), named after the
 * jobs file so several files can share a directory:
 * - `<name>.history.jsonl`: one JSON record per line, appended; compacted (per-job count and age
 *   limits, written to a temporary file and renamed) once it holds twice what the limits keep;
 * - `<name>.instance.<id>.json`: the heartbeat of each running instance, replaced atomically.
 * One writer (the single instance); readers tolerate a torn last line.
 */
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newestFirst, parseHeartbeat, parseRecord, type Heartbeat, type RunRecord } from '../run-record.js';
import type { FleetStore, Retention } from './fleet-store.js';

/** The state directory for a jobs file. */
export function stateDir(jobsFile: string, env: Record<string, string | undefined> = process.env): string {
  return env.IAMWATCH_STATE_DIR ? path.resolve(env.IAMWATCH_STATE_DIR) : path.join(path.dirname(path.resolve(jobsFile)), '.iamwatch');
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export class FileFleet implements FleetStore {
  readonly kind = 'file';
  readonly #historyFile: string;
  readonly #name: string;
  /** Appends and compactions run one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  #lines: number | null = null;

  constructor(
    readonly location: string,
    jobsFile: string,
    private readonly retention: Retention,
    private readonly jobCount: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#name = safe(path.basename(jobsFile));
    this.#historyFile = path.join(location, `${this.#name}.history.jsonl`);
  }

  #serial(work: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => {});
    return next;
  }

  async #readAll(): Promise<RunRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#historyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return text.split('\n').map(parseRecord).filter((r): r is RunRecord => r !== null);
  }

  /** Newest `limit` records per job within the age limit. */
  #retained(records: RunRecord[]): RunRecord[] {
    const cutoff = this.now() - this.retention.maxAgeMs;
    const perJob = new Map<string, number>();
    return records
      .filter((r) => r.at >= cutoff)
      .sort(newestFirst)
      .filter((r) => {
        const n = (perJob.get(r.job) ?? 0) + 1;
        perJob.set(r.job, n);
        return n <= this.retention.limit;
      });
  }

  append(record: RunRecord): Promise<void> {
    return this.#serial(async () => {
      await mkdir(this.location, { recursive: true });
      this.#lines ??= (await this.#readAll()).length;
      await appendFile(this.#historyFile, `${JSON.stringify(record)}\n`);
      this.#lines++;
      if (this.#lines > 2 * this.retention.limit * Math.max(1, this.jobCount) + 100) {
        const kept = this.#retained(await this.#readAll()).reverse();
        const tmp = `${this.#historyFile}.${process.pid}.tmp`;
        await writeFile(tmp, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
        await rename(tmp, this.#historyFile);
        this.#lines = kept.length;
      }
    });
  }

  async history(job: string, limit: number): Promise<RunRecord[]> {
    return this.#retained((await this.#readAll()).filter((r) => r.job === job)).slice(0, limit);
  }

  async historyJobs(): Promise<string[]> {
    return [...new Set((await this.#readAll()).map((r) => r.job))].sort();
  }

  #beatFile(instance: string): string {
    return path.join(this.location, `${this.#name}.instance.${safe(instance)}.json`);
  }

  async beat(hb: Heartbeat, ttlMs: number): Promise<void> {
    await mkdir(this.location, { recursive: true });
    const file = this.#beatFile(hb.instance);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...hb, expiresAt: hb.lastBeat + ttlMs }));
    await rename(tmp, file);
  }

  async leave(instance: string): Promise<void> {
    await rm(this.#beatFile(instance), { force: true });
  }

  async instances(): Promise<Heartbeat[]> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const prefix = `${this.#name}.instance.`;
    const now = this.now();
    const beats = await Promise.all(
      names
        .filter((n) => n.startsWith(prefix) && n.endsWith('.json'))
        .map(async (n) => {
          const text = await readFile(path.join(this.location, n), 'utf8').catch(() => null);
          const hb = parseHeartbeat(text);
          const expiresAt = hb ? (hb as Heartbeat & { expiresAt?: number }).expiresAt ?? 0 : 0;
          return hb && expiresAt > now ? hb : null;
        }),
    );
    return beats.filter((h): h is Heartbeat => h !== null).sort((a, b) => a.instance.localeCompare(b.instance));
  }
}
