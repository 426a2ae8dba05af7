/**
 * File-wide settings: variable lines such as `REDIS_URL=...` that configure the run. A setting's
 * value comes from the jobs file, else from the environment, else its default. Every value is
 * checked wherever it comes from: the parser reports a bad value in the file at its line and
 * column, and a bad value in the environment against the file being loaded, both in one form,
 * `NAME (source): problem`. Nothing falls back to a default because a value did not parse.
 * Other variables are plain crontab variables: they expand in later lines and reach `exec`
 * commands' environment. Pure.
 */
import { parseRedisUrl } from './redis-url.js';
import { coerceOption, type OptionDecl } from './options.js';
import { checkUrl } from './url-check.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

interface SettingDecl {
  description: string;
  option?: OptionDecl;
  check?: (text: string) => string | null;
}

const filePath = (what: string): SettingDecl['check'] => (text) => (/^\s|\s$/.test(text) ? `${what} must not start or end with spaces` : null);

export const SETTINGS = {
  CRON_TZ: { description: 'Default IANA time zone for the job lines below it (crontab convention).' },
  REDIS_URL: {
    description: 'Redis for fleet coordination (redis://, rediss://, redis+sentinel://, redis+cluster://). Unset: the embedded store, one machine only.',
    check: (text) => {
      const url = parseRedisUrl(text);
      return typeof url === 'string' ? url : null;
    },
  },
  REDIS_TLS_CA: { description: 'PEM file of the CA that signed the Redis server\'s certificate (rediss://).', check: filePath('REDIS_TLS_CA') },
  REDIS_TLS_CERT: { description: 'PEM client certificate for Redis mutual TLS (with REDIS_TLS_KEY).', check: filePath('REDIS_TLS_CERT') },
  REDIS_TLS_KEY: { description: 'PEM private key of the Redis client certificate (with REDIS_TLS_CERT).', check: filePath('REDIS_TLS_KEY') },
  REDIS_TLS_SERVERNAME: {
    description: 'Server name to verify the Redis certificate against (SNI), when it differs from the host in REDIS_URL.',
    check: (text) => (/^[A-Za-z0-9.-]+$/.test(text) ? null : 'expected a host name such as redis.internal'),
  },
  DATABASE_URL: {
    description: 'Database for watchers: mysql://user:pass@host:3306/db, or sqlite:./file.sqlite (the default).',
    check: (text) => (text.startsWith('sqlite:') ? (text === 'sqlite:' ? 'sqlite: needs a path, e.g. sqlite:./iamwatch.sqlite' : null) : checkUrl(['mysql:', 'mariadb:'], 'mysql://user:password@host:3306/database')(text)),
  },
  IAMWATCH_PREFIX: {
    description: 'Prefix of every Redis key (default iamwatch).',
    check: (text) => (/^[A-Za-z0-9_.:-]+$/.test(text) ? null : 'use letters, digits, _ . : and - only'),
  },
  IAMWATCH_LOG_LEVEL: {
    description: 'Lowest level logged: trace, debug, info (the default), warn, error, fatal or silent.',
    option: { type: 'enum', values: LOG_LEVELS, description: '', default: 'info' },
  },
  PLUGINS: { description: 'Comma-separated module paths of watcher plugins, relative to the jobs file.' },
  PLUGIN_TIMEOUT: { description: 'How long loading one plugin module may take (default 10s).', option: { type: 'duration', min: 1, max: 600_000, description: '', default: 10_000 } },
  SHUTDOWN_TIMEOUT: { description: 'How long a graceful shutdown waits for running jobs before aborting them (default 3m).', option: { type: 'duration', description: '', default: 180_000 } },
  MAX_CLOCK_SKEW: { description: 'Refuse to claim occurrences when this clock is further than this from Redis (default 5s).', option: { type: 'duration', min: 1, max: 50_000, description: '', default: 5_000 } },
  HISTORY_LIMIT: { description: 'Run records kept per job (default 1000).', option: { type: 'int', min: 1, max: 1_000_000, description: '', default: 1000 } },
  HISTORY_MAX_AGE: { description: 'Run records older than this are dropped (default 30d).', option: { type: 'duration', min: 1_000, description: '', default: 30 * 86_400_000 } },
  METRICS_ADDR: {
    description: 'host:port for the Prometheus /metrics and /healthz endpoint.',
    check: checkAddr,
  },
  NOTIFY_URL: { description: 'Webhook that receives a JSON event when a run fails (user:password@ is sent as basic auth).', check: checkUrl(['http:', 'https:'], 'https://hooks.example.com/path') },
} satisfies Record<string, SettingDecl>;

/** host:port with a port from 0 to 65535; an empty host (":9464") listens on every interface. */
export function checkAddr(text: string): string | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]*):(\d{1,5})$/.exec(text);
  return m && Number(m[2]) <= 65_535 ? null : 'expected host:port with a port up to 65535, e.g. 127.0.0.1:9464';
}

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
    return 'error' in r ? r.error.replace(new RegExp(`^${name}(: | )`), '') : null;
  }
  return null;
}

export type SettingSource = 'jobs file' | 'environment';

/** The one form of a message about a setting: `NAME (source): problem`. */
export function settingProblem(name: string, source: SettingSource | string, problem: string): string {
  return `${name} (${source}): ${problem}`;
}

/**
 * Settings the jobs file leaves to the environment whose environment value is invalid, as
 * messages. An empty value means unset, as in crontab.
 */
export function checkEnvironmentSettings(fromFile: Record<string, string>, env: Record<string, string | undefined>): Array<{ name: SettingName; message: string }> {
  const problems: Array<{ name: SettingName; message: string }> = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (name === 'CRON_TZ' || Object.hasOwn(fromFile, name)) continue;
    const value = env[name];
    if (value === undefined || value === '') continue;
    const problem = checkSetting(name, value);
    if (problem !== null) problems.push({ name, message: settingProblem(name, 'environment', problem) });
  }
  return problems;
}

export interface RedisTls {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

export interface Settings {
  redisUrl?: string;
  redisTls: RedisTls;
  databaseUrl?: string;
  prefix: string;
  logLevel: LogLevel;
  plugins: string[];
  pluginTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxClockSkewMs: number;
  historyLimit: number;
  historyMaxAgeMs: number;
  metricsAddr?: string;
  notifyUrl?: string;
}

/**
 * Builds the settings from file values, falling back to the environment. Values are checked by
 * the parser (which refuses to go on with any error); a value that is still invalid here is kept
 * as written for the text settings, so whatever uses it fails loudly instead of quietly falling
 * back to a default (an unparsable REDIS_URL must never mean "no Redis").
 */
export function resolveSettings(fromFile: Record<string, string>, env: Record<string, string | undefined>): Settings {
  const get = (name: SettingName): string | undefined => {
    const v = Object.hasOwn(fromFile, name) ? fromFile[name] : env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const option = (name: SettingName): number | string => {
    const decl = (SETTINGS[name] as SettingDecl).option!;
    const text = get(name);
    const r = text === undefined ? undefined : coerceOption(name, decl, text);
    return r && 'value' in r ? (r.value as number | string) : (decl.default as number | string);
  };
  const num = (name: SettingName): number => option(name) as number;
  return {
    redisUrl: get('REDIS_URL'),
    redisTls: { ca: get('REDIS_TLS_CA'), cert: get('REDIS_TLS_CERT'), key: get('REDIS_TLS_KEY'), servername: get('REDIS_TLS_SERVERNAME') },
    databaseUrl: get('DATABASE_URL'),
    prefix: get('IAMWATCH_PREFIX') ?? 'iamwatch',
    logLevel: option('IAMWATCH_LOG_LEVEL') as LogLevel,
    plugins: (get('PLUGINS') ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    pluginTimeoutMs: num('PLUGIN_TIMEOUT'),
    shutdownTimeoutMs: num('SHUTDOWN_TIMEOUT'),
    maxClockSkewMs: num('MAX_CLOCK_SKEW'),
    historyLimit: num('HISTORY_LIMIT'),
    historyMaxAgeMs: num('HISTORY_MAX_AGE'),
    metricsAddr: get('METRICS_ADDR'),
    notifyUrl: get('NOTIFY_URL'),
  };
}
