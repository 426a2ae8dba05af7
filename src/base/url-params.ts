/**
 * The query of a URL setting (`?a=b&c=d`) as name/value pairs, checked the way every such setting
 * needs: names decoded and known, none given twice or empty. What the values mean is the caller's
 * business. Pure; messages never echo a value (it may be a secret).
 */

/** The pairs in order, or an error message. `example(name)` shows a valid pair for an empty one. */
export function parseUrlParams(query: string, known: readonly string[], example: (name: string) => string): Map<string, string> | string {
  const pairs = new Map<string, string>();
  for (const pair of query.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return 'bad percent-encoding in a URL parameter';
    }
    if (!known.includes(name)) return `unknown URL parameter "${name}" (known: ${known.join(', ')})`;
    if (pairs.has(name)) return `URL parameter "${name}" is given twice`;
    if (value === '') return `URL parameter "${name}" needs a value, e.g. ${example(name)}`;
    pairs.set(name, value);
  }
  return pairs;
}
