/**
 * Runs the fleet's triggers (`iamwatch trigger JOB`, ../coordination/triggers.ts) on this
 * instance: every POLL_MS it reads the pending requests, takes the ones for jobs it runs (taking
 * is atomic: one instance of the fleet wins each), and runs each through the run pipeline with the
 * trigger's one gate (gates.ts triggerLock), so a triggered run is locked, contained, retried,
 * recorded (with who asked) and notified like any other. What became of it is reported back for
 * `trigger --wait`. Polls go through the scheduler's clock; a poll that fails is logged once per
 * streak and tried again at the next one.
 */
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import { NO_RUN, type TriggerQueue, type TriggerRequest, type TriggerResult } from '../coordination/triggers.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { Gate } from './attempt.js';
import type { Clock } from './clock.js';
import { occurrenceLabel } from './events.js';
import type { PipelineOutcome, RunPipeline } from './pipeline.js';

export const TRIGGER_POLL_MS = 1_000;

export interface TriggerRunnerDeps {
  queue: TriggerQueue;
  pipeline: RunPipeline;
  gate: Gate;
  clock: Clock;
  log: Logger;
  instance: string;
  /** The job of that name this instance runs now, if any. */
  job(name: string): JobSpec | undefined;
  /** Waits on the scheduler's timeline until `at`: false when claiming stopped. */
  hold(at: number): Promise<boolean>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What a pipeline outcome of a triggered run reports. */
export function triggerResult(job: JobSpec, outcome: PipelineOutcome): TriggerResult {
  switch (outcome.kind) {
    case 'ran': {
      const r = outcome.report;
      const summary = typeof r.result?.summary === 'string' ? r.result.summary : null;
      return {
        ...NO_RUN,
        outcome: r.outcome,
        occurrence: occurrenceLabel(job.mode, r.occurrence, r.nominal),
        fence: r.fence,
        startedAt: iso(r.startedAt),
        endedAt: iso(r.endedAt),
        durationMs: r.durationMs,
        attempts: r.attempts,
        summary,
        error: r.error ?? null,
      };
    }
    case 'held':
      return { ...NO_RUN, outcome: 'held', holder: outcome.holder?.instance ?? null };
    case 'skip':
      return { ...NO_RUN, outcome: 'skipped', reason: outcome.reason, error: outcome.detail ?? null };
    default:
      return { ...NO_RUN, outcome: 'skipped', reason: 'unavailable', error: `the run did not start (${outcome.kind})` };
  }
}

export class TriggerRunner {
  #stopped = false;
  #failing = false;

  constructor(private readonly d: TriggerRunnerDeps) {}

  start(): void {
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
  }

  async #loop(): Promise<void> {
    const { clock } = this.d;
    // Instances of a fleet poll at different phases of the second.
    let next = clock.now() + Math.floor(Math.random() * TRIGGER_POLL_MS);
    while (!this.#stopped && (await this.d.hold(next))) {
      await this.#poll();
      next = Math.max(next + TRIGGER_POLL_MS, clock.now());
    }
  }

  async #poll(): Promise<void> {
    let pending: TriggerRequest[];
    try {
      pending = await this.d.queue.pending();
      if (this.#failing) this.d.log.info({ event: 'trigger-poll-recovered' }, 'reading the trigger queue works again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.d.log.warn({ event: 'trigger-poll-failed', err: errorMessage(err) }, 'cannot read the trigger queue; trying again every second');
      this.#failing = true;
      return;
    }
    for (const req of pending) {
      const job = this.d.job(req.job);
      if (!job || this.#stopped) continue; // another instance runs that job (a fleet mid-reload)
      void this.#take(req, job);
    }
  }

  async #take(req: TriggerRequest, job: JobSpec): Promise<void> {
    const { queue, log, instance } = this.d;
    try {
      if (!(await queue.take(req.id, instance))) return; // another instance won it
    } catch (err) {
      log.warn({ event: 'trigger-take-failed', job: job.name, trigger: req.id, err: errorMessage(err) }, 'could not take a trigger request');
      return;
    }
    log.info({ event: 'triggered', job: job.name, trigger: req.id, by: req.by }, `running ${job.name} now, as ${req.by} asked (iamwatch trigger)`);
    await queue.report(req.id, { state: 'taken', instance }).catch(() => {});
    const now = this.d.clock.now();
    let result: TriggerResult;
    try {
      result = triggerResult(job, await this.d.pipeline.run({ job, id: now, nominal: now, manual: true, by: req.by, claimAt: null, startBy: null, lease: null, dryRun: false }, [this.d.gate]));
    } catch (err) {
      result = { ...NO_RUN, outcome: 'failed', error: errorMessage(err) };
    }
    try {
      await queue.report(req.id, { state: 'done', instance, result });
    } catch (err) {
      log.warn({ event: 'trigger-report-failed', job: job.name, trigger: req.id, err: errorMessage(err) }, 'could not report the triggered run\'s outcome (it is in the history)');
    }
  }
}
