/**
 * Heartbeats: every few seconds this instance publishes who and where it is, its measured clock
 * skew, how many jobs it schedules and what runs on it, with an expiry; on a clean stop it leaves.
 * Publishing never blocks the scheduler: failures are logged once per streak.
 */
import { hostname } from 'node:os';
import { Background } from './background.js';
import { HEARTBEAT_EVERY_MS, HEARTBEAT_TTL_MS, type FleetStore } from '../coordination/fleet-store.js';
import type { Logger } from '../base/logger.js';
import type { Heartbeat } from '../coordination/records.js';
import type { RunTracker } from './run-tracker.js';
import { packageVersion } from './version.js';

/** The scheduler's public surface that observers read. */
export interface SchedulerView {
  readonly skewMs: number | null;
  readonly stopping: boolean;
  readonly runningCount: number;
  readonly lastTick: number;
}

export class HeartbeatPublisher {
  readonly #background: Background;
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #jobs: number;
  #configHash: string | null;

  constructor(
    private readonly o: { fleet: FleetStore; instance: string; jobs: number; configHash?: string; scheduler: SchedulerView; tracker: RunTracker; log: Logger; now?: () => number; everyMs?: number },
  ) {
    this.#background = new Background('heartbeat', o.log, 2);
    this.#startedAt = this.#now();
    this.#jobs = o.jobs;
    this.#configHash = o.configHash ?? null;
  }

  /** A reload: the next heartbeat (sent now) announces the new job count and configuration hash. */
  reconfigure(jobs: number, configHash: string): void {
    this.#jobs = jobs;
    this.#configHash = configHash;
    if (this.#timer) this.beat();
  }

  #now(): number {
    return (this.o.now ?? Date.now)();
  }

  snapshot(): Heartbeat {
    return {
      instance: this.o.instance,
      host: hostname(),
      pid: process.pid,
      version: packageVersion(),
      startedAt: this.#startedAt,
      lastBeat: this.#now(),
      skewMs: this.o.scheduler.skewMs,
      jobs: this.#jobs,
      configHash: this.#configHash,
      state: this.o.scheduler.stopping ? 'draining' : 'running',
      running: this.o.tracker.running(),
    };
  }

  beat(): void {
    const hb = this.snapshot();
    this.#background.run(() => this.o.fleet.beat(hb, HEARTBEAT_TTL_MS));
  }

  start(): void {
    this.beat();
    this.#timer = setInterval(() => this.beat(), this.o.everyMs ?? HEARTBEAT_EVERY_MS);
    this.#timer.unref();
  }

  /** Stops beating and removes this instance's heartbeat (bounded wait). */
  async stop(timeoutMs = 2_000): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined; // a reload applied from now on must not announce this instance again
    await this.#background.flush(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.o.fleet.leave(this.o.instance).catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
