/**
 * iamwatch's own deadline on every Redis command. node-redis stops timing a command once it is
 * written to the socket, so a server that accepts commands but never answers (CLIENT PAUSE, a
 * stalled host, a long Lua script) would leave the caller waiting: a claim could start its run
 * seconds late, and a renewal that hangs would never count as failed. `withDeadlines` wraps a
 * RedisConnection so that every command has a timer that rejects the caller's promise with a
 * typed error (../store-failure.ts) when no reply came in time, whatever node-redis later does with
 * the reply; a late reply is dropped (node-redis still reads it, so replies stay matched to their
 * commands). Commands fail at once, as `down`, while the connection is not ready.
 */
import { ClientClosedError, ClientOfflineError, ErrorReply, TimeoutError } from '@redis/client';
import { errorMessage } from '../../base/errors.js';
import { storeFailure, type StoreFailure } from '../store-failure.js';
import { withSend, type RedisConnection } from './client.js';

/** The deadline of a Redis command unless a caller asks for a shorter one. */
export const COMMAND_DEADLINE_MS = 2_000;

/**
 * A lock renewal's deadline: a sixth of the lock's lifetime, so a renewal that gets no answer has
 * failed well before the next one is due (ttl/3) and lock loss is noticed before the lock lapses.
 */
export const renewalDeadlineMs = (ttlMs: number): number => Math.max(50, Math.floor(ttlMs / 6));

export interface DeadlineOptions {
  /** Told about a reply that arrived after its deadline (and was ignored). */
  onLateReply?(command: string, lateByMs: number): void;
}

const down = (command: string, why: string, maybeExecuted: boolean): StoreFailure =>
  storeFailure(`Redis is not reachable (${why}); iamwatch keeps reconnecting: check that Redis runs and that REDIS_URL points at it`, { store: 'down', command, maybeExecuted });

const slow = (command: string, timeoutMs: number, lagMs: number, maybeExecuted: boolean): StoreFailure =>
  storeFailure(
    lagMs > timeoutMs / 2
      ? `no answer from Redis to ${command} within ${timeoutMs} ms: this process was too busy to notice one for ${lagMs} ms more`
      : `Redis did not answer ${command} within ${timeoutMs} ms: it is overloaded, paused (CLIENT PAUSE) or busy with a slow command`,
    { store: 'slow', command, timeoutMs, lagMs, maybeExecuted },
  );

/** Maps what node-redis rejects with; a Redis error reply (NOSCRIPT, NOPERM, ...) is an answer and passes through. */
function classify(err: unknown, command: string, timeoutMs: number): unknown {
  if (err instanceof ErrorReply) return err;
  // node-redis's own timeout fires only while the command still waits to be written.
  if (err instanceof TimeoutError) return slow(command, timeoutMs, 0, false);
  if (err instanceof ClientOfflineError || err instanceof ClientClosedError) return down(command, errorMessage(err), false);
  return down(command, errorMessage(err), true);
}

/**
 * Wraps `connection` so every command has a deadline: `defaultMs`, or the shorter `timeoutMs` a
 * caller passes to `send` (a caller can shorten the deadline, never lengthen it).
 */
export function withDeadlines(connection: RedisConnection, defaultMs: number = COMMAND_DEADLINE_MS, opts: DeadlineOptions = {}): RedisConnection {
  return withSend(connection, (args, key, timeoutMs) => {
      const command = args[0] ?? '?';
      const ms = Math.max(1, Math.floor(Math.min(timeoutMs ?? defaultMs, defaultMs)));
      if (!connection.isReady) return Promise.reject(down(command, 'not connected', false));
      return new Promise<unknown>((resolve, reject) => {
        const started = Date.now();
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          reject(slow(command, ms, Math.max(0, Date.now() - started - ms), true));
        }, ms);
        connection.send(args, key, ms).then(
          (reply) => {
            if (settled) return opts.onLateReply?.(command, Date.now() - started - ms);
            settled = true;
            clearTimeout(timer);
            resolve(reply);
          },
          (err: unknown) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            reject(classify(err, command, ms));
          },
        );
      });
  });
}
