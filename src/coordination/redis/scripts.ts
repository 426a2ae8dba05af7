/**
 * The Lua scripts, loaded from lua/*.lua (named `name-<numkeys>.lua`) and run with EVALSHA,
 * falling back to EVAL when the server doesn't have them cached (after a restart or failover).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisConnection } from './client.js';

export interface Script {
  name: string;
  source: string;
  sha: string;
  numKeys: number;
}

function load(file: string): Script {
  const source = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
  const m = /^(.+)-(\d+)\.lua$/.exec(file)!;
  return { name: m[1]!, source, sha: createHash('sha1').update(source).digest('hex'), numKeys: Number(m[2]) };
}

export const SCRIPTS = {
  claim: load('claim-4.lua'),
  renew: load('renew-1.lua'),
  release: load('release-3.lua'),
  historyAppend: load('history-append-1.lua'),
} as const;

/** Runs a script: one round trip, two when the server has to be sent the source. */
export async function evalScript(connection: RedisConnection, script: Script, keys: string[], args: Array<string | number>): Promise<unknown> {
  const rest = [String(script.numKeys), ...keys, ...args.map(String)];
  try {
    return await connection.send(['EVALSHA', script.sha, ...rest], keys[0]!);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return connection.send(['EVAL', script.source, ...rest], keys[0]!);
  }
}
