/**
 * Sends one batch of requests to a batch script (`name-<k>n.lua`, see scripts.ts): one script
 * call for all of them, or, on Redis Cluster, one call per hash slot (every key of a call must be
 * in one slot; a job's keys share its `{job}` tag), all sent in the same tick so node-redis
 * pipelines them to each node. Every request gets its own answer: its parsed reply, its own parse
 * error, or the error of the call it was in (that call's requests all get the same one).
 */
import type { Settled } from '../batcher.js';
import type { RedisConnection } from './client.js';
import { batchReplies, type ReplyParser } from './replies.js';
import { evalScript, type Script } from './scripts.js';
import { keySlot } from './slot.js';

export interface ScriptRequest {
  /** This request's keys: script.keysPerRequest of them. */
  keys: string[];
  /** This request's arguments, after the script's shared ones. */
  args: Array<string | number>;
}

/** Request indexes by the hash slot of their keys (all in one group without a cluster). */
export function groupBySlot(requests: readonly ScriptRequest[], cluster: boolean): number[][] {
  if (!cluster) return requests.length === 0 ? [] : [requests.map((_, i) => i)];
  const groups = new Map<number, number[]>();
  requests.forEach((r, i) => {
    const slot = keySlot(r.keys[0]!);
    const g = groups.get(slot);
    if (g) g.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}

async function call<R>(connection: RedisConnection, script: Script, requests: readonly ScriptRequest[], group: number[], shared: ReadonlyArray<string | number>, timeoutMs: number | undefined, parse: ReplyParser<R>): Promise<Array<Settled<R>>> {
  const keys: string[] = [];
  const args: Array<string | number> = [...shared];
  for (const i of group) {
    for (const k of requests[i]!.keys) keys.push(k);
    for (const a of requests[i]!.args) args.push(a);
  }
  let replies: unknown[];
  try {
    replies = batchReplies(script, await evalScript(connection, script, keys, args, timeoutMs), group.length);
  } catch (error) {
    return group.map(() => ({ error }));
  }
  return replies.map((reply) => {
    try {
      return { value: parse(script, reply) };
    } catch (error) {
      return { error };
    }
  });
}

/** Answers in the order of `requests`. Never rejects: a failed call is every one of its requests' error. */
export async function runBatch<R>(connection: RedisConnection, script: Script, requests: readonly ScriptRequest[], shared: ReadonlyArray<string | number>, timeoutMs: number | undefined, parse: ReplyParser<R>): Promise<Array<Settled<R>>> {
  const groups = groupBySlot(requests, connection.cluster);
  const answers = await Promise.all(groups.map((g) => call(connection, script, requests, g, shared, timeoutMs, parse)));
  const out = new Array<Settled<R>>(requests.length);
  groups.forEach((g, gi) => g.forEach((i, j) => (out[i] = answers[gi]![j]!)));
  return out;
}
