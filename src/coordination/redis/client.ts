/**
 * Connecting to Redis through node-redis: redis:// and rediss:// (TLS, ACL user:password),
 * redis+sentinel://host:port[,host:port]/MASTER and redis+cluster://host:port[,host:port], the
 * last two over TLS with ?tls=yes. TLS files (CA, client certificate and key) and the server name
 * come from the URL's parameters or the REDIS_TLS_* settings, and are read when connecting.
 * Commands fail fast while disconnected (no offline queue) and time out, so a claim is never
 * sent late: callers treat a failure as "no claim" and skip the occurrence.
 */
import { createClient, createCluster, createSentinel } from '@redis/client';
import { IamwatchError } from '../../base/errors.js';
import { explainTlsError, loadRedisTls } from './tls.js';
import { parseRedisUrl, resolveRedisTls, type RedisTlsParams } from '../../jobsfile/redis-url.js';

export type RedisArg = string;

/** The little of a Redis connection the store needs, whatever the topology. */
export interface RedisConnection {
  /** Runs a command; `key` routes it in a cluster. */
  send(args: RedisArg[], key: string, timeoutMs?: number): Promise<unknown>;
  readonly isReady: boolean;
  /** Redis Cluster: every key of one command (one script call) must be in one hash slot. */
  readonly cluster: boolean;
  /** Resolves true once connected, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** `connection` with `send` replaced, everything else passed through: for wrappers (deadlines, budgets). */
export function withSend(connection: RedisConnection, send: RedisConnection['send']): RedisConnection {
  return {
    send,
    get isReady() {
      return connection.isReady;
    },
    get cluster() {
      return connection.cluster;
    },
    ready: (ms) => connection.ready(ms),
    close: () => connection.close(),
  };
}

function waitReady(isReady: () => boolean, emitter: { once(e: 'ready', f: () => void): unknown; off(e: 'ready', f: () => void): unknown }, timeoutMs: number): Promise<boolean> {
  if (isReady()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      emitter.off('ready', onReady);
      resolve(isReady());
    }, timeoutMs);
    emitter.once('ready', onReady);
  });
}

export interface ConnectOptions {
  onError: (err: Error) => void;
  onReady?: () => void;
  commandTimeoutMs?: number;
  /** The REDIS_TLS_* settings; the URL's own parameters override them. */
  tls?: RedisTlsParams;
}

const reconnectStrategy = (retries: number): number => Math.min(100 * 2 ** retries, 5_000) + Math.floor(Math.random() * 100);

/**
 * Connects in the background and returns at once; `ready()` waits for the first connection.
 * Throws INVALID_INPUT for a bad URL, TLS settings that do not fit it, or an unreadable TLS file.
 */
export function connectRedis(rawUrl: string, opts: ConnectOptions): RedisConnection {
  const url = parseRedisUrl(rawUrl);
  if (typeof url === 'string') throw new IamwatchError('INVALID_INPUT', `REDIS_URL: ${url}`);
  const resolved = resolveRedisTls(url, opts.tls);
  if (typeof resolved === 'string') throw new IamwatchError('INVALID_INPUT', resolved);
  const tls = resolved ? loadRedisTls(resolved) : undefined;
  const onError = tls ? (err: Error): void => opts.onError(explainTlsError(err, tls.servername)) : opts.onError;
  const timeout = opts.commandTimeoutMs ?? 2_000;
  const credentials = { username: url.username, password: url.password };
  const socket = { reconnectStrategy, connectTimeout: 5_000, ...tls };

  if (url.scheme === 'redis' || url.scheme === 'rediss') {
    const client = createClient({
      ...credentials,
      ...(url.path ? { database: Number(url.path) } : {}),
      socket: { ...socket, host: url.hosts[0]!.host, port: url.hosts[0]!.port },
      disableOfflineQueue: true,
      pingInterval: 10_000,
    });
    client.on('error', onError);
    if (opts.onReady) client.on('ready', opts.onReady);
    client.connect().catch(onError);
    return {
      send: (args, _key, ms = timeout) => client.sendCommand(args, { timeout: ms }),
      get isReady() {
        return client.isReady;
      },
      cluster: false,
      ready: (ms) => waitReady(() => client.isReady, client, ms),
      close: async () => {
        if (client.isReady) await client.close().catch(() => client.destroy());
        else if (client.isOpen) client.destroy();
      },
    };
  }
  if (url.scheme === 'redis+sentinel') {
    // Sentinels and the nodes they name share the TLS settings.
    const sentinel = createSentinel({
      name: url.path,
      sentinelRootNodes: url.hosts,
      nodeClientOptions: { ...credentials, disableOfflineQueue: true, socket },
      ...(tls ? { sentinelClientOptions: { socket } } : {}),
    });
    sentinel.on('error', onError);
    sentinel.connect().then(() => opts.onReady?.(), onError);
    return {
      send: (args, _key, ms = timeout) => sentinel.sendCommand(false, args, { timeout: ms }),
      get isReady() {
        return sentinel.isReady;
      },
      cluster: false,
      ready: (ms) => waitReady(() => sentinel.isReady, sentinel as never, ms),
      close: async () => {
        if (sentinel.isReady) await sentinel.close().catch(() => sentinel.destroy());
        else if (sentinel.isOpen) sentinel.destroy();
      },
    };
  }
  // redis+cluster://
  const cluster = createCluster({
    rootNodes: url.hosts.map((n) => ({ socket: { ...socket, ...n } })),
    defaults: { ...credentials, disableOfflineQueue: true, ...(tls ? { socket } : {}) },
  });
  cluster.on('error', onError);
  let ready = false;
  const connected = cluster.connect().then(() => {
    ready = true;
    opts.onReady?.();
    return true;
  }, (err: Error) => {
    onError(err);
    return false;
  });
  return {
    send: (args, key, ms = timeout) => cluster.sendCommand(key, false, args, { timeout: ms }),
    get isReady() {
      return ready;
    },
    cluster: true,
    ready: (ms) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(ready), ms);
        void connected.then((ok) => {
          clearTimeout(timer);
          resolve(ok);
        });
      }),
    close: async () => {
      await cluster.close().catch(() => cluster.destroy());
    },
  };
}
