/** Is Redis / the database answering right now? Short timeouts: used by /healthz, metrics and the dashboard. */
import type { Knex } from 'knex';
import type { CoordinationStore } from '../coordination/store.js';
import { errorMessage } from '../base/errors.js';

export type Probe = { ok: true; ms: number } | { ok: false; error: string };

export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probe(work: () => Promise<unknown>, timeoutMs: number, what: string): Promise<Probe> {
  const started = Date.now();
  try {
    await withTimeout(work(), timeoutMs, what);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** Redis TIME (a round trip through the store's connection); the local store always answers. */
export const probeStore = (store: CoordinationStore, timeoutMs = 1_000): Promise<Probe> => probe(() => store.time(), timeoutMs, 'Redis');

export const probeDatabase = (db: Knex, timeoutMs = 1_000): Promise<Probe> => probe(() => db.raw('select 1'), timeoutMs, 'the database');
