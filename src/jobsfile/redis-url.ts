/**
 * Redis URLs, including the multi-host forms WHATWG URL rejects:
 * redis://[user:pass@]host:port[/db], rediss://..., redis+sentinel://[user:pass@]h1:p1[,h2:p2]/MASTER,
 * redis+cluster://[user:pass@]h1:p1[,h2:p2], each with optional TLS parameters
 * (?ca=FILE&cert=FILE&key=FILE&servername=NAME, and tls=yes for Sentinel and Cluster), and how
 * those parameters combine with the REDIS_TLS_* settings. Pure.
 */
import { parseUrlParams } from '../base/url-params.js';

export type RedisScheme = 'redis' | 'rediss' | 'redis+sentinel' | 'redis+cluster';

/** TLS parameters of a Redis URL: PEM file paths (ca, cert, key) and the name to verify. */
export interface RedisTlsParams {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

export interface RedisUrl {
  scheme: RedisScheme;
  hosts: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  /** The path after the hosts: the database number, or the sentinel master's name. */
  path: string;
  /** The connection uses TLS: rediss://, or tls=yes on a Sentinel or Cluster URL. */
  tls: boolean;
  /** TLS parameters given in the URL's query. */
  params: RedisTlsParams;
}

const SCHEMES: readonly RedisScheme[] = ['redis', 'rediss', 'redis+sentinel', 'redis+cluster'];
const FILE_PARAMS = ['ca', 'cert', 'key'] as const;
/** Every query parameter a Redis URL may take. */
export const REDIS_URL_PARAMS = ['ca', 'cert', 'key', 'servername', 'tls'] as const;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Parses a Redis URL, or returns an error message. */
export function parseRedisUrl(text: string): RedisUrl | string {
  const m = /^([a-z+]+):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(text);
  if (!m) return /^[\w.-]+(:\d+)?$/.test(text) ? `not a URL: write redis://${text}` : 'not a Redis URL (expected redis://host:6379)';
  const scheme = m[1]!.toLowerCase() as RedisScheme;
  if (!SCHEMES.includes(scheme)) return `unsupported scheme "${m[1]}:" (expected ${SCHEMES.map((s) => `${s}://`).join(', ')})`;
  const hosts: RedisUrl['hosts'] = [];
  for (const hp of (m[4] || '').split(',')) {
    const h = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hp);
    if (!h || Number(h[2] ?? 0) > 65_535) return `bad host "${hp}"`;
    hosts.push({ host: h[1]!.replace(/^\[|\]$/g, ''), port: Number(h[2] ?? (scheme === 'redis+sentinel' ? 26379 : 6379)) });
  }
  const single = scheme === 'redis' || scheme === 'rediss';
  if (single && hosts.length > 1) return `${scheme}:// takes one host; use redis+cluster:// or redis+sentinel:// for several`;
  if (single && m[5] && !/^\d{1,5}$/.test(m[5])) return `the path of a ${scheme}:// URL is the database number, e.g. ${scheme}://host:6379/0`;
  if (scheme === 'redis+sentinel' && !m[5]) return 'redis+sentinel:// URLs name the master: redis+sentinel://host:26379[,host2:26379]/mymaster';
  const query = parseQuery(scheme, m[6]);
  if (typeof query === 'string') return query;
  return {
    scheme,
    hosts,
    username: m[2] ? decodeURIComponent(m[2]) : undefined,
    password: m[3] !== undefined ? decodeURIComponent(m[3]) : undefined,
    path: m[5] ?? '',
    tls: scheme === 'rediss' || query.tls,
    params: query.params,
  };
}

function parseQuery(scheme: RedisScheme, query: string | undefined): { tls: boolean; params: RedisTlsParams } | string {
  const params: RedisTlsParams = {};
  let tls: boolean | undefined;
  const pairs = parseUrlParams(query ?? '', REDIS_URL_PARAMS, example);
  if (typeof pairs === 'string') return pairs;
  for (const [name, value] of pairs) {
    if (name === 'tls') {
      if (!/^(yes|no|true|false|1|0)$/i.test(value)) return `URL parameter tls takes yes or no, not "${value}"`;
      tls = /^(yes|true|1)$/i.test(value);
    } else if (name === 'servername') {
      if (!HOST_NAME.test(value)) return `URL parameter servername must be a host name such as redis.internal, not "${value}"`;
      params.servername = value;
    } else {
      params[name as (typeof FILE_PARAMS)[number]] = value;
    }
  }
  const given = Object.keys(params);
  if (scheme === 'redis' || scheme === 'rediss') {
    if (tls === true && scheme === 'redis') return 'tls=yes on a redis:// URL: use rediss:// for TLS';
    if (tls === false && scheme === 'rediss') return 'tls=no on a rediss:// URL: use redis:// for a plain connection';
    if (scheme === 'redis' && given.length > 0) return `TLS parameters (${given.join(', ')}) on a redis:// URL, which is plain TCP: use rediss://`;
    return { tls: scheme === 'rediss', params };
  }
  if (!tls && given.length > 0) return `TLS parameters (${given.join(', ')}) on a ${scheme}:// URL without tls=yes: add tls=yes to connect over TLS`;
  return { tls: tls === true, params };
}

function example(name: string): string {
  switch (name) {
    case 'tls':
      return 'tls=yes';
    case 'servername':
      return 'servername=redis.internal';
    default:
      return `${name}=/etc/iamwatch/redis-${name}.pem`;
  }
}

/** A TLS file to read, and where its path came from (`REDIS_TLS_CA`, `REDIS_URL parameter ca`). */
export interface TlsFile {
  path: string;
  source: string;
}

/** The TLS of a Redis connection once the URL's parameters and the REDIS_TLS_* settings are combined. */
export interface ResolvedRedisTls {
  ca?: TlsFile;
  cert?: TlsFile;
  key?: TlsFile;
  servername?: { name: string; source: string };
}

const SETTING_OF = { ca: 'REDIS_TLS_CA', cert: 'REDIS_TLS_CERT', key: 'REDIS_TLS_KEY', servername: 'REDIS_TLS_SERVERNAME' } as const;

/**
 * Combines a parsed URL's TLS parameters with the REDIS_TLS_* settings (a URL parameter wins over
 * the setting of the same meaning). Returns null for a plain connection, or an error message:
 * TLS settings with a plain URL, or a client certificate without its key (or the reverse).
 */
export function resolveRedisTls(url: RedisUrl, settings: RedisTlsParams = {}): ResolvedRedisTls | null | string {
  const fromSettings = (Object.keys(SETTING_OF) as Array<keyof typeof SETTING_OF>).filter((k) => settings[k] !== undefined && settings[k] !== '');
  if (!url.tls) {
    if (fromSettings.length === 0) return null;
    const names = fromSettings.map((k) => SETTING_OF[k]).join(', ');
    return url.scheme === 'redis'
      ? `${names} ${fromSettings.length > 1 ? 'are' : 'is'} set but REDIS_URL is redis://, which is plain TCP: use rediss:// (or unset ${names})`
      : `${names} ${fromSettings.length > 1 ? 'are' : 'is'} set but REDIS_URL has no tls=yes: add ?tls=yes to the ${url.scheme}:// URL (or unset ${names})`;
  }
  const out: ResolvedRedisTls = {};
  for (const k of FILE_PARAMS) {
    const fromUrl = url.params[k];
    const fromSetting = settings[k];
    if (fromUrl !== undefined) out[k] = { path: fromUrl, source: `REDIS_URL parameter ${k}` };
    else if (fromSetting) out[k] = { path: fromSetting, source: SETTING_OF[k] };
  }
  if (url.params.servername !== undefined) out.servername = { name: url.params.servername, source: 'REDIS_URL parameter servername' };
  else if (settings.servername) out.servername = { name: settings.servername, source: SETTING_OF.servername };
  if (out.cert && !out.key) return `${out.cert.source} is set without a key: mutual TLS needs both (set REDIS_TLS_KEY or the key= URL parameter)`;
  if (out.key && !out.cert) return `${out.key.source} is set without a certificate: mutual TLS needs both (set REDIS_TLS_CERT or the cert= URL parameter)`;
  return out;
}
