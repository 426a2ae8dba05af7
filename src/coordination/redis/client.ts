/**
 * Connecting to Redis through node-redis: redis:// and rediss:// (TLS, ACL user:password),
 * redis+sentinel://host:port[,host:port]/MASTER and redis+cluster://host:port[,host:port].
 * Commands fail fast while disconnected (no offline queue) and time out, so a claim is never
 * sent late: callers treat a failure as "no claim" and skip the occurrence.
 */
import { createClient, createCluster, createSentinel } from '@redis/client';
import { IamwatchError } from '../../errors.js';
import { parseRedisUrl } from './url.js';

export type RedisArg = string;

/** The little of a Redis connection the store needs, whatever the topology. */
export interface RedisConnection {
  /** Runs a command; `key` routes it in a cluster. */
  send(args: RedisArg[], key: string, timeoutMs?: number): Promise<unknown>;
  readonly isReady: boolean;
  /** Resolves true once connected, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
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
}

const reconnectStrategy = (retries: number): number => Math.min(100 * 2 ** retries, 5_000) + Math.floor(Math.random() * 100);

export function connectRedis(rawUrl: string, opts: ConnectOptions): RedisConnection {
  const url = parseRedisUrl(rawUrl);
  if (typeof url === 'string') throw new IamwatchError('INVALID_INPUT', `REDIS_URL: ${url}`);
  const timeout = opts.commandTimeoutMs ?? 2_000;
  const credentials = { username: url.username, password: url.password };
  const socket = { reconnectStrategy, connectTimeout: 5_000 };

  if (url.scheme === 'redis' || url.scheme === 'rediss') {
    const client = createClient({ url: rawUrl, disableOfflineQueue: true, socket, pingInterval: 10_000 });
    client.on('error', opts.onError);
    if (opts.onReady) client.on('ready', opts.onReady);
    client.connect().catch(opts.onError);
    return {
      send: (args, _key, ms = timeout) => client.sendCommand(args, { timeout: ms }),
      get isReady() {
        return client.isReady;
      },
      ready: (ms) => waitReady(() => client.isReady, client, ms),
      close: async () => {
        if (client.isReady) await client.close().catch(() => client.destroy());
        else if (client.isOpen) client.destroy();
      },
    };
  }
  if (url.scheme === 'redis+sentinel') {
    const sentinel = createSentinel({ name: url.path, sentinelRootNodes: url.hosts, nodeClientOptions: { ...credentials, disableOfflineQueue: true, socket } });
    sentinel.on('error', opts.onError);
    sentinel.connect().then(() => opts.onReady?.(), opts.onError);
    return {
      send: (args, _key, ms = timeout) => sentinel.sendCommand(false, args, { timeout: ms }),
      get isReady() {
        return sentinel.isReady;
      },
      ready: (ms) => waitReady(() => sentinel.isReady, sentinel as never, ms),
      close: async () => {
        if (sentinel.isReady) await sentinel.close().catch(() => sentinel.destroy());
        else if (sentinel.isOpen) sentinel.destroy();
      },
    };
  }
  // redis+cluster://
  const cluster = createCluster({ rootNodes: url.hosts.map((n) => ({ socket: { ...n, reconnectStrategy } })), defaults: { ...credentials, disableOfflineQueue: true } });
  cluster.on('error', opts.onError);
  let ready = false;
  const connected = cluster.connect().then(() => {
    ready = true;
    opts.onReady?.();
    return true;
  }, (err: Error) => {
    opts.onError(err);
    return false;
  });
  return {
    send: (args, key, ms = timeout) => cluster.sendCommand(key, false, args, { timeout: ms }),
    get isReady() {
      return ready;
    },
    ready: (ms) => Promise.race([connected, new Promise<boolean>((r) => setTimeout(() => r(ready), ms))]),
    close: async () => {
      await cluster.close().catch(() => cluster.destroy());
    },
  };
}
