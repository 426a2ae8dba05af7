/**
 * A store answer iamwatch cannot understand: a script reply with a wrong tag or a missing field, a
 * batch answered with the wrong number of replies. Never mapped to a default answer: it is an
 * IamwatchError whose details say `internal: true`, what gave the answer (`source`, e.g. the
 * script's name) and the answer itself, with a message asking for a report. Its code is
 * UNAVAILABLE (the store gave no usable answer), so the scheduler skips the occurrence as it does
 * for a store that is down, and `once` exits as for an unreachable store.
 */
import { IamwatchError } from '../base/errors.js';

export interface InternalDetails {
  internal: true;
  source: string;
  /** The answer, as received. */
  reply?: unknown;
}

/** At most this much of the answer is quoted in the message. */
const QUOTE_CHARS = 300;

function quote(reply: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(reply) ?? String(reply);
  } catch {
    text = String(reply);
  }
  return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text;
}

/** `what` says what was wrong ("unknown tag 'maybe'"); the reply is quoted after it. */
export function internalError(source: string, what: string, reply?: unknown): IamwatchError {
  const details: InternalDetails = { internal: true, source, ...(reply === undefined ? {} : { reply }) };
  const quoted = reply === undefined ? '' : `: ${quote(reply)}`;
  return new IamwatchError('UNAVAILABLE', `iamwatch did not understand the store's answer to ${source} (${what})${quoted}; this is a bug in iamwatch or another program writes under its key prefix: please report it`, { ...details });
}

/** The details when `err` came from internalError, else null. */
export function internalErrorOf(err: unknown): InternalDetails | null {
  return err instanceof IamwatchError && err.details?.internal === true ? (err.details as unknown as InternalDetails) : null;
}
