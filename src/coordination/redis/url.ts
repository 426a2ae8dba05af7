/**
 * Redis URLs, including the multi-host forms WHATWG URL rejects:
 * redis://[user:pass@]host:port[/db], rediss://..., redis+sentinel://[user:pass@]h1:p1[,h2:p2]/MASTER,
 * redis+cluster://[user:pass@]h1:p1[,h2:p2]. Pure.
 */
export type RedisScheme = 'redis' | 'rediss' | 'redis+sentinel' | 'redis+cluster';

export interface RedisUrl {
  scheme: RedisScheme;
  hosts: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  /** The path after the hosts: the database number, or the sentinel master's name. */
  path: string;
}

const SCHEMES: readonly RedisScheme[] = ['redis', 'rediss', 'redis+sentinel', 'redis+cluster'];

/** Parses a Redis URL, or returns an error message. */
export function parseRedisUrl(text: string): RedisUrl | string {
  const m = /^([a-z+]+):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]*)(?:\/([^?#]*))?$/i.exec(text);
  if (!m) return /^[\w.-]+(:\d+)?$/.test(text) ? `not a URL: write redis://${text}` : 'not a Redis URL (expected redis://host:6379)';
  const scheme = m[1]!.toLowerCase() as RedisScheme;
  if (!SCHEMES.includes(scheme)) return `unsupported scheme "${m[1]}:" (expected ${SCHEMES.map((s) => `${s}://`).join(', ')})`;
  const hosts: RedisUrl['hosts'] = [];
  for (const hp of (m[4] || '').split(',')) {
    const h = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hp);
    if (!h) return `bad host "${hp}"`;
    hosts.push({ host: h[1]!.replace(/^\[|\]$/g, ''), port: Number(h[2] ?? (scheme === 'redis+sentinel' ? 26379 : 6379)) });
  }
  if ((scheme === 'redis' || scheme === 'rediss') && hosts.length > 1) return `${scheme}:// takes one host; use redis+cluster:// or redis+sentinel:// for several`;
  if (scheme === 'redis+sentinel' && !m[5]) return 'redis+sentinel:// URLs name the master: redis+sentinel://host:26379[,host2:26379]/mymaster';
  return {
    scheme,
    hosts,
    username: m[2] ? decodeURIComponent(m[2]) : undefined,
    password: m[3] !== undefined ? decodeURIComponent(m[3]) : undefined,
    path: m[5] ?? '',
  };
}
