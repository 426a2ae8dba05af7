/**
 * Redaction of secrets in anything iamwatch prints: passwords in URLs and URL-ish text, and
 * secret-looking query parameters. Text is scanned once, left to right, anchored on `@` (a
 * `user:password@` before a host) and on `?`/`&` (a `name=value` parameter), with no regular
 * expression, so the time is linear in the text whatever it holds: log lines carry untrusted
 * output, megabytes of it.
 *
 * What counts as a credential: the run of characters before an `@`, back to whitespace, `/` or
 * another `@`, holding a `:`. Everything after that colon up to the `@` is the password, so
 * `scheme://user:pw@host`, `scheme:/user:pw@host`, `//user:pw@host` and `user:pw@host:port` all
 * keep the user and lose the password; `scheme:user:pw@host` keeps only the scheme (a password
 * may itself hold a colon). A password holding an `@` ends at the host's last `@`.
 */

const MASK = '***';
const SECRET_WORDS = ['pass', 'secret', 'token', 'key', 'auth'] as const;

const AT = 0x40; // @
const COLON = 0x3a; // :
const SLASH = 0x2f; // /
const QUESTION = 0x3f; // ?
const AMP = 0x26; // &
const EQUALS = 0x3d; // =
const HASH = 0x23; // #

/** The characters `\s` matches. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** Where the run holding `user:password` starts: whitespace, `/` or `@` before it. */
function endsUserinfoRun(c: number): boolean {
  return c === SLASH || c === AT || isSpace(c);
}

/** Quoting and bracketing: a colon right after one of these separates a key from a value, not a user from a password. */
function isQuoteOrBracket(c: number): boolean {
  return c === 0x22 || c === 0x27 || c === 0x60 || c === 0x28 || c === 0x29 || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x3c || c === 0x3e;
}

/** Where a host (and so the search for the userinfo's last `@`) ends. */
function endsAuthority(c: number): boolean {
  return c === SLASH || c === QUESTION || c === HASH || c === 0x22 || c === 0x27 || c === 0x60 || c === 0x3c || c === 0x3e || c === 0x5c || isSpace(c);
}

/** `[\w.-]`: a query parameter's name. */
function isParamNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d;
}

function endsParamValue(c: number): boolean {
  return c === AMP || c === HASH || c === 0x22 || c === 0x27 || isSpace(c);
}

/** A parameter whose value is a secret: its name says pass, secret, token, key or auth. */
function isSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_WORDS.some((w) => lower.includes(w));
}

/** The colon between user and password in text[from, to), or -1: the first one not right after a quote or bracket, else the first one. */
function userinfoColon(text: string, from: number, to: number): number {
  let first = -1;
  for (let k = from; k < to; k++) {
    if (text.charCodeAt(k) !== COLON) continue;
    if (k === from || !isQuoteOrBracket(text.charCodeAt(k - 1))) return k;
    if (first === -1) first = k;
  }
  return first;
}

/**
 * The one scan. `cut` says the text was cut short (the head of a longer line): a credential the
 * cut separated from its `@`, or a host the cut ran into, is hidden up to the end too.
 */
function scan(text: string, cut: boolean): string {
  const n = text.length;
  const out: string[] = [];
  let copied = 0; // text[0, copied) is in out already
  let floor = 0; // backward searches never go below this
  const mask = (from: number, to: number): void => {
    if (to <= from) return;
    out.push(text.slice(copied, from), MASK);
    copied = to;
    floor = to;
  };

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === AT) {
      let s = i;
      while (s > floor && !endsUserinfoRun(text.charCodeAt(s - 1))) s--;
      const colon = userinfoColon(text, s, i);
      if (colon === -1) {
        floor = i + 1;
        i++;
        continue;
      }
      // The password ends at the last `@` before the host ends.
      let last = i;
      let t = i + 1;
      for (; t < n; t++) {
        const d = text.charCodeAt(t);
        if (endsAuthority(d)) break;
        if (d === AT) last = t;
      }
      if (cut && t === n) {
        mask(colon + 1, n);
        i = n;
        continue;
      }
      mask(colon + 1, last);
      floor = last + 1;
      i = last + 1;
      continue;
    }
    if (c === QUESTION || c === AMP) {
      let k = i + 1;
      while (k < n && isParamNameChar(text.charCodeAt(k))) k++;
      if (k < n && k > i + 1 && text.charCodeAt(k) === EQUALS && isSecretName(text.slice(i + 1, k))) {
        let v = k + 1;
        while (v < n && !endsParamValue(text.charCodeAt(v))) v++;
        mask(k + 1, v);
        i = v;
      } else {
        i = k;
      }
      continue;
    }
    i++;
  }

  if (cut && copied < n) {
    // The last run may be a `user:pass` whose `@` was cut off.
    let s = n;
    while (s > floor && !endsUserinfoRun(text.charCodeAt(s - 1))) s--;
    const colon = userinfoColon(text, s, n);
    if (colon !== -1) mask(colon + 1, n);
  }
  if (copied === 0) return text;
  out.push(text.slice(copied));
  return out.join('');
}

/** `redis://user:secret@host` -> `redis://user:***@host`; text that is not a URL is redacted as free text. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Multi-host URLs (redis+cluster://a:1,b:2) are not WHATWG URLs, nor is mysql:app:pw@db.
    return redactText(text);
  }
  if (url.password) url.password = MASK;
  for (const key of [...url.searchParams.keys()]) {
    if (isSecretName(key)) url.searchParams.set(key, MASK);
  }
  // A malformed URL may still parse (mysql:/app:pw@db is a path), so the text pass runs too.
  return redactText(url.toString());
}

/** Redacts every `user:password@` (in a URL or not) and secret-looking query parameter found inside free text. */
export function redactText(text: string): string {
  if (text.indexOf('@') === -1 && text.indexOf('?') === -1 && text.indexOf('&') === -1) return text;
  return scan(text, false);
}

/**
 * Like redactText, for the head of a text that was cut short: a password whose `@` fell beyond
 * the cut is hidden as well, so cutting before redacting never shows part of a secret.
 */
export function redactHead(text: string): string {
  return scan(text, true);
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
