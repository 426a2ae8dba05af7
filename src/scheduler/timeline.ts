/**
 * One timer for the whole scheduler over a priority queue of due times. Each wait is capped at
 * 30 s and the clock is re-read on every wake, so suspend/resume, clock steps and setTimeout's
 * 2^31 ms limit can't make it fire late or never.
 */
import type { Clock } from './clock.js';
import { MinHeap, type HeapEntry } from './heap.js';

const MAX_WAIT_MS = 30_000;

interface Entry extends HeapEntry {
  fn: () => void;
  cancelled: boolean;
  /** Still runs after stop(): work already committed to, like the start of a claimed occurrence. */
  committed: boolean;
}

export class Timeline {
  readonly #heap = new MinHeap<Entry>();
  #seq = 0;
  #cancel: (() => void) | undefined;
  #timerAt = Infinity;
  #stopped = false;

  constructor(private readonly clock: Clock) {}

  /** Calls `fn` at `at` (epoch ms on this clock), or at once if that has passed. Returns a canceller. */
  at(at: number, fn: () => void, committed = false): () => void {
    const entry: Entry = { at, seq: this.#seq++, fn, cancelled: this.#stopped && !committed, committed };
    this.#heap.push(entry);
    if (at < this.#timerAt) this.#arm();
    return () => {
      entry.cancelled = true;
    };
  }

  get size(): number {
    return this.#heap.size;
  }

  /** Drops every entry but the committed ones, which still run at their time. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
    this.#timerAt = Infinity;
    const kept: Entry[] = [];
    for (let e = this.#heap.pop(); e; e = this.#heap.pop()) if (e.committed && !e.cancelled) kept.push(e);
    for (const e of kept) this.#heap.push(e);
    this.#arm();
  }

  #arm(): void {
    this.#cancel?.();
    const next = this.#heap.peek();
    if (!next) {
      this.#cancel = undefined;
      this.#timerAt = Infinity;
      return;
    }
    const wait = Math.min(Math.max(0, next.at - this.clock.now()), MAX_WAIT_MS);
    this.#timerAt = this.clock.now() + wait;
    this.#cancel = this.clock.setTimer(wait, () => this.#wake());
  }

  #wake(): void {
    this.#cancel = undefined;
    this.#timerAt = Infinity;
    const now = this.clock.now();
    for (let e = this.#heap.peek(); e && e.at <= now; e = this.#heap.peek()) {
      this.#heap.pop();
      if (!e.cancelled && (e.committed || !this.#stopped)) e.fn();
    }
    this.#arm();
  }
}
