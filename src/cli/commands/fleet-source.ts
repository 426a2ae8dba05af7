/**
 * What `status` and `history` read from: the jobs file's settings, the coordination store (for
 * running locks) and the fleet store (records and heartbeats), opened without a scheduler.
 * Redis that can't be reached is an UNAVAILABLE error, not a long wait.
 */
import type { CoordinationStore } from '../../coordination/store.js';
import { IamwatchError } from '../../errors.js';
import type { JobsFile } from '../../jobsfile/job.js';
import { stateDir } from '../../observe/fleet/file-fleet.js';
import type { FleetStore } from '../../observe/fleet/fleet-store.js';
import type { Logger } from '../../observe/log-types.js';
import { redactUrl } from '../../observe/redact.js';
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
  const [{ openStore }, { openFleet }] = await Promise.all([import('../../coordination/open-store.js'), import('../../observe/fleet/open-fleet.js')]);
  const store = await openStore(settings.redisUrl, settings.prefix, silent, { stateDir: stateDir(jobsFile.file), jobsFile: jobsFile.file, connectWaitMs: o.connectWaitMs ?? 3_000, redisTls: settings.redisTls });
  if (store.kind === 'redis') {
    const { connection } = store as CoordinationStore & { connection: { isReady: boolean } };
    if (!connection.isReady) {
      await store.close();
      throw new IamwatchError('UNAVAILABLE', `Redis at ${redactUrl(settings.redisUrl ?? '')} is not reachable`);
    }
  }
  const fleet = openFleet(store, settings, jobsFile.file, jobsFile.jobs.length);
  return { jobsFile, store, fleet, close: () => store.close() };
}
