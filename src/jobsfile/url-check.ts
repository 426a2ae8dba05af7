/** Checking URL-valued text (settings and options) without ever echoing it: a malformed URL may hold a password. Pure. */

/** Returns a checker: null for a URL with one of `protocols` and a host, else a message showing `example`. */
export const checkUrl = (protocols: readonly string[], example: string) => (text: string): string | null => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && !protocols.includes(`${scheme}:`)) return `unsupported scheme "${scheme}:" (expected ${protocols.map((p) => `${p}//`).join(' or ')})`;
  let valid: boolean;
  try {
    valid = new URL(text).host !== '';
  } catch {
    valid = false;
  }
  return valid && /^[a-z][a-z0-9+.-]*:\/\/[^/]/i.test(text) ? null : `not a valid URL: expected the form ${example}`;
};
