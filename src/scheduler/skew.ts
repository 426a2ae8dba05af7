/**
 * Clock skew against the coordination store's clock, measured at start and every 30 s.
 * Above 1 s it warns; above the configured bound the scheduler refuses to claim. Other periodic
 * checks of the store's server (a restart) ride along on the same timer.
 */
import { storeFailureOf, type StoreFailureKind } from '../coordination/store-failure.js';
import type { CoordinationStore } from '../coordination/store.js';
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import type { Clock } from './clock.js';

const WARN_MS = 1_000;
const EVERY_MS = 30_000;

export class SkewMonitor {
  /** Store clock minus this clock, ms; null until measured. */
  skewMs: number | null = null;
  /** Why the latest measurement failed (`down` for anything not a timeout); null after a success. */
  lastFailure: StoreFailureKind | null = null;
  #cancel: (() => void) | undefined;
  #stopped = false;
  #measuring: Promise<number | null> | undefined;

  constructor(
    private readonly store: CoordinationStore,
    private readonly clock: Clock,
    private readonly maxSkewMs: number,
    private readonly log: Logger,
    /** Runs with every periodic measurement. */
    private readonly alongside?: () => Promise<void>,
  ) {}

  /** True when claims are allowed: skew measured and within the bound. */
  get ok(): boolean {
    return this.skewMs !== null && Math.abs(this.skewMs) <= this.maxSkewMs;
  }

  /**
   * Measures now if skew is still unknown (the store was unreachable at start), so the first
   * claims after it comes back are checked too. Concurrent callers share one measurement.
   */
  async ensureMeasured(): Promise<void> {
    if (this.skewMs !== null) return;
    this.#measuring ??= this.measure().finally(() => (this.#measuring = undefined));
    await this.#measuring;
  }

  async measure(): Promise<number | null> {
    try {
      const before = this.clock.now();
      const server = await this.store.time();
      const after = this.clock.now();
      const skew = server - Math.round((before + after) / 2);
      const wasRefusing = this.skewMs !== null && !this.ok;
      this.skewMs = skew;
      this.lastFailure = null;
      const fields = { event: 'clock-skew', skewMs: skew, maxSkewMs: this.maxSkewMs, roundTripMs: after - before };
      if (!this.ok) this.log.error(fields, `clock is ${skew} ms off the coordination store's; refusing to claim occurrences until it is within ${this.maxSkewMs} ms`);
      else if (Math.abs(skew) > WARN_MS) this.log.warn(fields, `clock is ${skew} ms off the coordination store's`);
      else if (wasRefusing) this.log.info(fields, 'clock skew back within bounds; claiming again');
      else this.log.debug(fields, 'measured clock skew');
      return skew;
    } catch (err) {
      this.lastFailure = storeFailureOf(err)?.store ?? 'down';
      this.log.debug({ event: 'clock-skew', err: errorMessage(err) }, 'could not measure clock skew');
      return null;
    }
  }

  start(): void {
    this.#stopped = false;
    this.#cancel = this.clock.setTimer(EVERY_MS, () => {
      void this.measure();
      void this.alongside?.().catch(() => {});
      if (!this.#stopped) this.start();
    }, true);
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
