/**
 * What iamwatch tells operators about the coordination server itself. At start: a warning when it
 * keeps nothing on disk, since claims, locks and run history then vanish when it restarts. While
 * running (checked with the clock-skew measurement): a warning when its run id changed, i.e. it
 * restarted or failed over, so what was lost is not lost silently. Stores without a server (the
 * embedded one) have neither check.
 */
import type { CoordinationStore, StorePersistence } from '../coordination/store.js';
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';

export class ServerWatch {
  #persistence: StorePersistence | null = null;
  #runId: string | null = null;
  #runIdUnavailable = false;

  constructor(
    private readonly store: CoordinationStore,
    private readonly log: Logger,
  ) {}

  /** The start-up checks: persistence, and the run id later checks compare against. */
  async start(): Promise<void> {
    await Promise.all([this.#checkPersistence(), this.checkRestart()]);
  }

  /** The periodic check: a restart or failover; persistence, if it could not be checked yet. */
  async check(): Promise<void> {
    await Promise.all([this.#persistence ? undefined : this.#checkPersistence(), this.checkRestart()]);
  }

  async #checkPersistence(): Promise<void> {
    if (!this.store.persistence) return;
    let p: StorePersistence;
    try {
      p = await this.store.persistence();
    } catch (err) {
      // Unreachable or slow now: checked again with the next skew measurement.
      this.log.debug({ event: 'redis-persistence', err: errorMessage(err) }, 'could not check Redis persistence yet');
      return;
    }
    this.#persistence = p;
    const fields = { event: 'redis-persistence', persistence: p.kind, detail: p.detail };
    switch (p.kind) {
      case 'none':
        return this.log.warn(fields, `Redis has no persistence (${p.detail}): if it restarts, every claim, running lock and run record is lost, and an occurrence in flight then may run twice. Enable appendonly (AOF) on the Redis server`);
      case 'rdb':
        return this.log.info(fields, `Redis persists RDB snapshots only (${p.detail}): if it restarts, claims and run records since the last snapshot are lost`);
      case 'aof':
        return this.log.debug(fields, `Redis persists an append-only file (${p.detail})`);
      case 'unknown':
        return this.log.debug(fields, `could not check whether Redis persists its data: ${p.detail}`);
    }
  }

  /** Compares the server's run id with the last one seen; a change is a restart or failover. */
  async checkRestart(): Promise<void> {
    if (!this.store.serverRunId) return;
    let id: string | null;
    try {
      id = await this.store.serverRunId();
    } catch {
      return; // unreachable: nothing to compare, the next check will tell
    }
    if (id === null) {
      if (!this.#runIdUnavailable) this.log.debug({ event: 'redis-run-id' }, 'INFO server is not allowed: a Redis restart would not be noticed');
      this.#runIdUnavailable = true;
      return;
    }
    const previous = this.#runId;
    this.#runId = id;
    if (previous === null || previous === id) return;
    const fields = { event: 'redis-restarted', previousRunId: previous, runId: id, persistence: this.#persistence?.kind };
    if (this.#persistence?.kind === 'aof') {
      this.log.info(fields, 'Redis restarted or failed over (its run id changed); it persists an append-only file, so claims should have survived');
      return;
    }
    const lost = this.#persistence?.kind === 'rdb' ? 'claims and run history since its last RDB snapshot are gone' : 'claims, running locks and run history from before it are gone';
    this.log.warn(fields, `Redis restarted or failed over (its run id changed): ${lost}; an occurrence in flight at that moment may run twice`);
  }
}
