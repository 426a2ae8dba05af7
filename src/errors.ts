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

/** A message for logs from anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
