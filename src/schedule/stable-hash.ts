/**
 * The stable hash behind `H` in cron fields and `jitter=`: FNV-1a (32-bit) over the UTF-8 bytes of
 * a string, followed by murmur3's 32-bit finalizer, so that inputs differing only in their last
 * characters (job-1, job-2; consecutive occurrence times) land far apart. It is the same on every
 * instance, platform and version: changing it would move every job's H values and jitter offsets,
 * so the tests pin its values for a few names. Pure.
 */
const utf8 = new TextEncoder();

/** An unsigned 32-bit hash of `text`. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5; // FNV-1a offset basis
  for (const byte of utf8.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193); // FNV prime
  }
  // murmur3 fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
