/**
 * `iamwatch status --watch` where no full-screen view can work (stdout or stdin not a terminal):
 * the plain status, printed again every interval with a time line above it, until SIGINT or
 * SIGTERM. A failed refresh is one line on stderr; the next one tries again.
 */
import { errorMessage } from '../../base/errors.js';
import { err, out } from '../output.js';

export async function watchStatusLines(render: () => Promise<string>, intervalMs = 2_000): Promise<void> {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.once(s, stop);
  try {
    for (let done = false; !done; ) {
      try {
        const text = await render();
        out(`--- ${new Date().toISOString()}\n${text}`);
      } catch (e) {
        err(`iamwatch: status refresh failed: ${errorMessage(e)}`);
      }
      let timer: NodeJS.Timeout | undefined;
      done = await Promise.race([stopped.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), intervalMs)))]);
      clearTimeout(timer);
    }
  } finally {
    for (const s of signals) process.off(s, stop);
  }
}
