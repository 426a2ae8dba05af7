/**
 * Whether a full-screen view can work here. ink needs stdout to be a terminal to draw and stdin to
 * be one it can put in raw mode to read keys: `docker run -t` without `-i`, a pipe, a cron job or
 * `TERM=dumb` get plain lines instead, never a "Raw mode is not supported" stack trace.
 */
export function interactiveTerminal(stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stdout.isTTY === true && stdin.isTTY === true && typeof stdin.setRawMode === 'function' && env.TERM !== 'dumb';
}
