/**
 * What `status` and `history` read from: the jobs file's settings, the coordination store (for
 * running locks) and the fleet store (records and heartbeats), opened without a scheduler.
 * Redis that can't be reached is an UNAVAILABLE error, not a long wait.
 */
import type { CoordinationStore } from '../../coordination/store.js';
import { IamwatchError } from '../../base/errors.js';
import type { JobsFile } from '../../jobsfile/job.js';
import { stateDir } from '../../coordination/embedded/state-dir.js';
import { retentionOf, type FleetStore } from '../../coordination/fleet-store.js';
import type { Logger } from '../../base/logger.js';
import { configFrom, loadValidJobsFile } from '../load.js';
import { printDiagnostics } from '../output.js';

export interface FleetSource {
  jobsFile: JobsFile;
  store: CoordinationStore;
  fleet: FleetStore;
  close(): Promise<void>;
}

const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

export async function openFleetSource(o: { config?: string; plugin?: string[]; connectWaitMs?: number }): Promise<FleetSource> {
  const { jobsFile } = await loadValidJobsFile(configFrom(o), (jf) => printDiagnostics(jf.diagnostics.filter((d) => d.severity === 'error')));
  const { settings } = jobsFile;
  const { openStore } = await import('../../coordination/open-store.js');
  const store = await openStore(settings.redisUrl, settings.prefix, silent, { stateDir: stateDir(jobsFile.file), jobsFile: jobsFile.file, connectWaitMs: o.connectWaitMs ?? 3_000, redisTls: settings.redisTls });
  if (!store.connected) {
    await store.close();
    throw new IamwatchError('UNAVAILABLE', `${store.description.label} is not reachable`);
  }
  const fleet = store.fleet(retentionOf(settings));
  return { jobsFile, store, fleet, close: () => store.close() };
}

/** Opens the fleet source for `fn` and closes it after, however `fn` ends. */
export async function withFleetSource<T>(o: { config?: string; plugin?: string[] }, fn: (src: FleetSource) => Promise<T>): Promise<T> {
  const src = await openFleetSource(o);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}
