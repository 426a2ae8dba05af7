/**
 * Deterministic start offsets for `jitter=`: each occurrence of a job starts `offset` after its
 * nominal time, with the offset in [0, jitter) taken from the stable hash of the job name and the
 * occurrence id (`NAME@ID`: the nominal epoch ms for cron and rate, the generation for interval).
 * Every instance computes the same offset, across restarts and versions, and the occurrence id is
 * unchanged, so claims, history and misfire handling see the nominal time. Pure.
 */
import { stableHash } from './stable-hash.js';

const TWO_32 = 2 ** 32;

/** The offset (whole ms, 0 <= offset < jitterMs) of occurrence `occurrence` of job `name`; 0 without jitter. */
export function jitterOffset(name: string, occurrence: number, jitterMs: number): number {
  if (!(jitterMs > 0)) return 0;
  return Math.floor((stableHash(`${name}@${occurrence}`) / TWO_32) * jitterMs);
}
