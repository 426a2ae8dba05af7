/**
 * Where the embedded store keeps a jobs file's state: `.iamwatch/` next to the jobs file, or
 * `$IAMWATCH_STATE_DIR`. Every iamwatch process of that jobs file on this machine shares it.
 */
import path from 'node:path';

/** The state directory for a jobs file. */
export function stateDir(jobsFile: string, env: Record<string, string | undefined> = process.env): string {
  return env.IAMWATCH_STATE_DIR ? path.resolve(env.IAMWATCH_STATE_DIR) : path.join(path.dirname(path.resolve(jobsFile)), '.iamwatch');
}
