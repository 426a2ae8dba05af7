/**
 * File-wide settings: variable lines such as `REDIS_URL=...` that configure the run. A setting's
 * value comes from the jobs file, else from the environment, else its default. Other variables are
 * plain crontab variables: they expand in later lines and reach `exec` commands' environment.
 */
import { parseRedisUrl } from '../coordination/redis/url.js';
import { coerceOption, type OptionDecl } from './options.js';

const urlOf = (protocols: string[]) => (text: string): string | null => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: expected ${protocols.map((p) => `${p}//...`).join(' or ')}`;
  }
  if (!text.includes('//')) return `not a URL: write ${protocols[0]}//${text}`;
  return protocols.includes(url.protocol) ? null : `unsupported scheme "${url.protocol}" (expected ${protocols.join(' ')})`;
};

interface SettingDecl {
  description: string;
  option?: OptionDecl;
  check?: (text: string) => string | null;
}

export const SETTINGS = {
  CRON_TZ: { description: 'Default IANA time zone for the job lines below it (crontab convention).' },
  REDIS_URL: {
    description: 'Redis for fleet coordination (redis://, rediss://, redis+sentinel://, redis+cluster://). Unset: in-process locks, one instance only.',
    check: (text) => {
      const url = parseRedisUrl(text);
      return typeof url === 'string' ? url : null;
    },
  },
  DATABASE_URL: {
    description: 'Database for watchers: mysql://user:pass@host:3306/db, or sqlite:./file.sqlite (the default).',
    check: (text) => (text.startsWith('sqlite:') ? null : urlOf(['mysql:', 'mariadb:'])(text)),
  },
  IAMWATCH_PREFIX: {
    description: 'Prefix of every Redis key (default iamwatch).',
    check: (text) => (/^[A-Za-z0-9_.:-]+$/.test(text) ? null : 'use letters, digits, _ . : and - only'),
  },
  PLUGINS: { description: 'Comma-separated module paths of watcher plugins, relative to the jobs file.' },
  SHUTDOWN_TIMEOUT: { description: 'How long a graceful shutdown waits for running jobs (default 3m).', option: { type: 'duration', description: '', default: 180_000 } },
  MAX_CLOCK_SKEW: { description: 'Refuse to claim occurrences when this clock is further than this from Redis (default 5s).', option: { type: 'duration', description: '', default: 5_000 } },
  HISTORY_LIMIT: { description: 'Run records kept per job (default 1000).', option: { type: 'int', min: 1, max: 1_000_000, description: '', default: 1000 } },
  HISTORY_MAX_AGE: { description: 'Run records older than this are dropped (default 30d).', option: { type: 'duration', description: '', default: 30 * 86_400_000 } },
  METRICS_ADDR: {
    description: 'host:port for the Prometheus /metrics and /healthz endpoint.',
    check: (text) => (/^[^\s:]*:\d{1,5}$/.test(text) ? null : 'expected host:port, e.g. 127.0.0.1:9464'),
  },
  NOTIFY_URL: { description: 'Webhook that receives a JSON event when a run fails.', check: urlOf(['http:', 'https:']) },
} satisfies Record<string, SettingDecl>;

export type SettingName = keyof typeof SETTINGS;

export function isSetting(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}

/** Returns an error message, or null when `text` is a valid value for the setting. */
export function checkSetting(name: SettingName, text: string): string | null {
  const decl: SettingDecl = SETTINGS[name];
  if (decl.check) return decl.check(text);
  if (decl.option) {
    const r = coerceOption(name, decl.option, text);
    return 'error' in r ? r.error : null;
  }
  return null;
}

export interface Settings {
  redisUrl?: string;
  databaseUrl?: string;
  prefix: string;
  plugins: string[];
  shutdownTimeoutMs: number;
  maxClockSkewMs: number;
  historyLimit: number;
  historyMaxAgeMs: number;
  metricsAddr?: string;
  notifyUrl?: string;
}

/** Builds the settings from file values, falling back to the environment; values are assumed checked. */
export function resolveSettings(fromFile: Record<string, string>, env: Record<string, string | undefined>): Settings {
  const get = (name: SettingName): string | undefined => {
    const v = fromFile[name] ?? env[name];
    return v === undefined || v === '' || checkSetting(name, v) !== null ? undefined : v;
  };
  const num = (name: SettingName): number => {
    const decl: SettingDecl = SETTINGS[name];
    const r = coerceOption(name, decl.option!, get(name) ?? '');
    return 'value' in r ? (r.value as number) : (decl.option!.default as number);
  };
  return {
    redisUrl: get('REDIS_URL'),
    databaseUrl: get('DATABASE_URL'),
    prefix: get('IAMWATCH_PREFIX') ?? 'iamwatch',
    plugins: (get('PLUGINS') ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    shutdownTimeoutMs: num('SHUTDOWN_TIMEOUT'),
    maxClockSkewMs: num('MAX_CLOCK_SKEW'),
    historyLimit: num('HISTORY_LIMIT'),
    historyMaxAgeMs: num('HISTORY_MAX_AGE'),
    metricsAddr: get('METRICS_ADDR'),
    notifyUrl: get('NOTIFY_URL'),
  };
}
