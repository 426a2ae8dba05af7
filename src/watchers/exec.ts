/**
 * `exec command="..."`: runs a shell command with /bin/sh -c in its own process group, streams its
 * output into the logs line by line (at most 16 KiB of each line, in bounded time: output-lines.ts),
 * and kills the whole group (SIGTERM, then SIGKILL after `kill-grace`) when the run is aborted. A
 * non-zero exit is a failure. Processes the command leaves in the background are killed when it
 * exits.
 */
import { IamwatchError } from '../base/errors.js';
import { defineWatcher } from './define-watcher.js';
import { readLines } from './output-lines.js';

/**
 * The command runs under a watchdog in its own process group. The watchdog holds the read end of
 * a pipe whose write end only iamwatch holds, and ignores SIGTERM/SIGINT/SIGHUP; when the pipe
 * closes — the run ended, or iamwatch exited or was SIGKILLed — it kills the whole group. So no
 * command outlives the run that started it, and none keeps working after its lock has lapsed.
 */
const WATCHDOG = `(trap '' HUP INT TERM; read _ <&3; kill -KILL 0) & exec /bin/sh -c "$1" 3<&-`;

export const exec = defineWatcher({
  name: 'exec',
  description: 'Run a shell command (sh -c) in its own process group.',
  options: {
    command: { type: 'string', required: true, description: 'The command line, run with /bin/sh -c.' },
    'kill-grace': { type: 'duration', min: 0, max: 600_000, default: 10_000, description: 'Time between SIGTERM and SIGKILL when a run is aborted.' },
  },
  // After an abort the group gets SIGTERM, then SIGKILL after kill-grace: wait that long (and a
  // second for the exit to be seen) before the run is abandoned and its lock released.
  abortGraceMs: (options) => options['kill-grace'] + 1_000,
  async run(ctx) {
    const { command } = ctx.options;
    if (ctx.dryRun) {
      ctx.log.info({ command }, 'dry run: would execute');
      return { summary: `dry run: would execute ${command}`, dryRun: true };
    }
    ctx.signal.throwIfAborted();
    // Imported here so `validate` and `next` don't pay for them.
    const { spawn } = await import('node:child_process');
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'iamwatch-exec', command], {
      detached: true, // own process group, so a kill reaches grandchildren too
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...ctx.env,
        IAMWATCH_JOB: ctx.job,
        IAMWATCH_OCCURRENCE: ctx.occurrence.toISOString(),
        IAMWATCH_INSTANCE: ctx.instance,
        IAMWATCH_FENCE: String(ctx.fence),
        IAMWATCH_ATTEMPT: String(ctx.attempt),
      },
    });
    const pid = child.pid;
    const lifeline = child.stdio[3];
    const killGroup = (signal: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), ctx.options['kill-grace']);
      killTimer.unref();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // Each line is logged with at most 16 KiB of its text; `truncatedBytes` counts the rest, and
    // the logger notes it in the message.
    const output = Promise.all(
      ([[child.stdout!, 'info'], [child.stderr!, 'warn']] as const).map(([stream, level]) =>
        readLines(stream, (line, dropped) => {
          const name = level === 'info' ? 'stdout' : 'stderr';
          ctx.log[level](dropped > 0 ? { stream: name, truncatedBytes: dropped } : { stream: name }, line);
        }),
      ),
    );
    output.catch(() => undefined); // awaited below; handled even if the run fails first
    try {
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once('error', reject);
        // The command is done: let the watchdog clear whatever it left behind, so output closes.
        child.once('exit', () => lifeline?.destroy());
        child.once('close', (c, s) => resolve([c, s]));
      });
      // Lines still being logged (in slices, between other work) are part of the run.
      await output;
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (code !== 0) {
        throw new IamwatchError('RUN_FAILED', signal ? `command killed by ${signal}` : `command exited with status ${code}`, { exitCode: code, signal });
      }
      return { summary: `exit 0 (pid ${pid})`, exitCode: 0 };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Reap anything the command left running in its group.
      lifeline?.destroy();
      killGroup('SIGKILL');
    }
  },
});
