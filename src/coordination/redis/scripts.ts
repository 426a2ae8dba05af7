/**
 * The Lua scripts, loaded from lua/*.lua and run with EVALSHA, falling back to EVAL when the
 * server doesn't have them cached (after a restart or failover), both within one deadline.
 * File names say how many keys a call takes:
 * - `name-<k>.lua`: exactly k keys (acquire-4.lua);
 * - `name-<k>n.lua`: a batch, k keys per request and any number of requests (numkeys = k x n),
 *   answering with one reply per request, in order (claim-occurrences-5n.lua, renew-1n.lua...).
 * Every file starts with a header listing its KEYS and ARGV. Snippets several scripts share (the
 * Redis clock, the fence and generation rule, the dead-lock sweep, running locks, pauses, trigger
 * requests) live once in lua/lib/*.lua and are composed in at load time: a line
 * `--@include lib/NAME.lua` is replaced by that file, each file at most once per script (a lib file
 * may include another). The SHA is that of the composed source, which is also what EVAL sends.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { withSend, type RedisConnection } from './client.js';

export interface Script {
  /** The file name without `.lua`, e.g. `claim-occurrences-5n`: what error messages name. */
  name: string;
  source: string;
  sha: string;
  /** Keys per call (fixed scripts) or per request (batch scripts). */
  keysPerRequest: number;
  /** A batch script (`-<k>n`): numkeys is keysPerRequest x the number of requests. */
  batch: boolean;
}

const INCLUDE = /^--@include (lib\/[a-z0-9-]+\.lua)[ \t]*$/gm;

const read = (file: string): string => readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');

/** `text` with its include lines replaced, recursively; a file already included is left out. */
export function compose(text: string, readFile: (file: string) => string = read, included = new Set<string>()): string {
  return text.replace(INCLUDE, (_line, file: string) => {
    if (included.has(file)) return `-- (${file}: included above)`;
    included.add(file);
    return compose(readFile(file).trimEnd(), readFile, included);
  });
}

export function loadScript(file: string, readFile: (file: string) => string = read): Script {
  const m = /^(.+)-(\d+)(n?)\.lua$/.exec(file);
  if (!m) throw new Error(`script file name ${file} is not name-<keys>.lua or name-<keys>n.lua`);
  const source = compose(readFile(file), readFile);
  if (/--@include/.test(source)) throw new Error(`${file}: an include line that names no lib/*.lua file`);
  return { name: `${m[1]}-${m[2]}${m[3]}`, source, sha: createHash('sha1').update(source).digest('hex'), keysPerRequest: Number(m[2]), batch: m[3] === 'n' };
}

export const SCRIPTS = {
  claimOccurrences: loadScript('claim-occurrences-5n.lua'),
  claimIntervals: loadScript('claim-intervals-4n.lua'),
  acquire: loadScript('acquire-4.lua'),
  renew: loadScript('renew-1n.lua'),
  release: loadScript('release-3n.lua'),
  historyAppend: loadScript('history-append-1n.lua'),
  pauseSet: loadScript('pause-set-1n.lua'),
  pauseLift: loadScript('pause-lift-1n.lua'),
  pauseGet: loadScript('pause-get-1n.lua'),
  triggerRequest: loadScript('trigger-request-2.lua'),
  triggerPending: loadScript('trigger-pending-1.lua'),
  triggerTake: loadScript('trigger-take-2.lua'),
  triggerReport: loadScript('trigger-report-1.lua'),
  triggerWithdraw: loadScript('trigger-withdraw-2.lua'),
} as const;

/** `connection` with every command's deadline cut to what is left until `until` (ms epoch). */
function within(connection: RedisConnection, until: number): RedisConnection {
  return withSend(connection, (args, key, ms) => connection.send(args, key, Math.max(1, Math.min(ms ?? Infinity, until - Date.now()))));
}

/**
 * Runs a script: one round trip, two when the server has to be sent the source. `key` routes
 * the call in a cluster (one of its keys; every key of a call is in one slot). With `timeoutMs`,
 * the whole of it, EVALSHA and EVAL, within that.
 */
export async function evalScript(connection: RedisConnection, script: Script, keys: string[], args: Array<string | number>, timeoutMs?: number): Promise<unknown> {
  const c = timeoutMs === undefined ? connection : within(connection, Date.now() + timeoutMs);
  const rest = [String(keys.length), ...keys, ...args.map(String)];
  const key = keys[0] ?? '';
  try {
    return await c.send(['EVALSHA', script.sha, ...rest], key);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return c.send(['EVAL', script.source, ...rest], key);
  }
}
