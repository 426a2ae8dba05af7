/**
 * A private MariaDB server for tests that need one configured differently from the shared one
 * (TLS, require_secure_transport): `mariadb-install-db` into a temporary datadir, then `mariadbd`
 * on a free loopback port, root without a password. Every wait is bounded; stop() kills it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, sleep } from './redis.js';

export interface MariadbTls {
  ca: string;
  cert: string;
  key: string;
  /** require_secure_transport=ON: refuse connections without TLS. */
  requireSecureTransport?: boolean;
}

export interface PrivateMariadb {
  /** mysql://root@127.0.0.1:PORT (no database). */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and deletes its datadir. */
  stop(): Promise<void>;
}

/** Whether this machine can run a private server at all. */
export function canStartMariadb(): boolean {
  return ['mariadb-install-db', 'mariadbd'].every((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => done(true));
  });
}

export async function startMariadb(tls?: MariadbTls): Promise<PrivateMariadb> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iwtest-mariadb-'));
  const datadir = path.join(dir, 'data');
  const install = spawnSync('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--user=root'], { encoding: 'utf8', timeout: 60_000 });
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.status ?? install.signal}): ${install.stderr || install.stdout}`);
  }
  const port = await freePort();
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--socket=${path.join(dir, 'mariadb.sock')}`,
    `--pid-file=${path.join(dir, 'mariadb.pid')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--user=root',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=32M',
    ...(tls ? [`--ssl-ca=${tls.ca}`, `--ssl-cert=${tls.cert}`, `--ssl-key=${tls.key}`, `--require-secure-transport=${tls.requireSecureTransport ? 'ON' : 'OFF'}`] : []),
  ];
  const child: ChildProcess = spawn('mariadbd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`mariadbd on port ${port} ${exited ? 'exited' : 'did not accept connections within 30 s'}:\n${log.slice(-3000)}`);
    }
    await sleep(100);
  }
  return { url: `mysql://root@127.0.0.1:${port}`, port, stop };
}
