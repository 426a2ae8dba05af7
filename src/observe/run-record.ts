/**
 * Run records built from run events: a finished run or a skipped occurrence, redacted once here,
 * in the shape the coordination store keeps (../coordination/records.ts).
 */
import { redactText } from '../base/redact.js';
import type { RunRecord } from '../coordination/records.js';
import { occurrenceLabel, type RunEvent } from '../scheduler/events.js';

/** A record for run-finished and occurrence-skipped events; null for every other event. */
export function recordOf(e: RunEvent, now: number): RunRecord | null {
  const base = { job: e.job, mode: e.mode, occurrence: occurrenceLabel(e.mode, e.occurrence, e.nominal), nominal: new Date(e.nominal).toISOString(), instance: e.instance };
  if (e.event === 'run-finished') {
    const summary = typeof e.result?.summary === 'string' ? redactText(e.result.summary) : undefined;
    return {
      ...base,
      fence: e.fence,
      outcome: e.outcome,
      startedAt: new Date(e.startedAt).toISOString(),
      endedAt: new Date(e.endedAt).toISOString(),
      durationMs: e.durationMs,
      latenessMs: e.latenessMs,
      attempts: e.attempts,
      manual: e.manual,
      ...(e.by ? { by: e.by } : {}),
      ...(summary ? { summary } : {}),
      ...(e.error ? { error: redactText(e.error) } : {}),
      at: e.endedAt,
    };
  }
  if (e.event === 'occurrence-skipped') {
    return {
      ...base,
      fence: null,
      outcome: 'skipped',
      reason: e.reason,
      ...(e.holder ? { holder: e.holder } : {}),
      startedAt: null,
      endedAt: null,
      durationMs: null,
      latenessMs: null,
      attempts: 0,
      manual: e.manual ?? false,
      ...(e.by ? { by: e.by } : {}),
      ...(e.detail ? { error: redactText(e.detail) } : {}),
      at: now,
    };
  }
  return null;
}
