/**
 * Renews every running lock of this process from one timer. Each lease is renewed about every
 * ttl/3; a lease is lost when a renewal says the lock is gone, or when renewals have failed for
 * 2/3 of the TTL (Redis unreachable): past that the lock may expire and another instance may take
 * over, so the run is stopped first.
 */
import { errorMessage } from '../errors.js';
import type { Clock } from './clock.js';

const TICK_MS = 100;

export interface LeaseRenewal {
  renew(): Promise<boolean>;
  ttlMs: number;
  onLost(detail: string): void;
}

interface Entry extends LeaseRenewal {
  lastOk: number;
  nextAt: number;
  inFlight: boolean;
}

export class Renewer {
  readonly #leases = new Set<Entry>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly clock: Clock) {}

  /** Starts renewing; returns the function that stops it. */
  add(lease: LeaseRenewal): () => void {
    const now = this.clock.now();
    const entry: Entry = { ...lease, lastOk: now, nextAt: now + lease.ttlMs / 3, inFlight: false };
    this.#leases.add(entry);
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
    return () => {
      this.#leases.delete(entry);
      if (this.#leases.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #tick(): void {
    const now = this.clock.now();
    for (const e of this.#leases) {
      if (e.inFlight || now < e.nextAt) continue;
      e.inFlight = true;
      e.renew()
        .then((held) => {
          if (!this.#leases.has(e)) return;
          if (held) e.lastOk = this.clock.now();
          else this.#lose(e, 'the lock expired or was taken over');
        })
        .catch((err: unknown) => {
          if (this.#leases.has(e) && this.clock.now() - e.lastOk >= (e.ttlMs * 2) / 3) {
            this.#lose(e, `renewal failing for ${this.clock.now() - e.lastOk} ms: ${errorMessage(err)}`);
          }
        })
        .finally(() => {
          e.inFlight = false;
          e.nextAt = this.clock.now() + e.ttlMs / 3;
        });
    }
  }

  #lose(e: Entry, detail: string): void {
    this.#leases.delete(e);
    e.onLost(detail);
  }
}
