/** Redaction of secrets in anything iamwatch prints: URL passwords and tokens. */

/** `redis://user:secret@host` -> `redis://user:***@host`; non-URLs are returned unchanged. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|token|key|auth/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return text;
  }
}

/** Redacts every URL password found inside free text (error messages, commands). */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi, '$1***@');
}
