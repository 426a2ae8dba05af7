/** The coordination store on Redis: the fleet's shared state. See ../store.ts for the semantics. */
import { randomUUID } from 'node:crypto';
import { CLAIM_WINDOW_MS, type AcquireResult, type ClaimResult, type CoordinationStore, type Holder, type IntervalClaimResult, type OccurrenceClaim } from '../store.js';
import type { RedisConnection } from './client.js';
import { jobKeys } from './keys.js';
import { evalScript, SCRIPTS, type Script } from './scripts.js';

type Reply = Array<string | number>;

function parseHolder(json: unknown): Holder | null {
  if (typeof json !== 'string' || json === '') return null;
  try {
    return JSON.parse(json) as Holder;
  } catch {
    return null;
  }
}

/**
 * A ZRANGE ... WITHSCORES reply as [member, score] pairs: flat [m, s, m, s] under RESP2, already
 * paired [[m, s], ...] under RESP3 (node-redis 6's default protocol).
 */
function scoredPairs(reply: unknown): Array<[string, number]> {
  const r = reply as unknown[];
  if (r.length > 0 && Array.isArray(r[0])) return (r as Array<[unknown, unknown]>).map(([m, s]) => [String(m), Number(s)]);
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < r.length; i += 2) out.push([String(r[i]), Number(r[i + 1])]);
  return out;
}

export class RedisStore implements CoordinationStore {
  readonly kind = 'redis';

  constructor(
    readonly connection: RedisConnection,
    readonly prefix: string,
  ) {}

  #eval(script: Script, keys: string[], args: Array<string | number>): Promise<unknown> {
    return evalScript(this.connection, script, keys, args);
  }

  #claimKeys(job: string): string[] {
    const k = jobKeys(this.prefix, job);
    return [k.claims, k.state, k.running, k.holders];
  }

  async claim(req: OccurrenceClaim): Promise<ClaimResult> {
    const token = randomUUID();
    const r = (await this.#eval(SCRIPTS.claim, this.#claimKeys(req.job), [
      'occurrence', token, req.ttlMs, JSON.stringify(req.holder), req.occurrence, req.skipIfRunning ? '1' : '0', CLAIM_WINDOW_MS,
    ])) as Reply;
    switch (r[0]) {
      case 'won': return { kind: 'won', fence: Number(r[1]), token };
      case 'taken': return { kind: 'taken' };
      case 'late': return { kind: 'late' };
      default: return { kind: 'running', holder: parseHolder(r[1]) };
    }
  }

  async claimInterval(req: { job: string; holder: Holder; ttlMs: number; intervalMs: number }): Promise<IntervalClaimResult> {
    const token = randomUUID();
    const r = (await this.#eval(SCRIPTS.claim, this.#claimKeys(req.job), ['interval', token, req.ttlMs, JSON.stringify(req.holder), req.intervalMs, '0', 0])) as Reply;
    switch (r[0]) {
      case 'won': return { kind: 'won', fence: Number(r[1]), generation: Number(r[2]), due: Number(r[3]), token };
      case 'wait': return { kind: 'wait', ms: Number(r[1]) };
      default: return { kind: 'running', holder: parseHolder(r[1]), ms: Number(r[2]) };
    }
  }

  async acquire(req: { job: string; holder: Holder; ttlMs: number }): Promise<AcquireResult> {
    const token = randomUUID();
    const r = (await this.#eval(SCRIPTS.claim, this.#claimKeys(req.job), ['manual', token, req.ttlMs, JSON.stringify(req.holder), 0, '0', 0])) as Reply;
    return r[0] === 'won' ? { kind: 'won', fence: Number(r[1]), token } : { kind: 'running', holder: parseHolder(r[1]) };
  }

  async renew(job: string, token: string, ttlMs: number): Promise<boolean> {
    return Number(await this.#eval(SCRIPTS.renew, [jobKeys(this.prefix, job).running], [token, ttlMs])) === 1;
  }

  async release(job: string, token: string, ended: boolean): Promise<void> {
    const k = jobKeys(this.prefix, job);
    await this.#eval(SCRIPTS.release, [k.running, k.holders, k.state], [token, ended ? '1' : '0']);
  }

  async newestClaim(job: string): Promise<number | null> {
    const [newest] = scoredPairs(await this.connection.send(['ZRANGE', jobKeys(this.prefix, job).claims, '-1', '-1', 'WITHSCORES'], jobKeys(this.prefix, job).claims));
    return newest ? newest[1] : null;
  }

  async running(job: string): Promise<Array<Holder & { expiresAt: number }>> {
    const k = jobKeys(this.prefix, job);
    const [now, entries] = await Promise.all([this.time(), this.connection.send(['ZRANGE', k.running, '0', '-1', 'WITHSCORES'], k.running).then(scoredPairs)]);
    const out: Array<Holder & { expiresAt: number }> = [];
    for (const [token, expiresAt] of entries) {
      if (expiresAt <= now) continue;
      const holder = parseHolder(await this.connection.send(['HGET', k.holders, token], k.holders));
      if (holder) out.push({ ...holder, expiresAt });
    }
    return out;
  }

  async time(): Promise<number> {
    const [s, us] = (await this.connection.send(['TIME'], this.prefix)) as [string, string];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
