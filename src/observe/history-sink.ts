/** Records every finished run and skipped occurrence in the fleet store, in the background. */
import type { EventSink, RunEvent } from '../scheduler/events.js';
import { Background } from './background.js';
import type { FleetStore } from '../coordination/fleet-store.js';
import type { Logger } from '../base/logger.js';
import { recordOf } from './run-record.js';

export class HistorySink implements EventSink {
  readonly #background: Background;

  constructor(
    private readonly fleet: FleetStore,
    log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#background = new Background('history', log);
  }

  emit(e: RunEvent): void {
    const record = recordOf(e, this.now());
    if (record) this.#background.run(() => this.fleet.append(record));
  }

  flush(timeoutMs: number): Promise<void> {
    return this.#background.flush(timeoutMs);
  }
}
