/**
 * Run events as log lines: the level says how much an operator should care. Secrets are redacted
 * by the logger itself (logger.ts), for every line, so nothing here redacts again.
 */
import { occurrenceLabel, type EventSink, type RunEvent } from '../scheduler/events.js';
import type { Logger } from '../base/logger.js';

export class LogSink implements EventSink {
  constructor(private readonly log: Logger) {}

  emit(e: RunEvent): void {
    const occurrence = occurrenceLabel(e.mode, e.occurrence, e.nominal);
    const common = { event: e.event, job: e.job, occurrence };
    switch (e.event) {
      case 'run-started':
        return this.log.info({ ...common, fence: e.fence, attempt: e.attempt, latenessMs: e.latenessMs, manual: e.manual || undefined, by: e.by }, e.attempt > 1 ? `retry ${e.attempt - 1} started` : 'run started');
      case 'run-retry':
        return this.log.warn({ ...common, fence: e.fence, attempt: e.attempt, err: e.error, delayMs: e.delayMs }, `attempt ${e.attempt} failed; retrying in ${e.delayMs} ms`);
      case 'run-finished': {
        const fields = { ...common, fence: e.fence, outcome: e.outcome, attempts: e.attempts, durationMs: e.durationMs, result: e.result, err: e.error, manual: e.manual || undefined, by: e.by };
        const summary = e.result?.summary ? `: ${e.result.summary}` : e.error ? `: ${e.error}` : '';
        if (e.outcome === 'ok') return this.log.info(fields, `run ok in ${e.durationMs} ms${summary}`);
        if (e.outcome === 'aborted') return this.log.warn(fields, `run aborted by shutdown after ${e.durationMs} ms`);
        return this.log.error(fields, `run ${e.outcome} after ${e.durationMs} ms${summary}`);
      }
      case 'occurrence-skipped': {
        const fields = { ...common, event: 'skipped', reason: e.reason, holder: e.holder, detail: e.detail, lateMs: e.lateMs };
        const detail = e.detail ? ` (${e.detail})` : '';
        switch (e.reason) {
          case 'overlap':
            return this.log.info(fields, `skipped: still running${e.holder ? ` on ${e.holder}` : ''} (overlap=skip)`);
          case 'redis-unavailable':
            return this.log.warn(fields, `skipped: Redis is unreachable, so the occurrence could not be claimed${detail}`);
          case 'redis-slow':
            return this.log.warn(fields, `skipped: Redis did not answer the claim in time, so the run would have started late${detail}`);
          case 'overloaded':
            return this.log.warn(fields, `skipped: this instance is overloaded, too late to start the run on time${detail}`);
          case 'paused':
            return this.log.info(fields, `skipped: the job is paused${detail}`);
          default:
            return this.log.warn(fields, `skipped: ${e.reason}${detail}`);
        }
      }
      case 'lock-renewed':
        return this.log.debug({ ...common, fence: e.fence, held: e.held }, e.held ? 'running lock renewed' : 'running lock found gone');
      case 'occurrence-taken':
        return this.log.debug({ ...common, event: 'claimed-elsewhere' }, 'claimed by another run');
    }
  }
}
