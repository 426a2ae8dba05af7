/** `cleansecret`: delete secrets that expired more than grace-days ago (expires = 0 never expires). */
import { defineWatcher } from './define-watcher.js';

export const cleansecret = defineWatcher({
  name: 'cleansecret',
  description: 'Delete secrets whose expiry is older than now minus grace-days, in batches.',
  database: true,
  options: {
    'grace-days': { type: 'int', min: 0, max: 36_500, default: 0, description: 'Keep expired secrets this many days.' },
    'batch-size': { type: 'int', min: 1, max: 100_000, default: 5000, description: 'Rows per DELETE statement.' },
  },
  async run(ctx) {
    const { deleteExpiredSecrets } = await import('../db/housekeeping.js');
    return deleteExpiredSecrets(ctx.db, { graceDays: ctx.options['grace-days'], batchSize: ctx.options['batch-size'], dryRun: ctx.dryRun, signal: ctx.signal, log: ctx.log });
  },
});
