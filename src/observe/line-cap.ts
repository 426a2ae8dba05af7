/**
 * The cap on one log line's message: 16 KiB of UTF-8 text. What is cut is counted, never dropped
 * silently: the message ends with `… [1,234 more bytes]` and the line carries `truncatedBytes`.
 * Also the redaction of a log call's arguments, which has to know about the cut (logger.ts).
 */
import { redactDeep, redactHead, redactText } from '../base/redact.js';

/** The most message text one log line carries. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** The note a cut message ends with. */
export function truncationNote(droppedBytes: number): string {
  return `… [${droppedBytes.toLocaleString('en-US')} more bytes]`;
}

/** The first `maxBytes` of `text` (never half a character) and how many UTF-8 bytes were left out. */
export function capText(text: string, maxBytes: number): { head: string; droppedBytes: number } {
  if (text.length <= maxBytes / 3) return { head: text, droppedBytes: 0 };
  const total = Buffer.byteLength(text);
  if (total <= maxBytes) return { head: text, droppedBytes: 0 };
  // maxBytes characters are at least maxBytes bytes, so the head lies within them.
  const buf = Buffer.from(text.slice(0, maxBytes));
  let end = Math.min(maxBytes, buf.length);
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // don't split a character
  return { head: buf.toString('utf8', 0, end), droppedBytes: total - end };
}

/** A plain object (not an Error, array or class instance). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

/**
 * A log call's arguments (`(msg)` or `(fields, msg)`, as pino takes them), redacted, with the
 * message cut to MAX_MESSAGE_BYTES. A `truncatedBytes` field already present says the caller cut
 * the message (exec output does, while reading it): the count adds up and the note is added here.
 * The message is cut before it is redacted, so a huge one costs no more than a short one.
 */
export function logArgs(args: readonly unknown[]): unknown[] {
  const msgAt = typeof args[0] === 'string' ? 0 : typeof args[1] === 'string' ? 1 : -1;
  if (msgAt === -1) return args.map((a) => redactDeep(a));
  const fields = msgAt === 1 ? redactDeep(args[0]) : undefined;
  const upstream = isPlainObject(fields) && typeof fields.truncatedBytes === 'number' && fields.truncatedBytes > 0 ? fields.truncatedBytes : 0;
  const { head, droppedBytes } = capText(args[msgAt] as string, MAX_MESSAGE_BYTES);
  const truncatedBytes = upstream + droppedBytes;
  const rest = args.slice(msgAt + 1).map((a) => redactDeep(a));
  if (truncatedBytes === 0) return msgAt === 1 ? [fields, redactText(head), ...rest] : [redactText(head), ...rest];
  const msg = redactHead(head) + truncationNote(truncatedBytes);
  let withCount: unknown;
  if (fields === undefined) withCount = { truncatedBytes };
  else if (isPlainObject(fields)) withCount = { ...fields, truncatedBytes };
  else if (fields instanceof Error) withCount = { err: fields, truncatedBytes };
  else withCount = fields;
  return [withCount, msg, ...rest];
}
