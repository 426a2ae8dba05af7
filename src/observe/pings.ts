/**
 * Check-in pings (`ping=URL`): a request when a run starts, succeeds and fails, so a monitor
 * outside the fleet notices a job that stops running even when every instance is down. Two URL
 * forms, as the common monitors take them:
 * - healthchecks (healthchecks.io and compatible): URL/start, URL, URL/fail;
 * - cronitor (Cronitor's ping API): URL?state=run, URL?state=complete, URL?state=fail.
 * Requests go out in the background with a timeout and one retry; the scheduler never waits for
 * them. Credentials in the URL are sent as basic auth; URLs are logged redacted.
 */
import type { Logger } from '../base/logger.js';
import { redactUrl } from '../base/redact.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { EventSink, RunEvent } from '../scheduler/events.js';
import { Background } from './background.js';
import { webhookTarget } from './notify.js';
import { packageVersion } from './version.js';

export type PingStyle = 'healthchecks' | 'cronitor';
export type PingState = 'start' | 'success' | 'fail';

/** The URL that reports `state` for a job's ping URL. */
export function pingUrl(base: string, style: PingStyle, state: PingState): string {
  const u = new URL(base);
  if (style === 'cronitor') {
    u.searchParams.set('state', state === 'start' ? 'run' : state === 'success' ? 'complete' : 'fail');
  } else if (state !== 'success') {
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/${state}`;
  }
  return u.toString();
}

export class PingSink implements EventSink {
  #jobs: Map<string, { url: string; style: PingStyle }>;
  readonly #background: Background;

  constructor(
    jobs: readonly JobSpec[],
    private readonly log: Logger,
    private readonly timeoutMs = 5_000,
  ) {
    this.#jobs = PingSink.#targets(jobs);
    this.#background = new Background('ping', log, 200);
  }

  static #targets(jobs: readonly JobSpec[]): Map<string, { url: string; style: PingStyle }> {
    return new Map(jobs.filter((j) => j.ping !== undefined).map((j) => [j.name, { url: j.ping!, style: j.pingStyle }]));
  }

  /**
   * A reloaded jobs file: its jobs' ping= apply from the next event. A job no longer in the file
   * keeps its target, so a run of it still in progress still pings its end.
   */
  reconfigure(jobs: readonly JobSpec[]): void {
    const next = PingSink.#targets(jobs);
    for (const j of jobs) if (j.ping === undefined) this.#jobs.delete(j.name);
    this.#jobs = new Map([...this.#jobs, ...next]);
  }

  emit(e: RunEvent): void {
    const ping = this.#jobs.get(e.job);
    if (!ping) return;
    let state: PingState;
    if (e.event === 'run-started' && e.attempt === 1) state = 'start';
    else if (e.event === 'run-finished') state = e.outcome === 'ok' ? 'success' : 'fail';
    else return;
    const url = pingUrl(ping.url, ping.style, state);
    this.#background.run(() => this.#send(url, e.job, state));
  }

  async #send(url: string, job: string, state: PingState): Promise<void> {
    const target = webhookTarget(url);
    let last = '';
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const res = await fetch(target.url, { method: 'GET', headers: { 'user-agent': `iamwatch/${packageVersion()}`, ...target.headers }, signal: AbortSignal.timeout(this.timeoutMs) });
        await res.body?.cancel().catch(() => {});
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break;
      } catch (err) {
        last = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : ((err.cause as Error | undefined)?.message ?? err.message)) : String(err);
      }
    }
    this.log.warn({ event: 'ping-failed', job, state, url: redactUrl(url), err: last }, `check-in ping (${state}) for ${job} not delivered: ${last}`);
  }

  flush(timeoutMs: number): Promise<void> {
    return this.#background.flush(timeoutMs);
  }
}
