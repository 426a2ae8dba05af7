/**
 * A run's abort state. The AbortSignal is created only when something asks for it (a watcher
 * reading ctx.signal, a retry delay): a busy scheduler starts thousands of runs a second and most
 * in-process watchers never listen.
 *
 * Aborting asks the watcher to stop; a watcher that does not settle within its grace is
 * abandoned (withAbandon), and `abandon()` (a second signal, a crash) ends that grace at once.
 */
export class RunControl {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  #abandoned = false;
  readonly #listeners = new Set<() => void>();

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get abandoned(): boolean {
    return this.#abandoned;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The first reason wins. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#notify();
  }

  /** Aborts (if not yet) and stops waiting for the watcher at once. */
  abandon(reason: unknown): void {
    this.abort(reason);
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#notify();
  }

  /** Called on abort and on abandon; returns the function that stops listening. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}
