/**
 * The fleet trigger queue in Redis (../triggers.ts): a HASH of the pending requests (id -> request
 * JSON) and a STRING per request holding its state as JSON (pending, taken or done), both under the
 * `{:triggers}` hash tag (keys.ts), so each step is one script on one slot (lua/trigger-*.lua):
 * taking removes the request from the queue and marks it taken in one go, so one instance wins;
 * withdrawing deletes it, queue entry and state, only while it is pending. Every time is Redis's
 * clock, read in the scripts: an expired request is deleted from the queue by the first script that
 * meets it (its state stays pending, past its expiresAt) and is never taken. A state expires
 * TRIGGER_KEEP_MS after it last changed (a pending one: after it expires). Replies and stored
 * values are parsed strictly (replies.ts): one iamwatch did not write is an internal error.
 */
import { IamwatchError } from '../../base/errors.js';
import { TRIGGER_KEEP_MS, type TriggerProgress, type TriggerQueue, type TriggerRequest, type TriggerState } from '../triggers.js';
import type { RedisConnection } from './client.js';
import { triggerKeys, type TriggerKeys } from './keys.js';
import { parseTriggerPendingReply, parseTriggerReportReply, parseTriggerRequestReply, parseTriggerState, parseTriggerTakeReply, parseTriggerWithdrawReply, triggerResultJson } from './replies.js';
import { evalScript, SCRIPTS } from './scripts.js';

/** Oldest first; requests made in the same ms by id, so every instance sees one order. */
const byAge = (a: TriggerRequest, b: TriggerRequest): number => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A request's ttl as whole ms (at least 1); anything else is a caller's mistake. */
function triggerTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new IamwatchError('INVALID_INPUT', `a trigger request's lifetime must be a positive number of ms, not ${ttlMs}`);
  return Math.ceil(ttlMs);
}

export class RedisTriggers implements TriggerQueue {
  readonly #keys: TriggerKeys;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
  ) {
    this.#keys = triggerKeys(prefix);
  }

  async request(req: { id: string; job: string; by: string; ttlMs: number }): Promise<TriggerRequest> {
    const s = SCRIPTS.triggerRequest;
    const reply = await evalScript(this.connection, s, [this.#keys.queue, this.#keys.state(req.id)], [req.id, req.job, req.by, triggerTtl(req.ttlMs), TRIGGER_KEEP_MS]);
    const r = parseTriggerRequestReply(s, reply, req.id);
    return r.kind === 'request' ? r.request : r.state.request;
  }

  async pending(): Promise<TriggerRequest[]> {
    const s = SCRIPTS.triggerPending;
    return parseTriggerPendingReply(s, await evalScript(this.connection, s, [this.#keys.queue], [])).sort(byAge);
  }

  async take(id: string, instance: string): Promise<TriggerRequest | null> {
    const s = SCRIPTS.triggerTake;
    return parseTriggerTakeReply(s, await evalScript(this.connection, s, [this.#keys.queue, this.#keys.state(id)], [id, instance, TRIGGER_KEEP_MS]), id);
  }

  async report(id: string, progress: TriggerProgress): Promise<void> {
    const s = SCRIPTS.triggerReport;
    const result = progress.state === 'done' ? triggerResultJson(progress.result) : '';
    parseTriggerReportReply(s, await evalScript(this.connection, s, [this.#keys.state(id)], [id, progress.instance, progress.state, result, TRIGGER_KEEP_MS]));
  }

  async state(id: string): Promise<TriggerState | null> {
    const key = this.#keys.state(id);
    const json = await this.connection.send(['GET', key], key);
    return json === null ? null : parseTriggerState(`the trigger state ${key}`, json, id);
  }

  async withdraw(id: string): Promise<boolean> {
    const s = SCRIPTS.triggerWithdraw;
    return parseTriggerWithdrawReply(s, await evalScript(this.connection, s, [this.#keys.queue, this.#keys.state(id)], [id]));
  }
}
