/**
 * What this instance has seen of its jobs since it started, from run events: runs in progress
 * here, each job's last outcome, ok/failed counts, and the last skip. The dashboard and the
 * heartbeat read it; nothing is stored.
 */
import { occurrenceLabel, type EventSink, type RunEvent, type SkipReason } from '../scheduler/events.js';
import { recordOf } from './run-record.js';
import { type RunRecord, type RunningEntry } from '../coordination/records.js';

export interface JobTally {
  ok: number;
  failed: number;
  skipped: number;
  last?: RunRecord;
  /** The newest event was a skip (cleared when a run starts). */
  skip?: { reason: SkipReason; holder?: string; at: number };
}

export class RunTracker implements EventSink {
  readonly #running = new Map<string, RunningEntry>();
  readonly #tallies = new Map<string, JobTally>();

  constructor(private readonly now: () => number = Date.now) {}

  #tally(job: string): JobTally {
    let t = this.#tallies.get(job);
    if (!t) this.#tallies.set(job, (t = { ok: 0, failed: 0, skipped: 0 }));
    return t;
  }

  emit(e: RunEvent): void {
    const key = `${e.job}\u0000${e.occurrence}\u0000${'fence' in e ? e.fence : ''}`;
    switch (e.event) {
      case 'run-started':
        if (e.attempt === 1) this.#running.set(key, { job: e.job, occurrence: occurrenceLabel(e.mode, e.occurrence, e.nominal), fence: e.fence, startedAt: this.now() });
        delete this.#tally(e.job).skip;
        return;
      case 'run-finished': {
        this.#running.delete(key);
        const t = this.#tally(e.job);
        if (e.outcome === 'ok') t.ok++;
        else t.failed++;
        t.last = recordOf(e, this.now()) ?? undefined;
        return;
      }
      case 'occurrence-skipped': {
        const t = this.#tally(e.job);
        t.skipped++;
        t.skip = { reason: e.reason, holder: e.holder, at: this.now() };
        return;
      }
      default:
        return;
    }
  }

  running(): RunningEntry[] {
    return [...this.#running.values()];
  }

  tally(job: string): JobTally {
    return this.#tally(job);
  }
}
