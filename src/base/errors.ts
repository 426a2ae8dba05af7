/**
 * The one error class for problems a user can fix. Each carries a code; the CLI maps codes to exit
 * codes in one place (src/cli/exit-codes.ts) and prints the message without a stack trace.
 * Anything else that escapes is a bug: it is printed with its stack and a request to report it.
 */
export type ErrorCode =
  | 'INVALID_INPUT' // bad jobs file, bad spec, schedule never fires, bad option value
  | 'USAGE' // bad command-line usage
  | 'LOCK_HELD' // `once`: the job's running lock is held by another run
  | 'RUN_FAILED' // `once`: the run itself failed
  | 'UNAVAILABLE' // Redis or the database could not be reached
  | 'INTERRUPTED'; // shut down by a second signal

export class IamwatchError extends Error {
  override readonly name = 'IamwatchError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isIamwatchError(err: unknown): err is IamwatchError {
  return err instanceof IamwatchError;
}

/**
 * A message for logs from anything thrown, never itself throwing: watcher code may throw `null`,
 * `Object.create(null)`, an object whose `toString` or `message` getter throws, or a revoked proxy.
 */
export function errorMessage(err: unknown): string {
  try {
    if (err instanceof Error) return typeof err.message === 'string' && err.message !== '' ? err.message : String(err.name || 'Error');
    if (typeof err === 'string') return err;
    if (err === null || typeof err !== 'object') return String(err);
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    const text = String(err);
    return text === '[object Object]' ? safeJson(err) : text;
  } catch {
    return fallbackDescription(err);
  }
}

function safeJson(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? fallbackDescription(value) : json.length > 500 ? `${json.slice(0, 500)}…` : json;
  } catch {
    return fallbackDescription(value);
  }
}

function fallbackDescription(value: unknown): string {
  try {
    return `a thrown value that cannot be printed (${Object.prototype.toString.call(value)})`;
  } catch {
    return 'a thrown value that cannot be printed';
  }
}

/** The stack of anything thrown when it has one, else its message; never throws. */
export function errorStack(err: unknown): string {
  try {
    if (err instanceof Error && typeof err.stack === 'string') return err.stack;
  } catch {
    // a throwing `stack` getter
  }
  return errorMessage(err);
}
