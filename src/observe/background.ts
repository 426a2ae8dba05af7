/**
 * Fire-and-forget work that must never block or crash the scheduler: a bounded set of in-flight
 * promises, failures logged once per streak (not once per write), and a flush with a deadline
 * for shutdown, so the last records are written before Redis is closed.
 */
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';

export class Background {
  readonly #pending = new Set<Promise<void>>();
  #failing = false;
  #dropped = 0;

  constructor(
    private readonly what: string,
    private readonly log: Logger,
    private readonly maxPending = 1_000,
  ) {}

  get pending(): number {
    return this.#pending.size;
  }

  run(work: () => Promise<void>): void {
    if (this.#pending.size >= this.maxPending) {
      if (this.#dropped++ === 0) this.log.warn({ event: `${this.what}-dropped` }, `${this.what}: too many writes in flight; dropping some`);
      return;
    }
    const p = Promise.resolve()
      .then(work)
      .then(
        () => {
          if (this.#failing) this.log.info({ event: `${this.what}-resumed`, dropped: this.#dropped || undefined }, `${this.what}: writes work again`);
          this.#failing = false;
          this.#dropped = 0;
        },
        (err: unknown) => {
          if (!this.#failing) this.log.warn({ event: `${this.what}-failed`, err: errorMessage(err) }, `${this.what}: write failed (further failures are not logged until one succeeds)`);
          this.#failing = true;
        },
      )
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Waits for in-flight work, at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.#pending]), deadline]);
    clearTimeout(timer);
  }
}
