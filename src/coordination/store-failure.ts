/**
 * Why a coordination store call failed, as iamwatch's one error class (code UNAVAILABLE) with a
 * discriminant in its details: `down` (not connected, refused, the connection dropped) or `slow`
 * (connected, but no answer within iamwatch's deadline). The scheduler turns them into the skip
 * reasons `redis-unavailable` and `redis-slow`. Pure: no Redis client is loaded for this.
 */
import { IamwatchError } from '../base/errors.js';

export type StoreFailureKind = 'down' | 'slow';

export interface StoreFailureDetails {
  store: StoreFailureKind;
  /** The command's name (EVALSHA, TIME, ...), never its arguments. */
  command: string;
  /** slow: the deadline that passed, ms. */
  timeoutMs?: number;
  /** slow: how late the deadline's own timer fired, ms: this process's event loop was busy. */
  lagMs?: number;
  /** The command may have reached the server and run there although no answer came back. */
  maybeExecuted: boolean;
}

export type StoreFailure = IamwatchError & { code: 'UNAVAILABLE'; details: StoreFailureDetails };

export function storeFailure(message: string, details: StoreFailureDetails): StoreFailure {
  return new IamwatchError('UNAVAILABLE', message, { ...details }) as StoreFailure;
}

/** The failure's details when `err` is a store failure, else null. */
export function storeFailureOf(err: unknown): StoreFailureDetails | null {
  if (!(err instanceof IamwatchError) || err.code !== 'UNAVAILABLE') return null;
  const store = err.details?.store;
  return store === 'down' || store === 'slow' ? (err.details as unknown as StoreFailureDetails) : null;
}
