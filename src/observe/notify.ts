/**
 * Failure webhooks: a JSON POST to the job's `notify=` URL (else NOTIFY_URL) when a run fails,
 * times out or loses its lock, and on success too with `notify-on=always`. Each delivery has a
 * timeout and a bounded number of retries with exponential backoff (on network errors, 408, 429
 * and 5xx), runs in the background and never blocks the scheduler. Texts are redacted; the URL
 * itself is logged redacted.
 */
import { hostname } from 'node:os';
import type { JobSpec } from '../jobsfile/job.js';
import type { EventSink, RunEvent } from '../scheduler/events.js';
import { Background } from './background.js';
import type { Logger } from '../base/logger.js';
import { redactDeep, redactUrl } from '../base/redact.js';
import { recordOf } from './run-record.js';
import { type RunRecord } from '../coordination/records.js';
import { packageVersion } from './version.js';

export interface NotifyOptions {
  jobs: readonly JobSpec[];
  /** NOTIFY_URL: the default for jobs without notify=. */
  defaultUrl?: string;
  log: Logger;
  timeoutMs?: number;
  /** Attempts in all (first try plus retries). */
  attempts?: number;
  backoffMs?: number;
  now?: () => number;
}

/** What a webhook receives. */
export interface NotifyPayload {
  source: 'iamwatch';
  version: string;
  type: 'run-failed' | 'run-timeout' | 'run-lock-lost' | 'run-ok';
  host: string;
  run: Omit<RunRecord, 'at'>;
  /** A one-line human summary (for chat hooks). */
  text: string;
}

/**
 * fetch refuses URLs with credentials: `https://user:pass@host/hook` is sent to
 * `https://host/hook` with the credentials as an HTTP basic Authorization header.
 */
export function webhookTarget(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { url, headers: {} };
  const credentials = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), headers: { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` } };
}

const NOTIFY_OUTCOMES = new Set(['failed', 'timeout', 'lock-lost']);
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export class NotifySink implements EventSink {
  #jobs: Map<string, JobSpec>;
  #defaultUrl: string | undefined;
  readonly #background: Background;

  constructor(private readonly o: NotifyOptions) {
    this.#jobs = new Map(o.jobs.map((j) => [j.name, j]));
    this.#defaultUrl = o.defaultUrl;
    this.#background = new Background('notify', o.log, 100);
  }

  /**
   * A reloaded jobs file: its jobs' notify= and its NOTIFY_URL apply from the next run's end. A job
   * no longer in the file keeps its entry, so a run of it still in progress is notified as it was.
   */
  reconfigure(jobs: readonly JobSpec[], defaultUrl: string | undefined): void {
    this.#jobs = new Map([...this.#jobs, ...jobs.map((j): [string, JobSpec] => [j.name, j])]);
    this.#defaultUrl = defaultUrl;
  }

  emit(e: RunEvent): void {
    if (e.event !== 'run-finished') return;
    const job = this.#jobs.get(e.job);
    const url = job?.notify ?? this.#defaultUrl;
    if (!url) return;
    if (!NOTIFY_OUTCOMES.has(e.outcome) && !(e.outcome === 'ok' && job?.notifyOn === 'always')) return;
    const record = recordOf(e, (this.o.now ?? Date.now)());
    if (!record) return;
    const { at: _at, ...run } = record;
    const type = `run-${e.outcome}` as NotifyPayload['type'];
    const what = record.summary ?? record.error;
    const payload: NotifyPayload = redactDeep({
      source: 'iamwatch',
      version: packageVersion(),
      type,
      host: hostname(),
      run,
      text: `iamwatch: job ${e.job} ${e.outcome} on ${e.instance} (occurrence ${record.occurrence}, ${e.durationMs} ms)${what ? `: ${what}` : ''}`,
    });
    this.#background.run(() => this.#deliver(url, payload));
  }

  async #deliver(url: string, payload: NotifyPayload): Promise<void> {
    const attempts = this.o.attempts ?? 4;
    const body = JSON.stringify(payload);
    const target = webhookTarget(url);
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': `iamwatch/${packageVersion()}`, ...target.headers },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 5_000),
        });
        await res.body?.cancel().catch(() => {});
        if (res.ok) {
          this.o.log.debug({ event: 'notified', job: payload.run.job, url: redactUrl(url), status: res.status, attempt }, 'webhook delivered');
          return;
        }
        lastError = `HTTP ${res.status}`;
        if (!retryable(res.status)) break;
      } catch (err) {
        lastError = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : ((err.cause as Error | undefined)?.message ?? err.message)) : String(err);
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 500) * 2 ** (attempt - 1)));
    }
    this.o.log.warn({ event: 'notify-failed', job: payload.run.job, url: redactUrl(url), err: lastError }, `webhook for ${payload.run.job} not delivered: ${lastError}`);
  }

  /** Waits for deliveries in flight (shutdown), at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void> {
    return this.#background.flush(timeoutMs);
  }
}
