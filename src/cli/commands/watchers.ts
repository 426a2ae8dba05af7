/**
 * `iamwatch watchers [WATCHER]`: every watcher this jobs file can use — the built-ins and the
 * plugins it loads (PLUGINS=, --plugin) — with its description and options (type, default,
 * whether required, range or values, description), and once, the options every job takes.
 * A jobs file is optional: without -c, $IAMWATCH_CONFIG or ./watchers.conf it lists the
 * built-ins and the --plugin modules. Returns data; renderWatchers() makes the text.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { IamwatchError } from '../../base/errors.js';
import { didYouMean } from '../../base/suggest.js';
import { COMMON_OPTIONS } from '../../jobsfile/job-options.js';
import type { OptionDecl, OptionDecls } from '../../jobsfile/options.js';
import { checkSetting, resolveSettings, settingProblem } from '../../jobsfile/settings.js';
import { formatDuration } from '../../schedule/duration.js';
import { BUILTIN_WATCHERS, WatcherRegistry } from '../../watchers/registry.js';
import { checkTrusted, configFrom, configPath, loadJobsFile, type ConfigFlags } from '../load.js';

export interface OptionInfo {
  name: string;
  type: OptionDecl['type'];
  required: boolean;
  /** The default as written in a jobs file (`10s`, `180`, `false`), or null. */
  default: string | null;
  /** Bounds of int and duration options, as written in a jobs file, or null. */
  min: string | null;
  max: string | null;
  /** The values an enum option takes, or null. */
  values: string[] | null;
  /** The URL schemes a url option takes (`https:`), or null. */
  protocols: string[] | null;
  /** The pattern a string option must match, or null. */
  pattern: string | null;
  description: string;
}

export interface WatcherInfo {
  name: string;
  description: string;
  source: 'built-in' | 'plugin';
  /** Runs against DATABASE_URL. */
  database: boolean;
  options: OptionInfo[];
}

export interface WatchersReport {
  /** The jobs file whose PLUGINS were loaded, or null when there was none. */
  file: string | null;
  watchers: WatcherInfo[];
  /** Options every job line takes, whatever its watcher. */
  commonOptions: OptionInfo[];
}

export interface WatchersOptions extends ConfigFlags {
  /** Only this watcher. */
  watcher?: string;
}

const text = (decl: OptionDecl, value: unknown): string => (decl.type === 'duration' && typeof value === 'number' ? formatDuration(value) : String(value));

export function describeOptions(decls: OptionDecls): OptionInfo[] {
  return Object.entries(decls).map(([name, d]) => {
    const bounded = d.type === 'int' || d.type === 'duration';
    return {
      name,
      type: d.type,
      required: d.required === true,
      default: d.default === undefined ? null : text(d, d.default),
      min: bounded && d.min !== undefined ? text(d, d.min) : null,
      max: bounded && d.max !== undefined ? text(d, d.max) : null,
      values: d.type === 'enum' ? [...d.values] : null,
      protocols: d.type === 'url' ? [...d.protocols] : null,
      pattern: d.type === 'string' && d.pattern ? d.pattern.source : null,
      description: d.description,
    };
  });
}

/** The registry a command line describes: the jobs file's (with its plugins), or the built-ins plus --plugin. */
async function registryFor(o: WatchersOptions): Promise<{ registry: WatcherRegistry; file: string | null }> {
  if (o.config !== undefined || process.env.IAMWATCH_CONFIG !== undefined || existsSync(configPath(undefined))) {
    const { jobsFile, registry } = await loadJobsFile(configFrom(o));
    return { registry, file: jobsFile.file };
  }
  const registry = new WatcherRegistry();
  const plugins = (o.plugin ?? []).map((p) => path.resolve(p));
  if (plugins.length > 0) {
    const timeout = process.env.PLUGIN_TIMEOUT || undefined;
    const problem = timeout === undefined ? null : checkSetting('PLUGIN_TIMEOUT', timeout);
    if (problem) throw new IamwatchError('INVALID_INPUT', settingProblem('PLUGIN_TIMEOUT', 'environment', problem));
    if (!o.allowWritableConfig) for (const p of plugins) await checkTrusted(p, 'plugin');
    const { loadPlugins } = await import('../../watchers/plugins.js');
    await loadPlugins(registry, plugins, resolveSettings({}, process.env).pluginTimeoutMs);
  }
  return { registry, file: null };
}

export async function listWatchers(o: WatchersOptions): Promise<WatchersReport> {
  const { registry, file } = await registryFor(o);
  const names = registry.names();
  if (o.watcher !== undefined && !names.includes(o.watcher)) {
    const hint = didYouMean(o.watcher, names);
    throw new IamwatchError('USAGE', `unknown watcher "${o.watcher}"${hint ? `: ${hint}` : ''} (watchers: ${names.join(', ')}; plugins load with --plugin PATH or PLUGINS= in the jobs file)`);
  }
  const builtins = new Set<unknown>(BUILTIN_WATCHERS);
  const watchers = (o.watcher === undefined ? names : [o.watcher]).map((name): WatcherInfo => {
    // A plugin may be a plain object without defineWatcher's defaults.
    const w = registry.get(name)!;
    return { name, description: w.description ?? '', source: builtins.has(w) ? 'built-in' : 'plugin', database: w.database === true, options: describeOptions(w.options ?? {}) };
  });
  return { file, watchers, commonOptions: describeOptions(COMMON_OPTIONS) };
}

type Paint = { bold(s: string): string; cyan(s: string): string; dim(s: string): string };

function rangeOf(o: OptionInfo): string {
  if (o.values) return o.values.join('|');
  if (o.protocols) return `${o.protocols.join(' or ')} URL`;
  if (o.min !== null && o.max !== null) return `${o.min}..${o.max}`;
  if (o.min !== null) return `>= ${o.min}`;
  if (o.max !== null) return `<= ${o.max}`;
  return '';
}

function optionTable(options: OptionInfo[], table: (header: string[], rows: string[][]) => string): string {
  const rows = options.map((o) => [o.name, o.type, o.default ?? '', o.required ? 'yes' : '', rangeOf(o), o.description]);
  return table(['OPTION', 'TYPE', 'DEFAULT', 'REQUIRED', 'RANGE/VALUES', 'DESCRIPTION'], rows)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export function renderWatchers(report: WatchersReport, c: Paint, table: (header: string[], rows: string[][]) => string): string {
  const parts = report.watchers.map((w) => {
    const what = [w.source, ...(w.database ? ['uses DATABASE_URL'] : [])].join(', ');
    const head = `${c.cyan(c.bold(w.name))} ${c.dim(`(${what})`)}${w.description ? `\n  ${w.description}` : ''}`;
    return `${head}\n${w.options.length > 0 ? optionTable(w.options, table) : c.dim('  no options of its own')}`;
  });
  parts.push(`${c.bold('Options every job takes')}\n${optionTable(report.commonOptions, table)}`);
  return parts.join('\n\n');
}
