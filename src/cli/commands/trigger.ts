/**
 * `iamwatch trigger JOB [--wait]`: asks the fleet to run a job now. The request goes to the
 * coordination store's trigger queue (../../coordination/triggers.ts); exactly one live instance
 * that runs the job takes it and runs it through the same pipeline as scheduled runs (running lock,
 * overlap, timeout, retries, history, notifications), recorded with who asked (user@host).
 * Without --wait it returns once an instance has taken the request; with --wait, when the run has
 * ended, with its outcome. No live instance, or none taking it within TAKE_WITHIN_MS: UNAVAILABLE,
 * the request withdrawn so it never runs later. `once` stays "run it here".
 */
import { randomUUID } from 'node:crypto';
import { errorMessage, IamwatchError } from '../../base/errors.js';
import type { Heartbeat } from '../../coordination/records.js';
import { NO_RUN, type TriggerRequest, type TriggerResult, type TriggerState } from '../../coordination/triggers.js';
import { withFleetSource, type FleetSource } from './fleet-source.js';
import { whoAmI } from '../who.js';

/** How long the fleet has to take a request (every instance polls the queue each second). */
export const TAKE_WITHIN_MS = 10_000;
const POLL_MS = 200;
/** Tries at queueing a request whose answer got lost (the same id: never two requests). */
const REQUEST_ATTEMPTS = 3;
/** While waiting for the outcome, how long the store may fail to answer before the command gives up. */
const STORE_PATIENCE_MS = 30_000;
/** While waiting for the outcome, this often the instance running it must still be alive. */
const ALIVE_CHECK_MS = 5_000;

export interface TriggerOptions {
  config?: string;
  plugin?: string[];
  allowWritableConfig?: boolean;
  job: string;
  wait: boolean;
  /** Set when the caller should stop waiting (SIGINT). */
  interrupted?: () => boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What `trigger` prints (JSON with --json): the request, who took it and, with --wait, how the run went. */
export interface TriggerReport extends TriggerResult {
  trigger: string;
  job: string;
  by: string;
  requestedAt: string;
  store: string;
  /** The instance that took the request. */
  instance: string;
  takenAt: string;
  /** `taken`: not waited for (no --wait); `done`: the run ended, the result fields are set. */
  state: 'taken' | 'done';
}

const iso = (ms: number): string => new Date(ms).toISOString();
const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function report(src: FleetSource, req: TriggerRequest, state: Exclude<TriggerState, { state: 'pending' }>): TriggerReport {
  const result = state.state === 'done' ? state.result : { ...NO_RUN, outcome: 'running' };
  return { trigger: req.id, job: req.job, by: req.by, requestedAt: iso(req.at), store: src.store.description.label, instance: state.instance, takenAt: iso(state.at), state: state.state, ...result };
}

const isUnavailable = (err: unknown): boolean => err instanceof IamwatchError && err.code === 'UNAVAILABLE';
const unavailable = (message: string, cause: unknown): IamwatchError => new IamwatchError('UNAVAILABLE', message, cause instanceof IamwatchError ? cause.details : undefined);

const live = (instances: readonly Heartbeat[]): Heartbeat[] => instances.filter((h) => h.state === 'running');

export async function triggerJob(src: FleetSource, o: TriggerOptions): Promise<TriggerReport> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? defaultSleep;
  const known = src.jobsFile.jobs.map((j) => j.name);
  if (!known.includes(o.job)) throw new IamwatchError('USAGE', `no job "${o.job}" in ${src.jobsFile.file} (jobs: ${known.join(', ') || 'none'})`);
  const label = src.store.description.label;
  const instances = live(await src.fleet.instances());
  if (instances.length === 0) {
    throw new IamwatchError('UNAVAILABLE', `no live instance in ${label} to run ${o.job}: start \`iamwatch run\`, or run it here with \`iamwatch once ${o.job}\``);
  }
  const queue = src.store.triggers();
  const id = randomUUID();
  const by = whoAmI();
  const mayRun = `it may have been queued all the same and run within ${TAKE_WITHIN_MS / 1000} s: check \`iamwatch history ${o.job}\` before trying again`;
  // A request without an answer may still have been stored: asking again with the same id is safe.
  let req: TriggerRequest | undefined;
  for (let attempt = 1; !req; attempt++) {
    try {
      req = await queue.request({ id, job: o.job, by, ttlMs: TAKE_WITHIN_MS });
    } catch (err) {
      if (!isUnavailable(err) || attempt >= REQUEST_ATTEMPTS) throw unavailable(`cannot queue the trigger of ${o.job}: ${errorMessage(err)}; ${mayRun}`, err);
      await sleep(POLL_MS);
    }
  }
  /** The request's state; a store that does not answer is tried again until `until`. */
  const stateBy = async (until: number, lost: (err: unknown) => string): Promise<TriggerState | null> => {
    for (;;) {
      try {
        return await queue.state(id);
      } catch (err) {
        if (!isUnavailable(err) || now() > until || o.interrupted?.()) throw unavailable(lost(err), err);
        await sleep(POLL_MS);
      }
    }
  };

  // Taken by an instance, or withdrawn at the deadline.
  const deadline = now() + TAKE_WITHIN_MS + 1_000;
  const lostBeforeTaken = (err: unknown): string => `lost the store while waiting for an instance to take the trigger of ${o.job} (${errorMessage(err)}); ${mayRun}`;
  let state = await stateBy(deadline, lostBeforeTaken);
  while (state?.state === 'pending') {
    if (o.interrupted?.() || now() > deadline) {
      let withdrawn: boolean;
      try {
        withdrawn = await queue.withdraw(id);
      } catch (err) {
        throw unavailable(`cannot withdraw the trigger of ${o.job} (${errorMessage(err)}); ${mayRun}`, err);
      }
      if (withdrawn) {
        if (o.interrupted?.()) throw new IamwatchError('INTERRUPTED', `interrupted: the trigger of ${o.job} was withdrawn before any instance took it`);
        const names = instances.map((h) => h.instance).join(', ');
        throw new IamwatchError('UNAVAILABLE', `no instance took the trigger of ${o.job} within ${TAKE_WITHIN_MS / 1000} s (live: ${names}); does their jobs file have ${o.job}? \`iamwatch status\` shows what each runs. The request was withdrawn`);
      }
    } else {
      await sleep(POLL_MS);
    }
    state = await stateBy(deadline + TAKE_WITHIN_MS, lostBeforeTaken);
  }
  if (state === null) throw new IamwatchError('UNAVAILABLE', `the trigger of ${o.job} is gone from ${label} (did the store restart?); \`iamwatch history ${o.job}\` shows whether it ran`);
  if (!o.wait || state.state === 'done') return report(src, req, state);

  // --wait: until the run ends, while the instance running it is alive.
  const runner = state.instance;
  let checkAliveAt = now() + ALIVE_CHECK_MS;
  for (;;) {
    if (o.interrupted?.()) throw new IamwatchError('INTERRUPTED', `interrupted: ${o.job} goes on running on ${runner}; \`iamwatch history ${o.job}\` shows how it ends`);
    await sleep(POLL_MS);
    const s = await stateBy(now() + STORE_PATIENCE_MS, (err) => `lost the store while ${runner} runs ${o.job} (${errorMessage(err)}); \`iamwatch history ${o.job}\` shows how it ends`);
    if (s === null) throw new IamwatchError('UNAVAILABLE', `the trigger of ${o.job} is gone from ${label} (did the store restart?); \`iamwatch history ${o.job}\` shows how the run on ${runner} ended`);
    if (s.state === 'done') return report(src, req, s);
    if (now() >= checkAliveAt) {
      checkAliveAt = now() + ALIVE_CHECK_MS;
      const alive = await src.fleet.instances().then(
        (list) => list.some((h) => h.instance === runner),
        () => true, // the store is slow: judged again at the next check
      );
      if (!alive) {
        throw new IamwatchError('UNAVAILABLE', `${runner}, which was running ${o.job}, is gone (no heartbeat): the run's outcome is unknown; \`iamwatch history ${o.job}\` shows what it recorded`);
      }
    }
  }
}

export async function trigger(o: TriggerOptions): Promise<TriggerReport> {
  return withFleetSource(o, (src) => triggerJob(src, o));
}

type Paint = { green(s: string): string; red(s: string): string; yellow(s: string): string; dim(s: string): string };

/** One line for people: who took it (without --wait), or how the run went (with --wait). */
export function renderTrigger(r: TriggerReport, c: Paint, waited: boolean): string {
  if (!waited) return c.green(`triggered ${r.job}: ${r.instance} took it`) + c.dim(` (trigger ${r.trigger}; \`iamwatch history ${r.job}\` shows how it went)`);
  if (r.outcome === 'held') return c.yellow(`${r.job}: not started: a run of it is in progress${r.holder ? ` on ${r.holder}` : ''}`);
  if (r.outcome === 'skipped') return c.yellow(`${r.job}: not started (${r.reason})${r.error ? `: ${r.error}` : ''}`);
  const what = r.summary ?? r.error ?? '';
  const line = `${r.job}: ${r.outcome} in ${r.durationMs} ms on ${r.instance} (fence ${r.fence}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})${what ? `: ${what}` : ''}`;
  return r.outcome === 'ok' ? c.green(line) : c.red(line);
}
