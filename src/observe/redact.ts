/** Redaction of secrets in anything iamwatch prints: URL passwords and tokens. */

const SECRET_PARAM = /pass|secret|token|key|auth/i;

/** `redis://user:secret@host` -> `redis://user:***@host`; non-URLs are returned unchanged. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (SECRET_PARAM.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    // Multi-host URLs (redis+cluster://a:1,b:2) are not WHATWG URLs.
    return redactText(text);
  }
}

/** Redacts every URL password (and secret-looking query parameter) found inside free text. */
export function redactText(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi, '$1***@')
    .replace(/([?&][\w.-]*(?:pass|secret|token|key|auth)[\w.-]*=)([^\s&#"']+)/gi, '$1***');
}

/**
 * Redacts every string inside a value (objects, arrays, Errors), returning a copy; other values
 * are returned as they are. Depth-limited, so cyclic or huge structures can't hang a log call.
 */
export function redactDeep<T>(value: T, depth = 6): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const copy = new Error(redactText(value.message));
    copy.name = value.name;
    if (value.stack) copy.stack = redactText(value.stack);
    return copy as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, depth - 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth - 1);
  return out as T;
}
