/**
 * "Did you mean": the known names closest to a mistyped one, by edit distance (insertions,
 * deletions, substitutions and swaps of two neighbours each count one), ignoring case. A name is
 * offered only when it is close enough to be a plausible typo: at most a third of the input's
 * length away (at least one edit, at most three), or when the input is a prefix of it. Pure.
 */

/** Optimal string alignment distance: Levenshtein plus transpositions of adjacent characters. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest `candidates` to `input`, best first (ties in the candidates' order), at most `max`. */
export function suggest(input: string, candidates: Iterable<string>, max = 3): string[] {
  const wanted = input.toLowerCase();
  if (wanted === '') return [];
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  const scored: Array<{ name: string; score: number; order: number }> = [];
  const seen = new Set<string>();
  let order = 0;
  for (const name of candidates) {
    if (seen.has(name) || name === input) continue;
    seen.add(name);
    const lower = name.toLowerCase();
    const prefix = lower.startsWith(wanted) && wanted.length >= 2;
    // Lengths further apart than the limit can't be within it: skip the distance (zone lists are long).
    if (!prefix && Math.abs(lower.length - wanted.length) > limit) continue;
    const distance = editDistance(wanted, lower);
    // A prefix ("clean" for "cleans...") is a likely abbreviation; rank it just after one edit.
    const score = distance <= limit ? distance : prefix ? limit + 0.5 : Number.POSITIVE_INFINITY;
    if (Number.isFinite(score)) scored.push({ name, score, order: order++ });
  }
  return scored
    .sort((x, y) => x.score - y.score || x.order - y.order)
    .slice(0, max)
    .map((s) => s.name);
}

/** `did you mean "a"?` / `did you mean "a" or "b"?`, or null when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>, max = 3): string | null {
  const names = suggest(input, candidates, max).map((n) => `"${n}"`);
  if (names.length === 0) return null;
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return `did you mean ${list}?`;
}
