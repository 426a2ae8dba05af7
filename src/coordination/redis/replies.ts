/**
 * The Lua scripts' replies (lua/*.lua, each header lists them), parsed strictly into the store's
 * typed results: a wrong tag, a missing or extra field, or a field of the wrong type is an
 * internal error naming the script and quoting the reply (../internal-error.ts), never mapped to
 * a default. Only the JSON values inside a reply are read leniently: a holder that doesn't parse
 * (a torn or foreign write) is null, as the store's types allow, and a pause that doesn't parse is
 * still a pause (the script judged the job paused), with what could be read of it. Running-lock
 * tokens are the store's own and are added by it; these results carry none.
 */
import { internalError } from '../internal-error.js';
import type { Holder, Pause } from '../store.js';
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
