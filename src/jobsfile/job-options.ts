/** Options every job line may carry, whatever its watcher. */
import type { OptionDecls } from './options.js';

export const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export const COMMON_OPTIONS = {
  name: { type: 'string', pattern: JOB_NAME_PATTERN, description: 'Job id (letters, digits, _ . -); defaults to the watcher name; unique in the file.' },
  tz: { type: 'string', description: 'IANA time zone for cron schedules (default: CRON_TZ above the line, else UTC).' },
  timeout: { type: 'duration', description: 'Abort a run that takes longer than this.' },
  overlap: { type: 'enum', values: ['allow', 'skip'], default: 'allow', description: 'skip: an occurrence that comes while the job runs anywhere in the fleet is skipped.' },
  misfire: { type: 'enum', values: ['skip', 'once'], default: 'skip', description: 'once: after the whole fleet was down, run the latest missed occurrence a single time.' },
  retries: { type: 'int', min: 0, max: 100, default: 0, description: 'Retry a failed run this many times within the same occurrence.' },
  'retry-delay': { type: 'duration', default: 1000, description: 'Wait between retries.' },
  'lock-ttl': { type: 'duration', min: 1000, max: 86_400_000, default: 30_000, description: 'Running-lock lifetime; renewed every third of it while the run lasts.' },
  enabled: { type: 'bool', default: true, description: 'false: keep the job in the file without scheduling it.' },
  jitter: { type: 'duration', description: 'Start each occurrence up to this much after its time, by an offset from the job name and the occurrence (the same on every instance); at most the time between occurrences.' },
  'dry-run': { type: 'bool', default: false, description: 'Report what the run would change, change nothing.' },
  notify: { type: 'url', protocols: ['http:', 'https:'], description: 'Webhook URL for this job (overrides NOTIFY_URL); user:password@ is sent as basic auth.' },
  'notify-on': { type: 'enum', values: ['failure', 'always'], default: 'failure', description: 'always: also notify on success.' },
  ping: { type: 'url', protocols: ['http:', 'https:'], description: 'Check-in URL pinged when a run starts, succeeds and fails (healthchecks.io, Cronitor).' },
  'ping-style': { type: 'enum', values: ['healthchecks', 'cronitor'], default: 'healthchecks', description: 'healthchecks: URL/start, URL, URL/fail; cronitor: URL?state=run|complete|fail.' },
} as const satisfies OptionDecls;

export type CommonOptionName = keyof typeof COMMON_OPTIONS;
