/** `clean`: delete policy_audit rows whose deletedAt is older than max-reserve-days, in batches. */
import { defineWatcher } from './define-watcher.js';

export const clean = defineWatcher({
  name: 'clean',
  description: 'Delete policy_audit rows deleted more than max-reserve-days ago, in primary-key batches.',
  database: true,
  options: {
    'max-reserve-days': { type: 'int', min: 1, max: 36_500, default: 180, description: 'Keep rows deleted within this many days.' },
    'batch-size': { type: 'int', min: 1, max: 100_000, default: 5000, description: 'Rows per DELETE statement.' },
  },
  async run(ctx) {
    const { purgePolicyAudit } = await import('../db/housekeeping.js');
    return purgePolicyAudit(ctx.db, { maxReserveDays: ctx.options['max-reserve-days'], batchSize: ctx.options['batch-size'], dryRun: ctx.dryRun, signal: ctx.signal, log: ctx.log });
  },
});
