/**
 * The Lua scripts' replies (lua/*.lua, each header lists them), parsed strictly into the store's
 * typed results: a wrong tag, a missing or extra field, or a field of the wrong type is an
 * internal error naming the script and quoting the reply (../internal-error.ts), never mapped to
 * a default. Only the JSON values inside a reply are read leniently: a holder that doesn't parse
 * (a torn or foreign write) is null, as the store's types allow, and a pause that doesn't parse is
 * still a pause (the script judged the job paused), with what could be read of it. Running-lock
 * tokens are the store's own and are added by it; these results carry none. Trigger requests and
 * their states (../triggers.ts) are read strictly, JSON included: what the asker is told about a
 * run must be what an instance reported, so a value that does not parse is an internal error too.
 */
import { internalError } from '../internal-error.js';
import type { Holder, Pause } from '../store.js';
import type { TriggerRequest, TriggerResult, TriggerState } from '../triggers.js';
import type { Script } from './scripts.js';

type Paused = { kind: 'paused'; pause: Pause };
export type ClaimReply = { kind: 'won'; fence: number } | { kind: 'taken' } | { kind: 'late' } | { kind: 'running'; holder: Holder | null } | Paused;
export type IntervalReply = { kind: 'won'; fence: number; generation: number; due: number } | { kind: 'wait'; ms: number } | { kind: 'running'; holder: Holder | null; ms: number } | Paused;
export type AcquireReply = { kind: 'won'; fence: number } | { kind: 'running'; holder: Holder | null } | Paused;

/** Parses one request's reply; throws an internal error for anything else. */
export type ReplyParser<R> = (script: Script, reply: unknown) => R;

/** A holder's JSON as stored; '' (no holder found) and anything that doesn't parse are null. */
export function parseHolder(json: string): Holder | null {
  if (json === '') return null;
  try {
    const h = JSON.parse(json) as unknown;
    return typeof h === 'object' && h !== null && typeof (h as Holder).instance === 'string' ? (h as Holder) : null;
  } catch {
    return null;
  }
}

/**
 * A pause's JSON as stored ({at, by, until, reason}). Fields that are missing or of the wrong
 * type read as unknown (`by` 'unknown', `at` 0) or absent (`until`, `reason` null).
 */
export function parsePause(json: string): Pause {
  let p: Record<string, unknown> = {};
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) p = v as Record<string, unknown>;
  } catch {
    // a torn or foreign write: still a pause
  }
  const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    by: typeof p.by === 'string' && p.by !== '' ? p.by : 'unknown',
    at: num(p.at) ?? 0,
    until: num(p.until),
    reason: typeof p.reason === 'string' && p.reason !== '' ? p.reason : null,
  };
}

class Fields {
  constructor(
    readonly script: Script,
    readonly reply: unknown,
    readonly items: readonly unknown[],
  ) {}

  fail(what: string): never {
    throw internalError(`the ${this.script.name} script`, what, this.reply);
  }

  arity(n: number): this {
    if (this.items.length !== n) this.fail(`'${String(this.items[0])}' with ${this.items.length - 1} fields, expected ${n - 1}`);
    return this;
  }

  integer(i: number, name: string): number {
    const v = this.items[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(`${name} is not an integer`);
    return v;
  }

  text(i: number, name: string): string {
    const v = this.items[i];
    if (typeof v !== 'string') this.fail(`${name} is not a string`);
    return v;
  }
}

/** A tagged reply ({'won', ...}) as its tag and fields. */
function tagged(script: Script, reply: unknown): { tag: string; f: Fields } {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw internalError(`the ${script.name} script`, 'not a tagged reply', reply);
  return { tag: reply[0], f: new Fields(script, reply, reply) };
}

function paused(f: Fields): Paused {
  f.arity(2);
  const json = f.text(1, 'the pause');
  if (json === '') f.fail('the pause is empty');
  return { kind: 'paused', pause: parsePause(json) };
}

function running(f: Fields): { kind: 'running'; holder: Holder | null; ms: number } {
  f.arity(3);
  return { kind: 'running', holder: parseHolder(f.text(1, 'the holder')), ms: f.integer(2, 'the lock\'s time left') };
}

export const parseClaimReply: ReplyParser<ClaimReply> = (script, reply) => {
  const { tag, f } = tagged(script, reply);
  switch (tag) {
    case 'won': return { kind: 'won', fence: f.arity(2).integer(1, 'the fence') };
    case 'taken': f.arity(1); return { kind: 'taken' };
    case 'late': f.arity(1); return { kind: 'late' };
    case 'running': return { kind: 'running', holder: running(f).holder };
    case 'paused': return paused(f);
    default: return f.fail(`unknown tag '${tag}'`);
  }
};

export const parseIntervalReply: ReplyParser<IntervalReply> = (script, reply) => {
  const { tag, f } = tagged(script, reply);
  switch (tag) {
    case 'won': f.arity(4); return { kind: 'won', fence: f.integer(1, 'the fence'), generation: f.integer(2, 'the generation'), due: f.integer(3, 'the due time') };
    case 'wait': return { kind: 'wait', ms: f.arity(2).integer(1, 'the wait') };
    case 'running': return running(f);
    case 'paused': return paused(f);
    default: return f.fail(`unknown tag '${tag}'`);
  }
};

export const parseAcquireReply: ReplyParser<AcquireReply> = (script, reply) => {
  const { tag, f } = tagged(script, reply);
  switch (tag) {
    case 'won': return { kind: 'won', fence: f.arity(2).integer(1, 'the fence') };
    case 'running': return { kind: 'running', holder: running(f).holder };
    case 'paused': return paused(f);
    default: return f.fail(`unknown tag '${tag}'`);
  }
};

/** pause-set-1n, pause-lift-1n, pause-get-1n: a pause's JSON, or '' (not paused: null). */
export const parsePauseReply: ReplyParser<Pause | null> = (script, reply) => {
  if (typeof reply !== 'string') throw internalError(`the ${script.name} script`, 'not a pause or \'\'', reply);
  return reply === '' ? null : parsePause(reply);
};

/** renew-1n, release-3n: 1 (held) or 0 (not). */
export const parseFlag: ReplyParser<boolean> = (script, reply) => {
  if (reply === 1 || reply === 0) return reply === 1;
  throw internalError(`the ${script.name} script`, 'not 0 or 1', reply);
};

/** history-append-1n: the list's length. */
export const parseLength: ReplyParser<number> = (script, reply) => {
  if (typeof reply === 'number' && Number.isSafeInteger(reply) && reply >= 0) return reply;
  throw internalError(`the ${script.name} script`, 'not a length', reply);
};

/** A batch script's reply: an array of one reply per request. */
export function batchReplies(script: Script, reply: unknown, requests: number): unknown[] {
  if (!Array.isArray(reply)) throw internalError(`the ${script.name} script`, `not a list of ${requests} replies`, reply);
  if (reply.length !== requests) throw internalError(`the ${script.name} script`, `${reply.length} replies for ${requests} requests`, reply.length > 20 ? `${reply.length} replies` : reply);
  return reply;
}

/**
 * A value parsed from JSON as stored (a trigger request, its state or a run's result), read
 * strictly: anything that is not JSON, a missing field or one of the wrong type is an internal error
 * naming `source` and quoting `raw`. Fields iamwatch does not know (a newer version's) are left out.
 */
class Json {
  constructor(
    readonly source: string,
    readonly raw: unknown,
  ) {}

  fail(what: string): never {
    throw internalError(this.source, what, this.raw);
  }

  parse(text: string, what: string): Record<string, unknown> {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return this.fail(`${what} is not JSON`);
    }
    return this.object(v, what);
  }

  object(v: unknown, what: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${what} is not a JSON object`);
    return v as Record<string, unknown>;
  }

  text(o: Record<string, unknown>, name: string): string {
    const v = o[name];
    if (typeof v !== 'string') this.fail(`${name} is not a string`);
    return v;
  }

  integer(o: Record<string, unknown>, name: string): number {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(`${name} is not an integer`);
    return v;
  }

  number(o: Record<string, unknown>, name: string): number {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${name} is not a number`);
    return v;
  }

  textOrNull(o: Record<string, unknown>, name: string): string | null {
    return o[name] === null ? null : this.text(o, name);
  }

  numberOrNull(o: Record<string, unknown>, name: string): number | null {
    return o[name] === null ? null : this.number(o, name);
  }
}

function triggerRequestOf(j: Json, v: unknown, id: string): TriggerRequest {
  const o = j.object(v, 'the request');
  const req: TriggerRequest = { id: j.text(o, 'id'), job: j.text(o, 'job'), by: j.text(o, 'by'), at: j.integer(o, 'at'), expiresAt: j.integer(o, 'expiresAt') };
  if (req.id !== id) j.fail(`the request is ${JSON.stringify(req.id)}, not ${JSON.stringify(id)}`);
  return req;
}

/** A run's result as an instance reported it (TriggerResult), strictly. */
function triggerResultOf(j: Json, v: unknown): TriggerResult {
  const o = j.object(v, 'the result');
  return {
    outcome: j.text(o, 'outcome'),
    reason: j.textOrNull(o, 'reason'),
    holder: j.textOrNull(o, 'holder'),
    occurrence: j.textOrNull(o, 'occurrence'),
    fence: j.numberOrNull(o, 'fence'),
    startedAt: j.textOrNull(o, 'startedAt'),
    endedAt: j.textOrNull(o, 'endedAt'),
    durationMs: j.numberOrNull(o, 'durationMs'),
    attempts: j.number(o, 'attempts'),
    summary: j.textOrNull(o, 'summary'),
    error: j.textOrNull(o, 'error'),
  };
}

/** A trigger request's JSON as stored (its id must be `id`); `source` names what gave it. */
export function parseTriggerRequest(source: string, json: unknown, id: string): TriggerRequest {
  const j: Json = new Json(source, json);
  if (typeof json !== 'string') j.fail('the request is not a string');
  return triggerRequestOf(j, j.parse(json, 'the request'), id);
}

/** A trigger request's state as stored (lua/lib/trigger-request.lua), for the request `id`. */
export function parseTriggerState(source: string, json: unknown, id: string): TriggerState {
  const j: Json = new Json(source, json);
  if (typeof json !== 'string') j.fail('the state is not a string');
  const o = j.parse(json, 'the state');
  const request = triggerRequestOf(j, o.request, id);
  const state = o.state;
  if (state === 'pending') return { state, request };
  if (state !== 'taken' && state !== 'done') return j.fail(`unknown state ${JSON.stringify(state)}`);
  const instance = j.text(o, 'instance');
  const at = j.integer(o, 'at');
  return state === 'taken' ? { state, request, instance, at } : { state, request, instance, at, result: triggerResultOf(j, o.result) };
}

/** A result as the store writes it: the known fields only, in their order (a missing nullable one as null). */
export function triggerResultJson(result: TriggerResult): string {
  const r: TriggerResult = {
    outcome: result.outcome,
    reason: result.reason ?? null,
    holder: result.holder ?? null,
    occurrence: result.occurrence ?? null,
    fence: result.fence ?? null,
    startedAt: result.startedAt ?? null,
    endedAt: result.endedAt ?? null,
    durationMs: result.durationMs ?? null,
    attempts: result.attempts,
    summary: result.summary ?? null,
    error: result.error ?? null,
  };
  return JSON.stringify(r);
}

/** A reply that names a value under the id that is not iamwatch's ({'unreadable', value}). */
function unreadable(f: Fields): never {
  f.arity(2);
  return f.fail('under the id is something that is not a trigger request or state: it was left as it is');
}

export type TriggerRequestReply = { kind: 'request'; request: TriggerRequest } | { kind: 'state'; state: TriggerState };

/** trigger-request-2 for the request `id`: {'request', json} | {'state', json}. */
export function parseTriggerRequestReply(script: Script, reply: unknown, id: string): TriggerRequestReply {
  const { tag, f } = tagged(script, reply);
  const source = `the ${script.name} script`;
  switch (tag) {
    case 'request': return { kind: 'request', request: parseTriggerRequest(source, f.arity(2).text(1, 'the request'), id) };
    case 'state': return { kind: 'state', state: parseTriggerState(source, f.arity(2).text(1, 'the state'), id) };
    default: return f.fail(`unknown tag '${tag}'`);
  }
}

/** trigger-pending-1: {id, json, id, json...}, as requests (each id its request's). */
export const parseTriggerPendingReply: ReplyParser<TriggerRequest[]> = (script, reply) => {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw internalError(`the ${script.name} script`, 'not a list of ids and requests', reply);
  const out: TriggerRequest[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const id: unknown = reply[i];
    if (typeof id !== 'string') throw internalError(`the ${script.name} script`, `id ${i / 2 + 1} is not a string`, reply);
    out.push(parseTriggerRequest(`the ${script.name} script`, reply[i + 1], id));
  }
  return out;
};

/** trigger-take-2 for the request `id`: {'taken', json} (this instance's) | {'gone'} (null). */
export function parseTriggerTakeReply(script: Script, reply: unknown, id: string): TriggerRequest | null {
  const { tag, f } = tagged(script, reply);
  switch (tag) {
    case 'taken': return parseTriggerRequest(`the ${script.name} script`, f.arity(2).text(1, 'the request'), id);
    case 'gone': f.arity(1); return null;
    case 'unreadable': return unreadable(f);
    default: return f.fail(`unknown tag '${tag}'`);
  }
}

/** trigger-report-1: {'recorded'} (true) | {'ignored'} (false: not taken by the instance, or forgotten). */
export const parseTriggerReportReply: ReplyParser<boolean> = (script, reply) => {
  const { tag, f } = tagged(script, reply);
  switch (tag) {
    case 'recorded': f.arity(1); return true;
    case 'ignored': f.arity(1); return false;
    case 'unreadable': return unreadable(f);
    default: return f.fail(`unknown tag '${tag}'`);
  }
};

/** trigger-withdraw-2: {'withdrawn'} (true) | {'taken'} | {'unknown'} (false). */
export const parseTriggerWithdrawReply: ReplyParser<boolean> = (script, reply) => {
  const { tag, f } = tagged(script, reply);
  switch (tag) {
    case 'withdrawn': f.arity(1); return true;
    case 'taken': f.arity(1); return false;
    case 'unknown': f.arity(1); return false;
    case 'unreadable': return unreadable(f);
    default: return f.fail(`unknown tag '${tag}'`);
  }
};
