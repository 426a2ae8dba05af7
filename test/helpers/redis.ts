/**
 * Real Redis for tests: the shared server (IAMWATCH_TEST_REDIS_URL, default redis://127.0.0.1:6379,
 * never stopped by a test) and private `redis-server` processes on free loopback ports for tests
 * that must stop, restart or flush one, or need a TLS-only server. Every test uses its own key
 * prefix (uniquePrefix()).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createClient } from '@redis/client';

export const SHARED_REDIS_URL = process.env.IAMWATCH_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** A key prefix no other test or run uses. */
export function uniquePrefix(tag = 'iwtest'): string {
  return `${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (asks the kernel for one, then lets it go). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** TLS for a private redis-server: its certificate, key and the CA it trusts for client certificates. */
export interface RedisTlsFiles {
  cert: string;
  key: string;
  ca: string;
  /** tls-auth-clients: `yes` requires a client certificate signed by `ca` (mutual TLS). Default no. */
  authClients?: 'yes' | 'no' | 'optional';
}

/**
 * One PING over a raw socket (over TLS with `tls`, presenting the server's own certificate as the
 * client's and verifying nothing): true when the server answers +PONG within `timeoutMs`.
 */
export function ping(port: number, timeoutMs = 500, tls?: RedisTlsFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const sock: Socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, cert: readFileSync(tls.cert), key: readFileSync(tls.key) })
      : createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('error', () => done(false));
    sock.once(tls ? 'secureConnect' : 'connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, SIGKILL after 3 s) and waits for it to exit; restart() may follow. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** The server is running (between start/restart and stop). */
  readonly running: boolean;
}

async function waitExit(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

export interface RedisServerOptions {
  /** Serve TLS only (`--port 0 --tls-port PORT`); the URL is then rediss://. */
  tls?: RedisTlsFiles;
  /** A config file, passed first (e.g. a sentinel.conf with `args: ['--sentinel']`). */
  configFile?: string;
  /** More redis-server arguments, e.g. ['--cluster-enabled', 'yes']. */
  args?: string[];
}

/**
 * Spawns a private, non-persistent redis-server on a free loopback port in a temporary directory
 * and waits until it answers PING.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<PrivateRedis> {
  const { tls, configFile, args = [] } = options;
  const dir = await mkdtemp(path.join(tmpdir(), 'iwtest-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let log = '';

  const spawnServer = async (): Promise<void> => {
    log = '';
    await mkdir(dir, { recursive: true });
    const listen = tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', tls.authClients ?? 'no']
      : ['--port', String(port)];
    const c = spawn('redis-server', [...(configFile ? [configFile] : []), '--save', '', '--appendonly', 'no', ...listen, '--bind', '127.0.0.1', '--dir', dir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const failed = new Promise<Error>((resolve) => {
      c.once('error', resolve);
      c.once('exit', (code, sig) => resolve(new Error(`redis-server exited (${code ?? sig}) on port ${port}:\n${log}`)));
    });
    child = c;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const outcome = await Promise.race([ping(port, 500, tls).then((ok) => (ok ? 'up' : 'down')), failed]);
      if (outcome === 'up') return;
      if (outcome instanceof Error) {
        child = null;
        throw outcome;
      }
      if (Date.now() > deadline) {
        await waitExit(c, 1_000);
        child = null;
        throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${log}`);
      }
      await sleep(25);
    }
  };

  const stopServer = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c) await waitExit(c, 3_000);
  };

  await spawnServer();
  return {
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== null;
    },
    stop: async () => {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopServer();
      // The port can stay briefly unavailable; retry a few times.
      for (let i = 0; ; i++) {
        try {
          await spawnServer();
          return;
        } catch (err) {
          if (i >= 20) throw err;
          await sleep(100);
        }
      }
    },
  };
}

/** A plain node-redis client for inspecting and tampering with keys in tests. */
export async function openClient(url: string = SHARED_REDIS_URL) {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export type TestRedisClient = Awaited<ReturnType<typeof openClient>>;

/** Deletes every key under `prefix` (SCAN + DEL); for cleaning the shared server. */
export async function deletePrefix(client: TestRedisClient, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const r = await client.scan(cursor, { MATCH: `${prefix}:*`, COUNT: 500 });
    cursor = String(r.cursor);
    if (r.keys.length > 0) await client.del(r.keys);
  } while (cursor !== '0');
}

/**
 * Waits until every node of a freshly created cluster reports cluster_state:ok: the first node
 * can be ready before the others, and a client's first command may land on any of them.
 * `cli` holds extra redis-cli arguments (TLS).
 */
export async function waitClusterOk(ports: number[], cli: string[] = [], timeoutMs = 15_000): Promise<void> {
  const ok = (port: number): boolean => spawnSync('redis-cli', [...cli, '-p', String(port), 'CLUSTER', 'INFO'], { encoding: 'utf8', timeout: 5_000 }).stdout.includes('cluster_state:ok');
  const deadline = Date.now() + timeoutMs;
  while (!ports.every(ok)) {
    if (Date.now() > deadline) throw new Error(`the cluster on ports ${ports.join(', ')} did not reach cluster_state:ok on every node within ${timeoutMs} ms`);
    await sleep(100);
  }
}
