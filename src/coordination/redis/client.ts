/**
 * Connecting to Redis through node-redis: redis:// and rediss:// (TLS, ACL user:password),
 * redis+sentinel://host:port[,host:port]/MASTER and redis+cluster://host:port[,host:port].
 * Commands fail fast while disconnected (no offline queue) and time out, so a claim is never
 * sent late: callers treat a failure as "no claim" and skip the occurrence.
 */
import { createClient, createCluster, createSentinel } from '@redis/client';
import { IamwatchError } from '../../errors.js';

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

function hostsOf(url: URL, raw: string): Array<{ host: string; port: number }> {
  // new URL() keeps only the first host; read the comma-separated list from the raw text.
  const authority = raw.slice(raw.indexOf('//') + 2).split('/')[0]!.split('@').pop()!;
  return authority.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host: host || url.hostname, port: Number(port || 6379) };
  });
}

export function connectRedis(rawUrl: string, opts: ConnectOptions): RedisConnection {
  const url = new URL(rawUrl);
  const timeout = opts.commandTimeoutMs ?? 2_000;
  const credentials = {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
  const socket = { reconnectStrategy, connectTimeout: 5_000 };

  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
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
  if (url.protocol === 'redis+sentinel:') {
    const name = url.pathname.replace(/^\//, '');
    if (!name) throw new IamwatchError('INVALID_INPUT', 'redis+sentinel:// URLs name the master: redis+sentinel://host:26379,host2:26379/mymaster');
    const sentinel = createSentinel({ name, sentinelRootNodes: hostsOf(url, rawUrl), nodeClientOptions: { ...credentials, disableOfflineQueue: true, socket } });
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
  if (url.protocol === 'redis+cluster:') {
    const cluster = createCluster({ rootNodes: hostsOf(url, rawUrl).map((n) => ({ socket: { ...n, reconnectStrategy } })), defaults: { ...credentials, disableOfflineQueue: true } });
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
  throw new IamwatchError('INVALID_INPUT', `unsupported Redis URL scheme ${url.protocol} (redis://, rediss://, redis+sentinel://, redis+cluster://)`);
}
