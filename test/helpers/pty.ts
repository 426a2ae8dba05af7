/**
 * Running a command in a real pseudo-terminal of a given size, with no native module: python3's
 * `pty` module when the machine has it (the window size is set with TIOCSWINSZ before the command
 * starts, and can be changed while it runs, which sends it SIGWINCH), else script(1) with
 * `stty cols C rows R` (no resize then). The command gets the terminal on stdin, stdout and
 * stderr; everything it writes comes back as one byte stream, with the offsets at which the
 * window was resized.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

// Relays between this process and the terminal: JSON lines on stdin ({"write": text} types into
// the terminal, {"resize": [cols, rows]} resizes it); the terminal's output on stdout; the exit
// code of the command (128 + signal when killed) as its own.
const RELAY = String.raw`
import fcntl, json, os, pty, select, struct, sys, termios
cols, rows = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(sys.argv[3], sys.argv[3:])
pending = b''
inputs = [0]
while True:
    ready, _, _ = select.select([fd] + inputs, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if 0 in ready:
        chunk = os.read(0, 65536)
        if not chunk:
            inputs = []
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            msg = json.loads(line)
            if 'write' in msg:
                os.write(fd, msg['write'].encode())
            if 'resize' in msg:
                c, r = msg['resize']
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
`;

let python: boolean | undefined;

/** Whether python3 with its pty module runs here (else script(1) is used; IAMWATCH_TEST_PTY=script forces it). */
export function hasPythonPty(): boolean {
  python ??= process.env.IAMWATCH_TEST_PTY !== 'script' && spawnSync('python3', ['-c', 'import pty, fcntl, termios, select'], { stdio: 'ignore' }).status === 0;
  return python;
}

export interface PtyOptions {
  cols: number;
  rows: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Killed after this long (default 30 s). */
  timeoutMs?: number;
}

export interface PtyResult {
  code: number | null;
  /** Everything written to the terminal. */
  output: string;
  /** Window changes: at which offset of `output` the terminal took which size. */
  resizes: Array<{ at: number; cols: number; rows: number }>;
}

export interface PtyProcess {
  /** What the terminal has received so far. */
  output(): string;
  /** Types `text` (keys) into the terminal. */
  type(text: string): void;
  /** Changes the window size (python3 only). */
  resize(cols: number, rows: number): void;
  /** Resolves once `test` holds for the output (polled as output comes), or rejects at the timeout. */
  waitFor(test: (output: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  done: Promise<PtyResult>;
  child: ChildProcess;
}

export function startPty(argv: string[], o: PtyOptions): PtyProcess {
  const viaPython = hasPythonPty();
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = viaPython
    ? spawn('python3', ['-c', RELAY, String(o.cols), String(o.rows), ...argv], { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn('script', ['-qfec', `stty cols ${o.cols} rows ${o.rows}; exec ${quoted}`, '/dev/null'], { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const resizes: PtyResult['resizes'] = [];
  const waiters = new Set<() => void>();
  // One decoder for the stream: a character split between two reads stays whole.
  const decoder = new StringDecoder('utf8');
  const onData = (d: Buffer): void => {
    output += decoder.write(d);
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr?.on('data', onData);
  const send = (msg: object): void => {
    if (child.stdin!.writable) child.stdin!.write(`${JSON.stringify(msg)}\n`);
  };
  const done = new Promise<PtyResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} under a pty timed out; output:\n${output.slice(-3000)}`));
    }, o.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      for (const w of waiters) w();
      resolve({ code, output, resizes });
    });
  });
  let exited = false;
  void done.then(
    () => (exited = true),
    () => (exited = true),
  );
  return {
    child,
    done,
    output: () => output,
    type: (text) => (viaPython ? send({ write: text }) : child.stdin!.write(text)),
    resize: (cols, rows) => {
      if (!viaPython) throw new Error('resizing needs python3');
      resizes.push({ at: output.length, cols, rows });
      send({ resize: [cols, rows] });
    },
    waitFor: (test, what, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (test(output)) {
            cleanup();
            resolve();
          } else if (exited) {
            cleanup();
            reject(new Error(`exited before ${what}; output:\n${output.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; output:\n${output.slice(-3000)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}
