/**
 * Renews every running lock of this process from one timer. Each lease is renewed about every
 * ttl/3; a lease is lost when a renewal says the lock is gone, or when no renewal has succeeded
 * for 2/3 of the TTL (Redis unreachable, or not answering): past that the lock may expire and
 * another instance may take over, so the run is stopped first. That is judged on every tick, not
 * only when a renewal fails, and from when the last good renewal was *sent* (the lock's deadline
 * is at least that plus the TTL), so a renewal that hangs cannot delay it. The store gives each
 * renewal a deadline well under ttl/3, so one without an answer counts as failed and is retried.
 */
import { errorMessage } from '../base/errors.js';
import type { Clock } from './clock.js';

const TICK_MS = 100;

export interface LeaseRenewal {
  renew(): Promise<boolean>;
  ttlMs: number;
  onLost(detail: string): void;
}

interface Entry extends LeaseRenewal {
  /** When the latest renewal that succeeded was sent (the lease's start, before the first). */
  lastOk: number;
  nextAt: number;
  inFlight: boolean;
  /** Why the latest renewal failed; null after a success. */
  failure: string | null;
}

export class Renewer {
  readonly #leases = new Set<Entry>();
  /** Cancels the pending tick; undefined while no lease is held. */
  #cancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    /** Told about every renewal that failed (not about one that found the lock gone). */
    private readonly onFailure: (err: unknown) => void = () => {},
  ) {}

  /** Starts renewing; returns the function that stops it. */
  add(lease: LeaseRenewal): () => void {
    const now = this.clock.now();
    const entry: Entry = { ...lease, lastOk: now, nextAt: now + lease.ttlMs / 3, inFlight: false, failure: null };
    this.#leases.add(entry);
    if (!this.#cancel) this.#schedule();
    return () => {
      this.#leases.delete(entry);
      if (this.#leases.size === 0) {
        this.#cancel?.();
        this.#cancel = undefined;
      }
    };
  }

  #schedule(): void {
    this.#cancel = this.clock.setTimer(TICK_MS, () => {
      this.#tick();
      if (this.#leases.size > 0) this.#schedule();
      else this.#cancel = undefined;
    });
  }

  #tick(): void {
    const now = this.clock.now();
    for (const e of this.#leases) {
      const unconfirmed = now - e.lastOk;
      if (unconfirmed >= (e.ttlMs * 2) / 3) {
        this.#lose(e, e.failure ? `renewals failing for ${unconfirmed} ms: ${e.failure}` : `no renewal answered for ${unconfirmed} ms`);
        continue;
      }
      if (e.inFlight || now < e.nextAt) continue;
      e.inFlight = true;
      const sentAt = now;
      e.renew()
        .then((held) => {
          if (!this.#leases.has(e)) return;
          if (!held) return this.#lose(e, 'the lock expired or was taken over');
          e.lastOk = Math.max(e.lastOk, sentAt);
          e.failure = null;
          e.nextAt = this.clock.now() + e.ttlMs / 3;
        })
        .catch((err: unknown) => {
          this.onFailure(err);
          if (!this.#leases.has(e)) return;
          // Retried sooner than the usual cadence: the lease has until 2/3 of the TTL.
          e.failure = errorMessage(err);
          e.nextAt = this.clock.now() + e.ttlMs / 6;
        })
        .finally(() => {
          e.inFlight = false;
        });
    }
  }

  #lose(e: Entry, detail: string): void {
    this.#leases.delete(e);
    e.onLost(detail);
  }
}
