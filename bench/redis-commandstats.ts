/**
 * Redis INFO commandstats: calls per command, snapshotted before and after a counted window, so
 * the difference is the commands every client sent in it (the benchmark's own INFO excluded).
 */
import type { TestRedisClient } from '../test/helpers/redis.js';

export type CommandCalls = Map<string, number>;

export async function commandCalls(client: TestRedisClient): Promise<CommandCalls> {
  const text = await client.info('commandstats');
  const calls: CommandCalls = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** Calls per command between two snapshots, INFO itself left out, largest first. */
export function callsBetween(before: CommandCalls, after: CommandCalls): [string, number][] {
  return [...after]
    .filter(([cmd]) => cmd !== 'info')
    .map(([cmd, n]): [string, number] => [cmd, n - (before.get(cmd) ?? 0)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}
