/**
 * What happens to occurrences and runs, as events. The logger, run history, metrics, the
 * dashboard and notifications all listen here; the scheduler knows none of them.
 */
import type { Mode } from '../jobsfile/job.js';
import type { Outcome, SkipReason } from '../base/outcomes.js';
import type { RunResult } from '../watchers/define-watcher.js';

export type { Outcome, SkipReason } from '../base/outcomes.js';

/** Where an event happened: every event names its job, occurrence and instance. */
interface At {
  job: string;
  mode: Mode;
  /** Occurrence id: nominal ms for cron and rate, generation for interval. */
  occurrence: number;
  nominal: number;
  instance: string;
}

/** How a run went: what `once` prints and history records. */
export interface RunSummary {
  job: string;
  occurrence: number;
  nominal: number;
  fence: number;
  attempts: number;
  outcome: Outcome;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  result?: RunResult;
  error?: string;
}

export type RunEvent =
  | ({ event: 'run-started'; fence: number; attempt: number; latenessMs: number; manual: boolean; by?: string } & At)
  | ({ event: 'run-retry'; fence: number; attempt: number; error: string; delayMs: number } & At)
  | ({ event: 'run-finished'; latenessMs: number; manual: boolean; by?: string } & At & RunSummary)
  /** `lateMs`: overloaded skips, how late the loop woke (after the claim time, or the start). `manual`: a trigger's. */
  | ({ event: 'occurrence-skipped'; reason: SkipReason; holder?: string; detail?: string; lateMs?: number; manual?: boolean; by?: string } & At)
  /** A running lock's renewal: `held` false means the lock was found gone. */
  | ({ event: 'lock-renewed'; fence: number; held: boolean } & At)
  /** Claimed by another run: normal in a fleet, logged at debug level. */
  | ({ event: 'occurrence-taken' } & At);

export interface EventSink {
  emit(event: RunEvent): void;
}

/** Fans events out to several sinks; a failing sink never disturbs the scheduler. */
export class EventBus implements EventSink {
  readonly #sinks: EventSink[] = [];

  constructor(private readonly onSinkError: (err: unknown) => void = () => {}) {}

  add(sink: EventSink): void {
    this.#sinks.push(sink);
  }

  emit(event: RunEvent): void {
    for (const sink of this.#sinks) {
      try {
        sink.emit(event);
      } catch (err) {
        this.onSinkError(err);
      }
    }
  }
}

/** How an occurrence is shown: its nominal time for cron and rate, its generation for interval. */
export function occurrenceLabel(mode: Mode, occurrence: number, nominal: number): string {
  return mode === 'interval' ? `gen:${occurrence}` : new Date(nominal).toISOString();
}
