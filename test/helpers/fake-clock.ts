/**
 * A clock for the scheduler core that only moves when a test says so. Timers fire in time order
 * (ties in the order they were set) as `advance` walks time forward; after each one, pending
 * promise callbacks and setImmediate work run, so async steps (a claim in the embedded store, the
 * next plan) finish before time moves on. `jump` moves time without firing what falls in
 * between first: a process that was frozen (an overloaded event loop, a suspended VM).
 */
import type { Clock } from '../../src/scheduler/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Lets promise callbacks and setImmediate work run until nothing new is queued (bounded). */
  async settle(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Moves time forward by `ms`, firing every timer due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await this.settle();
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > until) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await this.settle();
    }
    this.#now = until;
    await this.settle();
  }

  /** Moves time forward by `ms` at once; what fell due in between fires late, after the jump. */
  async jump(ms: number): Promise<void> {
    this.#now += ms;
    await this.advance(0);
  }
}
